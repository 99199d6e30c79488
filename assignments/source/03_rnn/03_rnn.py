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
# # Assignment 3: the Elman recurrent network
#
# Goes with Chapter 3. You will run a recurrent network from the weights of a
# `torch.nn.RNN`, one step at a time:
#
# $$h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}).$$
#
# | part | function | points |
# | --- | --- | --- |
# | A | `elman_step(x_t, h_prev, W_ih, W_hh, b_ih, b_hh)` | 3 |
# | B | `run_rnn(x, h0, rnn)` | 2 |
#
# Write your code where it says `YOUR CODE HERE`. The checks in each test cell
# give quick feedback; the grade comes from the grader, which calls your function
# on inputs it draws when it grades and compares every answer with the
# reference (warnings never fail a part). Restart and run all before you submit.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import torch
from torch import nn

from seqlm.exercises import check_close

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_a_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A: one step (3 points)
#
# `x_t` is (B, input), `h_prev` is (B, H); the weights have `nn.RNN`'s shapes:
# `W_ih` (H, input), `W_hh` (H, H), `b_ih` and `b_hh` (H,). Return $h_t$, (B, H).

# %% nbgrader={"grade": false, "grade_id": "elman_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def elman_step(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One step of the Elman cell: (B, H)."""
    ### BEGIN SOLUTION
    return torch.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_elman_step", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_elman_step", lambda c: elman_step(c["x_t"], c["h_prev"], c["W_ih"],
                                                    c["W_hh"], c["b_ih"], c["b_hh"]))
### END HIDDEN TESTS
zero = torch.zeros(1, 2)
check_close(elman_step(zero, zero, torch.eye(2), torch.eye(2), torch.zeros(2), torch.zeros(2)),
            zero, "a zero input and state stay at zero")

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_b_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B: a whole sequence (2 points)
#
# `x` is (B, T, input), `h0` is (B, H) and `rnn` a one-layer `nn.RNN` with
# `batch_first=True`. Use `elman_step` with the weights `rnn.weight_ih_l0`,
# `rnn.weight_hh_l0`, `rnn.bias_ih_l0`, `rnn.bias_hh_l0`, and return the states
# of every step, (B, T, H), and the last state, (B, H).

# %% nbgrader={"grade": false, "grade_id": "run_rnn", "locked": false, "schema_version": 3, "solution": true, "task": false}
def run_rnn(x, h0, rnn):
    """All states (B, T, H) and the last one (B, H)."""
    ### BEGIN SOLUTION
    h, states = h0, []
    for t in range(x.shape[1]):
        h = elman_step(x[:, t], h, rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0,
                       rnn.bias_hh_l0)
        states.append(h)
    return torch.stack(states, dim=1), h
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_run_rnn", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_run_rnn", lambda c: run_rnn(c["x"], c["h0"], _grader.elman_rnn(c["rnn"])))
### END HIDDEN TESTS
small = nn.RNN(2, 3, batch_first=True)
states, last = run_rnn(torch.zeros(1, 4, 2), torch.zeros(1, 3), small)
check_close(states[:, -1], last, "the last state is the last row of the states")
