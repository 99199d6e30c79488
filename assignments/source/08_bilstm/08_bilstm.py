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
# # Assignment 8: a bidirectional LSTM over padded batches
#
# Goes with Chapter 8. A bidirectional layer runs one LSTM left to right and another
# right to left over the same sequence, and puts their states side by side:
#
# $$\overrightarrow{h}_t = \mathrm{LSTM}_\rightarrow(x_1, \dots, x_t), \qquad
# \overleftarrow{h}_t = \mathrm{LSTM}_\leftarrow(x_n, \dots, x_t), \qquad
# h_t = [\overrightarrow{h}_t ; \overleftarrow{h}_t].$$
#
# In a padded batch `x` (B, T, D) row `b` holds `lengths[b]` real steps, then padding
# up to T. "Right to left" starts at each row's *own* last real step $x_n$, not at
# position T - 1, and the padding must change nothing.
#
# | part | function | points |
# | --- | --- | --- |
# | A | `reverse_padded(x, lengths)` | 2 |
# | B | `bidirectional_lstm(x, lengths, forward, backward)` | 4 |
#
# Write your code where it says `YOUR CODE HERE`; do not call `nn.LSTM`,
# `nn.LSTMCell`, `pack_padded_sequence` or `seqlm.bilstm` in your answers. The checks
# in each test cell give quick feedback; the grade comes from the grader, which calls
# your function on inputs it draws when it grades and compares every answer with
# `torch.nn`'s (warnings never fail a part). Restart and run all before you submit.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqlm.exercises import check_close

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_a_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A: reversing the real steps (2 points)
#
# `x` is (B, T, D) and `lengths` a (B,) tensor of integers between 1 and T. Return a
# tensor like `x` in which row `b`'s first `lengths[b]` steps come in reverse order and
# every position from `lengths[b]` on keeps its value. Two rows `1 2 3 4 5` with
# lengths 5 and 3 become `5 4 3 2 1` and `3 2 1 4 5`. Do not change `x` itself.

# %% nbgrader={"grade": false, "grade_id": "reverse_padded", "locked": false, "schema_version": 3, "solution": true, "task": false}
def reverse_padded(x, lengths):
    """Each row's real steps reversed, its padding left where it is: (B, T, D)."""
    ### BEGIN SOLUTION
    out = x.clone()
    for b, n in enumerate(lengths.tolist()):
        out[b, :n] = x[b, :n].flip(0)
    return out
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_reverse_padded", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_reverse_padded", lambda c: reverse_padded(c["x"], c["lengths"]))
### END HIDDEN TESTS
rows = torch.arange(1, 6).float().repeat(2, 1)[..., None]          # (2, 5, 1): 1 2 3 4 5 twice
lengths = torch.tensor([5, 3])
flipped = reverse_padded(rows, lengths)
check_close(flipped[..., 0], torch.tensor([[5.0, 4, 3, 2, 1], [3, 2, 1, 4, 5]]),
            "the real steps reversed, the padding in place")
check_close(reverse_padded(flipped, lengths), rows, "reversing twice gives x back")
check_close(rows[..., 0], torch.arange(1, 6).float().repeat(2, 1), "x itself is unchanged")

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_b_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B: a masked, padded bidirectional layer (4 points)
#
# `forward` and `backward` are dicts of one direction's weights, in `nn.LSTM`'s layout
# (gates i, f, g, o): `W_ih` (4H, D), `W_hh` (4H, H), `b_ih` and `b_hh` (4H,). Return
# the outputs (B, T, 2H): at each real step t of row b, the forward LSTM's state after
# reading steps 0 … t, then the backward LSTM's state after reading steps
# `lengths[b] - 1` down to t. Both start from zero states (h and c), and every output
# at a padded position is 0: what `nn.LSTM(D, H, bidirectional=True)` gives on a batch
# packed with `pack_padded_sequence`. Write the LSTM step yourself (Assignment 6's), in
# this cell, and use your `reverse_padded`. The padding may hold anything: it must not
# change the outputs. `lstm_weights` below gives a dict from an `nn.LSTM`, for your own
# tests.

# %% nbgrader={"grade": false, "grade_id": "helpers", "locked": true, "schema_version": 3, "solution": false, "task": false}
def lstm_weights(layer, suffix=""):
    """One direction's weights of a one-layer nn.LSTM ("" or "_reverse"), as a dict."""
    names = {"W_ih": "weight_ih", "W_hh": "weight_hh", "b_ih": "bias_ih", "b_hh": "bias_hh"}
    return {k: getattr(layer, f"{name}_l0{suffix}").detach() for k, name in names.items()}

# %% nbgrader={"grade": false, "grade_id": "bidirectional_lstm", "locked": false, "schema_version": 3, "solution": true, "task": false}
def bidirectional_lstm(x, lengths, forward, backward):
    """[forward states ; backward states] (B, T, 2H), zero at padded positions."""
    ### BEGIN SOLUTION
    B, T, _ = x.shape
    real = (torch.arange(T)[None, :] < lengths[:, None])[..., None]    # (B, T, 1)

    def run(inputs, w):                                                # one direction
        h = c = inputs.new_zeros(B, w["W_hh"].shape[1])
        states = []
        for t in range(T):
            gates = inputs[:, t] @ w["W_ih"].T + w["b_ih"] + h @ w["W_hh"].T + w["b_hh"]
            i, f, g, o = gates.chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            states.append(h)
        return torch.where(real, torch.stack(states, dim=1), 0.0)

    ahead = run(x, forward)
    behind = reverse_padded(run(reverse_padded(x, lengths), backward), lengths)
    return torch.cat([ahead, behind], dim=-1)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_bidirectional_lstm", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_bidirectional_lstm",
               lambda c: bidirectional_lstm(c["x"], c["lengths"], c["forward"], c["backward"]))
### END HIDDEN TESTS
torch.manual_seed(0)
layer = nn.LSTM(2, 3, batch_first=True, bidirectional=True)
x, lengths = torch.randn(3, 4, 2), torch.tensor([4, 2, 1])
out = bidirectional_lstm(x, lengths, lstm_weights(layer), lstm_weights(layer, "_reverse"))
packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
want, _ = pad_packed_sequence(layer(packed)[0], batch_first=True, total_length=4)
check_close(out, want.detach(), "nn.LSTM(bidirectional=True) on the packed batch", atol=1e-5)
junk = x.clone()
junk[1, 2:], junk[2, 1:] = 100.0, -100.0                          # garbage in the padding
check_close(bidirectional_lstm(junk, lengths, lstm_weights(layer), lstm_weights(layer, "_reverse")),
            out, "the padding changes nothing", atol=1e-6)
