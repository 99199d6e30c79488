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
# # Assignment 8: pooling over padded batches, and a bidirectional classifier
#
# Goes with Chapter 8. A classifier reads a sequence with a bidirectional LSTM and
# summarises its states $h_1 \dots h_n$ (each $[\overrightarrow{h}_t ; \overleftarrow{h}_t]$)
# into one vector, for instance by their mean and their elementwise maximum. In a padded
# batch `states` (B, T, D) row `b` holds `lengths[b]` real steps and then padding up
# to T: the summary of a row must come from its real steps only, whatever the padding
# holds, and so must its gradient.
#
# | part | function | points |
# | --- | --- | --- |
# | A | `masked_pool(states, lengths)`: mean and maximum over the real steps | 2 |
# | B | `masked_pool_backward(states, lengths, d_mean, d_max)`, by hand | 3 |
# | C | `train_order_classifier(steps, seed)`: a packed bidirectional LSTM | 5 |
#
# Write your code where it says `YOUR CODE HERE`. **What the grader refuses:**
# anything of `seqlm` (in Part C, but `order_task`) in every part, and in Part B
# `torch.autograd`, `torch.func` and `.backward()`. The grader reads your code for
# these once your notebook has run; a part whose code uses one scores 0, whatever it
# returned, and so does code it cannot read (`eval`, `exec`, `importlib`, `getattr`
# with a computed name). The checks in each test cell give quick feedback; the grade
# comes from the grader, which calls your functions on inputs it draws when it grades
# (warnings never fail a part). Restart and run all before you submit.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqlm.exercises import check_close, grading, order_logits, order_task

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_a_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A: masked mean and max (2 points)
#
# `states` is (B, T, D) and `lengths` a (B,) tensor of integers between 1 and T. Return
# `(mean, largest)`, each (B, D): for each row, the mean and the elementwise maximum of
# its first `lengths[b]` steps. Padded positions may hold anything, even values larger
# than every real one; they must change nothing. Do not change `states`.

# %% nbgrader={"grade": false, "grade_id": "masked_pool", "locked": false, "schema_version": 3, "solution": true, "task": false}
def masked_pool(states, lengths):
    """The mean and the maximum of each row's real steps: two tensors (B, D)."""
    ### BEGIN SOLUTION
    T = states.shape[1]
    real = (torch.arange(T)[None, :] < lengths[:, None])[..., None]      # (B, T, 1)
    mean = torch.where(real, states, 0.0).sum(1) / lengths[:, None].to(states.dtype)
    largest = torch.where(real, states, -math.inf).amax(1)
    return mean, largest
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_masked_pool", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_masked_pool", lambda c: masked_pool(c["states"], c["lengths"]))
### END HIDDEN TESTS
rows = torch.arange(1.0, 6.0).repeat(2, 1)[..., None]               # (2, 5, 1): 1 2 3 4 5 twice
rows[1, 3:] = 100.0                                                  # junk in row 1's padding
mean, largest = masked_pool(rows, torch.tensor([5, 3]))
check_close(mean[:, 0], torch.tensor([3.0, 2.0]), "the means of 1 … 5 and of 1 2 3")
check_close(largest[:, 0], torch.tensor([5.0, 3.0]), "the padding's 100 is not a maximum")

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_b_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B: the gradient of the pooling (3 points)
#
# A loss depends on the two summaries; you are given `d_mean` and `d_max`, its
# gradients with respect to `mean` and `largest` (each (B, D)). Derive by hand and
# return $\partial L / \partial$ `states`, (B, T, D). Where does a padded position's
# gradient go? (The grader's real values have no ties.)

# %% nbgrader={"grade": false, "grade_id": "masked_pool_backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def masked_pool_backward(states, lengths, d_mean, d_max):
    """dL/dstates (B, T, D) from the gradients of the masked mean and maximum."""
    ### BEGIN SOLUTION
    B, T, D = states.shape
    real = (torch.arange(T)[None, :] < lengths[:, None])[..., None]      # (B, T, 1)
    d_states = torch.where(real, d_mean[:, None, :] / lengths[:, None, None].to(states.dtype),
                           0.0)
    winners = torch.where(real, states, -math.inf).argmax(1)            # (B, D)
    rows, features = torch.arange(B)[:, None], torch.arange(D)[None, :]
    d_states[rows, winners, features] += d_max
    return d_states
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_masked_pool_backward", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_masked_pool_backward",
               lambda c: masked_pool_backward(c["states"], c["lengths"], c["d_mean"], c["d_max"]))
