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
# # Assignment 5: vanishing gradients and clipping
#
# Goes with Chapter 5. A recurrent layer $h_t = f(a_t)$, $a_t = W_{ih} x_t + W_{hh} h_{t-1} + b$
# passes gradients back through
#
# $$\frac{\partial h_T}{\partial h_s} = \mathrm{diag}\big(f'(a_T)\big) W_{hh} \cdots
# \mathrm{diag}\big(f'(a_{s+1})\big) W_{hh},
# \qquad \Big\lVert \frac{\partial h_T}{\partial h_s} \Big\rVert \le (\gamma\,\sigma_{\max})^{T-s}.$$
#
# | part | function | points |
# | --- | --- | --- |
# | A | `bound_rate(W_hh, activation)` | 2 |
# | B | `jacobian_norms(W_hh, a)` | 3 |
# | C | `clip_by_norm(grads, max_norm)` | 2 |
#
# Write your code where it says `YOUR CODE HERE`; do not call `torch.autograd` or
# `torch.nn.utils` in your answers. The checks in each test cell give quick
# feedback; the grade comes from the grader, which calls your function on inputs
# it draws when it grades and compares every answer with the course's reference
# (warnings never fail a part). Restart and run all before you submit.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import torch

from seqlm.exercises import check_close

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_a_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A: the bound's rate (2 points)
#
# Return $\gamma\,\sigma_{\max}(W_{hh})$ as a float: $\gamma$ is the largest slope of
# the activation (`"tanh"`, `"sigmoid"` or `"relu"`) and $\sigma_{\max}$ the largest
# singular value of `W_hh` (`torch.linalg.matrix_norm(W, ord=2)` computes it).
# Below 1, the gradient must vanish.

# %% nbgrader={"grade": false, "grade_id": "bound_rate", "locked": false, "schema_version": 3, "solution": true, "task": false}
def bound_rate(W_hh, activation):
    """gamma * sigma_max(W_hh), a float."""
    ### BEGIN SOLUTION
    gamma = {"tanh": 1.0, "sigmoid": 0.25, "relu": 1.0}[activation]
    return gamma * float(torch.linalg.matrix_norm(W_hh, ord=2))
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_bound_rate", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_bound_rate", lambda c: bound_rate(c["W_hh"], c["activation"]))
### END HIDDEN TESTS
check_close(bound_rate(2 * torch.eye(3), "sigmoid"), 0.5, "2 I with the sigmoid")

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_b_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B: the norms of the Jacobian products (3 points)
#
# A tanh layer was run for $T$ steps; `a` (T, H) holds its pre-activations
# $a_1 \dots a_T$ (row `t - 1` is $a_t$). Return a tensor (T,) whose entry `d - 1` is
# $\lVert \partial h_T / \partial h_{T-d} \rVert_2$, the norm at distance $d = 1 \dots T$,
# from the product above (latest step on the left; $\tanh'(a) = 1 - \tanh^2(a)$).

# %% nbgrader={"grade": false, "grade_id": "jacobian_norms", "locked": false, "schema_version": 3, "solution": true, "task": false}
def jacobian_norms(W_hh, a):
    """||dh_T/dh_{T-d}|| for d = 1 ... T: a tensor (T,)."""
    ### BEGIN SOLUTION
    T, H = a.shape
    product, norms = torch.eye(H, dtype=W_hh.dtype), []
    for t in reversed(range(T)):  # a_T first: each earlier factor goes on the right
        product = product @ (torch.diag(1 - torch.tanh(a[t]) ** 2) @ W_hh)
        norms.append(torch.linalg.matrix_norm(product, ord=2))
    return torch.stack(norms)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_jacobian_norms", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_jacobian_norms", lambda c: jacobian_norms(c["W_hh"], c["a"]))
### END HIDDEN TESTS
check_close(jacobian_norms(0.5 * torch.eye(2, dtype=torch.float64),
                           torch.zeros(3, 2, dtype=torch.float64)),
            torch.tensor([0.5, 0.25, 0.125], dtype=torch.float64), "0.5 I, tanh'(0) = 1")

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_c_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part C: clipping by norm (2 points)
#
# `grads` is a list of tensors (the gradients of all the parameters). Return a new
# list, each tensor scaled by the same factor $\min\big(1, g_{\max} / (\lVert g \rVert + 10^{-6})\big)$,
# where $\lVert g \rVert$ is the norm of all the gradients together (as
# `torch.nn.utils.clip_grad_norm_` computes it). Do not change the tensors you are given.

# %% nbgrader={"grade": false, "grade_id": "clip_by_norm", "locked": false, "schema_version": 3, "solution": true, "task": false}
def clip_by_norm(grads, max_norm):
    """The gradients scaled together to a global norm of at most max_norm: a new list."""
    ### BEGIN SOLUTION
    norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    scale = min(1.0, max_norm / (float(norm) + 1e-6))
    return [g * scale for g in grads]
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_clip_by_norm", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_clip_by_norm", lambda c: clip_by_norm(c["grads"], c["max_norm"]))
### END HIDDEN TESTS
check_close(clip_by_norm([torch.tensor([3.0, 4.0])], 1.0)[0], torch.tensor([0.6, 0.8]),
            "norm 5 clipped to 1", atol=1e-5)
check_close(clip_by_norm([torch.tensor([0.3, 0.4])], 1.0)[0], torch.tensor([0.3, 0.4]),
            "norm 0.5 is left alone", atol=1e-6)
