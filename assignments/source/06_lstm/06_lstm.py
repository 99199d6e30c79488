# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Assignment 6: the LSTM step
#
# Goes with Chapter 6. With `torch.nn.LSTM`'s layout (gates input, forget, candidate,
# output, stacked in the rows of `W_ih` (4H, input) and `W_hh` (4H, H)):
#
# $$\begin{aligned}
# i &= \sigma(W_{ii} x + b_{ii} + W_{hi} h + b_{hi}), &
# f &= \sigma(W_{if} x + b_{if} + W_{hf} h + b_{hf}), \\
# g &= \tanh(W_{ig} x + b_{ig} + W_{hg} h + b_{hg}), &
# o &= \sigma(W_{io} x + b_{io} + W_{ho} h + b_{ho}), \\
# c' &= f \odot c + i \odot g, & h' &= o \odot \tanh(c').
# \end{aligned}$$
#
# | part | function | points |
# | --- | --- | --- |
# | A | `lstm_step(x_t, h, c, W_ih, W_hh, b_ih, b_hh)` | 4 |
# | B | `run_lstm(x, lstm)` | 2 |
#
# Write your code where it says `YOUR CODE HERE`; do not call `nn.LSTM` or
# `nn.LSTMCell` in your answers. The checks in each test cell give quick feedback;
# the grade comes from the grader, which calls your function on inputs it draws when
# it grades and compares every answer with `torch.nn`'s (warnings never fail a
# part). Restart and run all before you submit.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import torch
from torch import nn

from seqlm.exercises import check_close

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_a_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A: one step (4 points)
#
# `x_t` is (B, input), `h` and `c` are (B, H); return the new `(h, c)`, each (B, H).

# %% nbgrader={"grade": false, "grade_id": "lstm_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def lstm_step(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step in nn.LSTM's gate order: the new (h, c)."""
    ### BEGIN SOLUTION
    i, f, g, o = (x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_lstm_step", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_lstm_step", lambda c: lstm_step(c["x_t"], c["h"], c["c"], c["W_ih"],
                                                    c["W_hh"], c["b_ih"], c["b_hh"]))
### END HIDDEN TESTS
zero = torch.zeros(1, 2)
h_new, c_new = lstm_step(torch.zeros(1, 3), zero, torch.ones(1, 2), torch.zeros(8, 3),
                         torch.zeros(8, 2), torch.zeros(8), torch.zeros(8))
check_close(c_new, torch.full((1, 2), 0.5), "every gate at 0.5, a zero candidate: c' = c / 2")
check_close(h_new, 0.5 * torch.tanh(torch.full((1, 2), 0.5)), "h' = o tanh(c')")

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_b_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B: a whole sequence (2 points)
#
# `x` is (B, T, input) and `lstm` a one-layer `nn.LSTM` with `batch_first=True`.
# Starting from zero states, use `lstm_step` with `lstm.weight_ih_l0`, `lstm.weight_hh_l0`,
# `lstm.bias_ih_l0` and `lstm.bias_hh_l0`, and return the hidden states of every step
# (B, T, H) and the last `(h, c)`, each (B, H).

# %% nbgrader={"grade": false, "grade_id": "run_lstm", "locked": false, "schema_version": 3, "solution": true, "task": false}
def run_lstm(x, lstm):
    """All hidden states (B, T, H) and the last (h, c)."""
    ### BEGIN SOLUTION
    B, T, _ = x.shape
    h = c = x.new_zeros(B, lstm.hidden_size)
    states = []
    for t in range(T):
        h, c = lstm_step(x[:, t], h, c, lstm.weight_ih_l0, lstm.weight_hh_l0,
                         lstm.bias_ih_l0, lstm.bias_hh_l0)
        states.append(h)
    return torch.stack(states, dim=1), (h, c)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_run_lstm", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_run_lstm",
               lambda c: run_lstm(c["x"], _grader.torch_layer("lstm", c["lstm"])))
### END HIDDEN TESTS
small = nn.LSTM(2, 3, batch_first=True)
states, (last_h, last_c) = run_lstm(torch.zeros(1, 4, 2), small)
check_close(states[:, -1], last_h, "the last hidden state is the last row of the states")
