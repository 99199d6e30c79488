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
# # Assignment 9: ELMo's scalar mix and the biLM's loss
#
# Goes with Chapter 9. ELMo gives token k of a sequence L + 1 representations
# $h_{k,0}, \dots, h_{k,L}$, one from the biLM's token layer and one from each of its
# L LSTM layers, and a task mixes them with weights of its own (Peters et al. 2018,
# eq. 1):
#
# $$\mathrm{ELMo}_k = \gamma \sum_{j=0}^{L} s_j\, h_{k,j}, \qquad s = \mathrm{softmax}(w).$$
#
# The biLM itself is trained on a forward and a backward language model at once: on a
# window of tokens $t_1, \dots, t_T$, the forward LM's output at k predicts $t_{k+1}$
# and the backward LM's output at k predicts $t_{k-1}$.
#
# | part | function | points |
# | --- | --- | --- |
# | A | `scalar_mix(layers, w, gamma)` | 2 |
# | B | `joint_loss(forward_logits, backward_logits, targets)` | 3 |
#
# Write your code where it says `YOUR CODE HERE`; do not call `seqlm.elmo` in your
# answers. The checks in each test cell give quick feedback; the grade comes from the
# grader, which calls your function on inputs it draws when it grades and compares
# every answer with the reference (warnings never fail a part). Restart and run all
# before you submit.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

import torch
import torch.nn.functional as F

from seqlm.exercises import check_close

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_a_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A: the scalar mix (2 points)
#
# `layers` is a list of L + 1 tensors of the same shape (…, D) (any number of leading
# dimensions), `w` a tensor (L + 1,) of unnormalised weights, and `gamma` a 0-dim
# tensor. Return $\gamma \sum_j \mathrm{softmax}(w)_j\, h_j$, a tensor of the layers'
# shape.

# %% nbgrader={"grade": false, "grade_id": "scalar_mix", "locked": false, "schema_version": 3, "solution": true, "task": false}
def scalar_mix(layers, w, gamma):
    """gamma * sum_j softmax(w)_j * layers[j]: the layers' shape (..., D)."""
    ### BEGIN SOLUTION
    s = torch.softmax(w, dim=0)
    return gamma * sum(s_j * h for s_j, h in zip(s, layers))
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_scalar_mix", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_scalar_mix", lambda c: scalar_mix(c["layers"], c["w"], c["gamma"]))
### END HIDDEN TESTS
layers = [torch.full((2, 3), 1.0), torch.full((2, 3), 4.0)]
check_close(scalar_mix(layers, torch.zeros(2), torch.tensor(2.0)), torch.full((2, 3), 5.0),
            "w = 0 weighs the layers equally: 2 * (1 + 4) / 2")
check_close(scalar_mix(layers, torch.tensor([0.0, math.log(3)]), torch.tensor(1.0)),
            torch.full((2, 3), 3.25), "w = (0, log 3): s = (1/4, 3/4)")
from seqlm.elmo import ScalarMix                                     # the course's version

mix = ScalarMix(3)
with torch.no_grad():
    mix.w.copy_(torch.tensor([0.5, -1.0, 2.0]))
    mix.gamma.fill_(0.7)
    layers = [torch.randn(2, 4, 5) for _ in range(3)]
    check_close(scalar_mix(layers, mix.w, mix.gamma), mix(layers), "equal to ScalarMix",
                atol=1e-5)

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_b_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B: the biLM's joint loss (3 points)
#
# `forward_logits` and `backward_logits` are (B, T, V) scores over a vocabulary of V
# words, `targets` (B, T) the ids of the window's tokens (T ≥ 2). The forward LM's
# logits at position k predict `targets[:, k + 1]`, the backward LM's at position k
# predict `targets[:, k - 1]`. Return, in nats, the mean cross-entropy of the forward
# predictions (positions 0 … T - 2 against targets 1 … T - 1) plus the mean
# cross-entropy of the backward predictions (positions 1 … T - 1 against targets
# 0 … T - 2): a number or a 0-dim tensor. You may use `F.cross_entropy` or
# `F.log_softmax`.

# %% nbgrader={"grade": false, "grade_id": "joint_loss", "locked": false, "schema_version": 3, "solution": true, "task": false}
def joint_loss(forward_logits, backward_logits, targets):
    """Mean forward plus mean backward cross-entropy of a window, in nats."""
    ### BEGIN SOLUTION
    V = forward_logits.shape[-1]
    ahead = F.cross_entropy(forward_logits[:, :-1].reshape(-1, V), targets[:, 1:].reshape(-1))
    behind = F.cross_entropy(backward_logits[:, 1:].reshape(-1, V), targets[:, :-1].reshape(-1))
    return ahead + behind
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_joint_loss", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_joint_loss", lambda c: joint_loss(c["forward_logits"],
                                                      c["backward_logits"], c["targets"]))
### END HIDDEN TESTS
targets = torch.tensor([[0, 1, 2, 3]])
check_close(float(joint_loss(torch.zeros(1, 4, 5), torch.zeros(1, 4, 5), targets)),
            2 * math.log(5), "uniform scores: log V in each direction", rel=1e-6)
sure = 50.0 * F.one_hot(torch.tensor([[1, 2, 3, 0]]), 5).float()   # the next token, surely
check_close(float(joint_loss(sure, torch.zeros(1, 4, 5), targets)), math.log(5),
            "a forward LM that is sure of every next token costs nothing", atol=1e-6)
check_close(float(joint_loss(torch.zeros(1, 4, 5), sure, targets)), math.log(5) + 50.0,
            "sure of the next token is wrong for the backward LM", rel=1e-4)
from seqlm import elmo                                              # the course's version

f, b, t = torch.randn(2, 6, 7), torch.randn(2, 6, 7), torch.randint(0, 7, (2, 6))
check_close(float(joint_loss(f, b, t)), float(elmo.joint_loss(f, b, t)), "equal to seqlm's",
            rel=1e-5)
