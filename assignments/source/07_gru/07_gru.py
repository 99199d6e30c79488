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
# # Assignment 7: the GRU step
#
# Goes with Chapter 7. In `torch.nn.GRU`'s convention (gates reset, update, candidate,
# stacked in the rows of `W_ih` (3H, input) and `W_hh` (3H, H)):
#
# $$\begin{aligned}
# r &= \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}), &
# z &= \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}), \\
# n &= \tanh\big(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})\big), &
# h' &= (1 - z) \odot n + z \odot h.
# \end{aligned}$$
#
# | part | function | points |
# | --- | --- | --- |
# | A | `gru_step(x_t, h, W_ih, W_hh, b_ih, b_hh)` | 4 |
# | B | `run_gru(x, h0, gru)` | 2 |
#
# Write your code where it says `YOUR CODE HERE`; do not call `nn.GRU` or
# `nn.GRUCell` in your answers. The checks in each test cell give quick feedback;
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
# `x_t` is (B, input), `h` is (B, H); return the new `h`, (B, H). Mind where the
# reset gate acts: on the recurrent product *after* it is computed, bias included.

# %% nbgrader={"grade": false, "grade_id": "gru_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gru_step(x_t, h, W_ih, W_hh, b_ih, b_hh):
    """One GRU step in nn.GRU's convention: the new h."""
    ### BEGIN SOLUTION
    x_r, x_z, x_n = (x_t @ W_ih.T + b_ih).chunk(3, dim=-1)
    h_r, h_z, h_n = (h @ W_hh.T + b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_gru_step", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_gru_step", lambda c: gru_step(c["x_t"], c["h"], c["W_ih"], c["W_hh"],
                                                  c["b_ih"], c["b_hh"]))
### END HIDDEN TESTS
h = torch.ones(1, 2)
check_close(gru_step(torch.zeros(1, 3), h, torch.zeros(6, 3), torch.zeros(6, 2), torch.zeros(6),
                     torch.zeros(6)),
            0.5 * h, "z = 1/2 and a zero candidate halve the state")

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_b_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B: a whole sequence (2 points)
#
# `x` is (B, T, input), `h0` is (B, H) and `gru` a one-layer `nn.GRU` with
# `batch_first=True`. Use `gru_step` with `gru.weight_ih_l0`, `gru.weight_hh_l0`,
# `gru.bias_ih_l0` and `gru.bias_hh_l0`, and return the states of every step, (B, T, H),
# and the last one, (B, H).

# %% nbgrader={"grade": false, "grade_id": "run_gru", "locked": false, "schema_version": 3, "solution": true, "task": false}
def run_gru(x, h0, gru):
    """All states (B, T, H) and the last one (B, H)."""
    ### BEGIN SOLUTION
    h, states = h0, []
    for t in range(x.shape[1]):
        h = gru_step(x[:, t], h, gru.weight_ih_l0, gru.weight_hh_l0, gru.bias_ih_l0,
                     gru.bias_hh_l0)
        states.append(h)
    return torch.stack(states, dim=1), h
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_run_gru", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_run_gru",
               lambda c: run_gru(c["x"], c["h0"], _grader.torch_layer("gru", c["gru"])))
### END HIDDEN TESTS
small = nn.GRU(2, 3, batch_first=True)
states, last = run_gru(torch.zeros(1, 4, 2), torch.zeros(1, 3), small)
check_close(states[:, -1], last, "the last state is the last row of the states")