### END HIDDEN TESTS
d_states = masked_pool_backward(rows, torch.tensor([5, 3]), torch.ones(2, 1), torch.zeros(2, 1))
check_close(d_states[:, :, 0], torch.tensor([[0.2] * 5, [1 / 3] * 3 + [0.0] * 2]),
            "the mean's gradient: 1 / length on the real steps, 0 on the padding")
d_states = masked_pool_backward(rows, torch.tensor([5, 3]), torch.zeros(2, 1), torch.ones(2, 1))
check_close(d_states[:, :, 0], torch.tensor([[0.0, 0, 0, 0, 1], [0.0, 0, 1, 0, 0]]),
            "the maximum's gradient: all of it to the largest real step")

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_c_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part C: a classifier that needs order and padding done right (5 points)
#
# `order_task(B, T, V, generator)` draws padded batches of tokens: each real part
# holds one token 1 and one token 2 among others, and the label is 1 when the 1 comes
# first; the padding holds any tokens, 1s and 2s included. A bag of words scores 50 %.
# The classifier: embeddings of size 16, `nn.LSTM(16, 16, batch_first=True,
# bidirectional=True)` run on the batch packed with `pack_padded_sequence` (so that the
# backward LSTM starts at each row's own last token) and padded back to T, your
# `masked_pool` of its outputs, `[mean ; largest]` (B, 64), and logits
# $W_{hy} [\cdot] + b_y$ over the two labels. Train it:
#
# 1. `generator = torch.Generator().manual_seed(seed)`, then `torch.manual_seed(seed)`
#    before building the `nn.LSTM`; the embedding from $N(0, 0.3^2)$ and $W_{hy}$ (2, 64)
#    from $N(0, 0.1^2)$, both drawn from the generator, $b_y = 0$;
# 2. at each of `steps` steps draw `x, lengths, y = order_task(64, 12, 10, generator)` and
#    take an Adam step (learning rate 0.01) on the mean cross-entropy.
#
# Return `{"embedding": (10, 16), "lstm": <the nn.LSTM's state_dict()>, "W_hy": (2, 64),
# "b_y": (2,)}`. The grader runs them (`order_logits` shows how) on 2,000 fresh rows:
# the accuracy must be at least 0.9.

# %% nbgrader={"grade": false, "grade_id": "train_order_classifier", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_order_classifier(steps, seed):
    """Embedding, packed bidirectional LSTM, masked mean and max, linear: trained weights."""
    ### BEGIN SOLUTION
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    lstm = nn.LSTM(16, 16, batch_first=True, bidirectional=True)
    embedding = (torch.randn(10, 16, generator=generator) * 0.3).requires_grad_()
    W_hy = (torch.randn(2, 64, generator=generator) * 0.1).requires_grad_()
    b_y = torch.zeros(2, requires_grad=True)
    optimizer = torch.optim.Adam([embedding, W_hy, b_y, *lstm.parameters()], lr=0.01)
    for _ in range(steps):
        x, lengths, y = order_task(64, 12, 10, generator)
        packed = pack_padded_sequence(embedding[x], lengths, batch_first=True,
                                      enforce_sorted=False)
        states, _ = pad_packed_sequence(lstm(packed)[0], batch_first=True, total_length=12)
        logits = torch.cat(masked_pool(states, lengths), dim=-1) @ W_hy.T + b_y
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"embedding": embedding.detach(), "W_hy": W_hy.detach(), "b_y": b_y.detach(),
            "lstm": {k: v.detach() for k, v in lstm.state_dict().items()}}
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_train_order_classifier", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_train_order_classifier",
               lambda c: train_order_classifier(c["steps"], c["seed"]))
### END HIDDEN TESTS
few = train_order_classifier(steps=2, seed=0)
x, lengths, y = order_task(4, 12, 10, torch.Generator().manual_seed(1))
check_close(torch.tensor(order_logits(few, x, lengths).shape), torch.tensor([4, 2]),
            "the grader's classifier runs on your weights: two scores per row")
check_close(torch.tensor(few["W_hy"].shape), torch.tensor([2, 64]), "W_hy is (2, 4H)")
check_close(float(len(few["lstm"])), 8.0, "both directions' four tensors")

# %% [markdown] nbgrader={"grade": false, "grade_id": "try_it_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# The cell below trains as the grader does and measures the accuracy the same way. It
# takes some seconds, and the grader skips it.

# %% nbgrader={"grade": false, "grade_id": "try_it", "locked": true, "schema_version": 3, "solution": false, "task": false}
if not grading():
    trained = train_order_classifier(steps=200, seed=0)
    x, lengths, y = order_task(2000, 12, 10, torch.Generator().manual_seed(1))
    accuracy = float((order_logits(trained, x, lengths).argmax(-1) == y).double().mean())
    print(f"accuracy {accuracy:.3f} (to pass: at least 0.9; a bag of words: about 0.5)")
