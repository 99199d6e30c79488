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
# # Assignment 4: backpropagation through time
#
# Goes with Chapter 4. The chapter's network has a loss at every step. Here the
# loss is only at the **last** step, as when a whole sequence gets one label:
#
# $$a_t = W_{ih} x_t + W_{hh} h_{t-1} + b_h, \quad h_t = \tanh(a_t), \quad
# \ell = W_{hy} h_T + b_y, \quad L = \frac{1}{B} \sum_b -\ln \mathrm{softmax}(\ell_b)_{y_b},$$
#
# with $C$ classes: $\ell$ holds the $C$ scores (logits) of each sequence of the batch
# and $y_b$ is sequence $b$'s class.
#
# Derive the gradients and write them by hand, including the gradient with
# respect to every input $x_t$. The grader compares them with autograd's.
#
# | part | function | points |
# | --- | --- | --- |
# | A | `output_error(p, y)` | 2 |
# | B | `backward_last_step(params, x, h, p, y)` | 4 |
#
# Write your code where it says `YOUR CODE HERE`; do not call `loss.backward()`
# or `torch.autograd` in your answers. The checks in each test cell give quick
# feedback; the grade comes from the grader, which calls your function on
# problems it draws when it grades and compares every answer with autograd's
# (warnings never fail a part). Restart and run all before you submit.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import torch

from seqlm.exercises import check_close, forward_last_step, random_problem

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_a_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A: the output error (2 points)
#
# Return $\partial L / \partial \ell$, (B, C), from `p` = softmax($\ell$) (B, C) and
# the labels `y` (B,).

# %% nbgrader={"grade": false, "grade_id": "output_error", "locked": false, "schema_version": 3, "solution": true, "task": false}
def output_error(p, y):
    """dL/dℓ for the mean cross-entropy over the batch: (B, C)."""
    ### BEGIN SOLUTION
    d_logits = p.clone()
    d_logits[torch.arange(len(y)), y] -= 1
    return d_logits / len(y)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_output_error", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_output_error", lambda c: output_error(c["p"], c["y"]))
### END HIDDEN TESTS
p = torch.tensor([[0.5, 0.5]], dtype=torch.float64)
check_close(output_error(p, torch.tensor([0])), torch.tensor([[-0.5, 0.5]], dtype=torch.float64),
            "one example, two classes")

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_b_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B: the backward pass (4 points)
#
# Return a dict with the gradients of $L$ with respect to `W_ih`, `W_hh`, `b_h`,
# `W_hy`, `b_y` (each of its parameter's shape) and `x` (B, T, D). Only $h_T$
# receives an error from the output; every earlier state receives its error
# from the step after it.

# %% nbgrader={"grade": false, "grade_id": "backward_last_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def backward_last_step(params, x, h, p, y):
    """Gradients of the last-step loss: a dict with W_ih, W_hh, b_h, W_hy, b_y and x."""
    ### BEGIN SOLUTION
    d_logits = output_error(p, y)
    grads = {"W_hy": d_logits.T @ h[:, -1], "b_y": d_logits.sum(0), "x": torch.zeros_like(x)}
    for name in ("W_ih", "W_hh", "b_h"):
        grads[name] = torch.zeros_like(params[name])
    d_h = d_logits @ params["W_hy"]
    for t in reversed(range(x.shape[1])):
        delta = d_h * (1 - h[:, t + 1] ** 2)
        grads["W_ih"] += delta.T @ x[:, t]
        grads["W_hh"] += delta.T @ h[:, t]
        grads["b_h"] += delta.sum(0)
        grads["x"][:, t] = delta @ params["W_ih"]
        d_h = delta @ params["W_hh"]
    return grads
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_backward", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_backward",
               lambda c: backward_last_step(c["params"], c["x"], c["h"], c["p"], c["y"]))
### END HIDDEN TESTS
params, x, y = random_problem(2, 1, 2, 3, 2, seed=0)
loss, h, p = forward_last_step(params, x, y)
grads = backward_last_step(params, x, h, p, y)
check_close(grads["b_y"], output_error(p, y).sum(0), "b_y")
