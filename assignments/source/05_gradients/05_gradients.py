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
# # Assignment 5: vanishing and exploding gradients
#
# Goes with Chapter 5. A recurrent layer computes $h_t = f(a_t)$ with
# $a_t = W_{ih} x_t + W_{hh} h_{t-1} + b_h$, and the gradient that reaches $h_s$ from
# a loss on $h_T$ passes through every step in between. You derive that passage by
# hand, measure it, and then keep a network whose gradients explode trainable.
#
# | part | function | points |
# | --- | --- | --- |
# | A | `step_jacobian(W_hh, a, activation)`: $\partial h_t / \partial h_{t-1}$, by hand | 2 |
# | B | `jacobian_norms(W_hh, a, activation)`: $\lVert \partial h_T / \partial h_{T-d} \rVert$ | 3 |
# | C | `train_clipped(weights, length, steps, lr, max_norm, seed)`: SGD that survives | 5 |
#
# Write your code where it says `YOUR CODE HERE`. **What the grader refuses:** in
# Parts A and B, `torch.autograd`, `torch.func` and `.backward()` (the point is to
# derive the gradients yourself); in Part C, `torch.nn.utils` (its clipping),
# `torch.optim`, and anything of `seqlm` but `adding_problem`. The grader reads your
# code for these once your notebook has run, and a part whose code uses one scores 0,
# whatever it returned; it refuses, too, what it cannot read (`eval`, `exec`,
# `importlib`, `getattr` with a computed name). The checks in each test cell give
# quick feedback; the grade comes from the grader, which calls your functions on
# inputs it draws when it grades (warnings never fail a part). Restart and run all
# before you submit.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

import torch

from seqlm.exercises import (adding_problem, check_close, grading, irnn_start,
                             mean_squared_error, relu_rnn_predictions)

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_a_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A: one step's Jacobian (2 points)
#
# Derive $J_t = \partial h_t / \partial h_{t-1}$, the $H \times H$ matrix whose row $i$,
# column $j$ is $\partial h_{t,i} / \partial h_{t-1,j}$, for the three activations
# $f$ of the chapter: `"tanh"`, `"sigmoid"` ($\sigma$) and `"relu"` (take the
# derivative at 0 to be 0). Write $f'$ in terms of $a_t$ yourself. `W_hh` is (H, H) and
# `a` (H,) the pre-activation $a_t$; return $J_t$, (H, H).

# %% nbgrader={"grade": false, "grade_id": "step_jacobian", "locked": false, "schema_version": 3, "solution": true, "task": false}
def step_jacobian(W_hh, a, activation):
    """dh_t/dh_{t-1} of h_t = f(W_ih x_t + W_hh h_{t-1} + b_h), from a_t: (H, H)."""
    ### BEGIN SOLUTION
    if activation == "tanh":
        slope = 1 - torch.tanh(a) ** 2
    elif activation == "sigmoid":
        slope = torch.sigmoid(a) * (1 - torch.sigmoid(a))
    elif activation == "relu":
        slope = (a > 0).to(a.dtype)
    else:
        raise ValueError(f"unknown activation {activation!r}")
    return slope[:, None] * W_hh          # diag(f'(a_t)) W_hh, without building the diagonal
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_step_jacobian", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_step_jacobian",
               lambda c: step_jacobian(c["W_hh"], c["a"], c["activation"]))
### END HIDDEN TESTS
W = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
zero = torch.zeros(2, dtype=torch.float64)
check_close(step_jacobian(W, zero, "tanh"), W, "tanh'(0) = 1: J = W_hh")
check_close(step_jacobian(W, zero, "sigmoid"), W / 4, "sigmoid'(0) = 1/4")
check_close(step_jacobian(W, torch.tensor([1.0, -1.0], dtype=torch.float64), "relu"),
            torch.tensor([[1.0, 2.0], [0.0, 0.0]], dtype=torch.float64),
            "relu: the rows of units that are off are 0")

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_b_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B: how far back the gradient reaches (3 points)
#
# The layer ran for $T$ steps; `a` (T, H) holds $a_1 \dots a_T$ (row `t - 1` is $a_t$).
# By the chain rule $\partial h_T / \partial h_s = J_T J_{T-1} \cdots J_{s+1}$. Return a
# tensor (T,) whose entry `d - 1` is the spectral norm
# $\lVert \partial h_T / \partial h_{T-d} \rVert_2$ for $d = 1 \dots T$
# (`torch.linalg.matrix_norm(M, ord=2)`). Build the products from your `step_jacobian`,
# one factor per step, in the right order: matrices do not commute.

# %% nbgrader={"grade": false, "grade_id": "jacobian_norms", "locked": false, "schema_version": 3, "solution": true, "task": false}
def jacobian_norms(W_hh, a, activation):
    """||dh_T/dh_{T-d}||_2 for d = 1 ... T: a tensor (T,)."""
    ### BEGIN SOLUTION
    T, H = a.shape
    product, norms = torch.eye(H, dtype=W_hh.dtype), []
    for t in reversed(range(T)):          # J_T first; each earlier factor goes on the right
        product = product @ step_jacobian(W_hh, a[t], activation)
        norms.append(torch.linalg.matrix_norm(product, ord=2))
    return torch.stack(norms)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_jacobian_norms", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_jacobian_norms",
               lambda c: jacobian_norms(c["W_hh"], c["a"], c["activation"]))
### END HIDDEN TESTS
half = 0.5 * torch.eye(2, dtype=torch.float64)
check_close(jacobian_norms(half, torch.zeros(3, 2, dtype=torch.float64), "tanh"),
            torch.tensor([0.5, 0.25, 0.125], dtype=torch.float64), "0.5 I at a = 0: halves")
rotate = torch.tensor([[0.0, -2.0], [0.5, 0.0]], dtype=torch.float64)
check_close(jacobian_norms(rotate, torch.zeros(2, 2, dtype=torch.float64), "tanh"),
            torch.tensor([2.0, 1.0], dtype=torch.float64),
            "two steps of a matrix whose square is -I: norm 2, then 1")

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_c_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part C: clipping keeps a ReLU network trainable (5 points)
#
# A ReLU network reads a sequence of the adding problem (Chapter 5; each step holds a
# value and a marker, the target is the sum of the two marked values) and predicts
# $\hat y = W_{hy} h_T + b_y$ from $h_t = \mathrm{relu}(W_{ih} x_t + W_{hh} h_{t-1} + b_h)$,
# $h_0 = 0$, with the loss $L = \frac{1}{B} \sum_b (\hat y_b - y_b)^2$. It starts as
# Le et al.'s IRNN, $W_{hh} = I$ (`irnn_start` gives such a start). At the learning
# rate $\eta = 0.3$ plain SGD blows up (try it below). Write the SGD loop that clips:
#
# 1. `generator = torch.Generator().manual_seed(seed)`; at each of `steps` steps draw
#    one batch, `x, y = adding_problem(32, length, generator)`;
# 2. compute the gradient $g$ of $L$ for the five parameters (autograd is fine here),
#    and its norm over all of them together, $\lVert g \rVert = \sqrt{\sum_p \lVert g_p \rVert^2}$;
# 3. step $\theta \leftarrow \theta - \eta \min\big(1, g_{\max} / (\lVert g \rVert + 10^{-6})\big)\, g$.
#
# `weights` is a dict of float32 tensors `W_ih` (H, 2), `W_hh` (H, H), `b_h` (H,),
# `W_hy` (1, H), `b_y` (1,); do not change it. Return
# `{"weights": <the trained dict>, "norms": <a tensor (steps,) of each step's norm
# before clipping>}`. The grader starts you from a start of its own, computes your
# first step's norm itself, and measures the MSE of your trained weights on 4,096 fresh
# sequences: it must be finite and below 0.1 (predicting 1 scores 1/6).

# %% nbgrader={"grade": false, "grade_id": "train_clipped", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_clipped(weights, length, steps, lr, max_norm, seed):
    """SGD on the adding problem with the gradient clipped by its global norm."""
    ### BEGIN SOLUTION
    params = {k: v.detach().clone().requires_grad_() for k, v in weights.items()}
    generator = torch.Generator().manual_seed(seed)
    norms = []
    for _ in range(steps):
        x, y = adding_problem(32, length, generator)
        h = torch.zeros(32, params["W_hh"].shape[0])
        for t in range(length):
            h = torch.relu(x[:, t] @ params["W_ih"].T + h @ params["W_hh"].T + params["b_h"])
        prediction = (h @ params["W_hy"].T + params["b_y"])[:, 0]
        loss = ((prediction - y) ** 2).mean()
        grads = torch.autograd.grad(loss, list(params.values()))
        norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
        scale = min(1.0, max_norm / (float(norm) + 1e-6))
        with torch.no_grad():
            for p, g in zip(params.values(), grads):
                p -= lr * scale * g
        norms.append(norm.detach())
    return {"weights": {k: v.detach() for k, v in params.items()}, "norms": torch.stack(norms)}
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_train_clipped", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_train_clipped",
               lambda c: train_clipped(c["weights"], c["length"], c["steps"], c["lr"],
                                       c["max_norm"], c["seed"]))
### END HIDDEN TESTS
start = irnn_start(8, seed=0)
one = train_clipped(start, length=6, steps=1, lr=0.3, max_norm=0.3, seed=0)
moved = math.sqrt(sum(float(((one["weights"][k] - start[k]) ** 2).sum()) for k in start))
check_close(float(one["norms"].shape[0]), 1.0, "one norm per step")
check_close(min(moved, 0.3 * 0.3 * 1.001), moved,
            "one clipped step moves the weights by at most lr × max_norm")
check_close(float(start["W_hh"].trace()), 8.0, "the weights you were given are unchanged")

# %% [markdown] nbgrader={"grade": false, "grade_id": "try_it_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# The cell below trains twice from the same start, without clipping
# ($g_{\max} = \infty$) and with it, and measures both as the grader does. It takes a
# few seconds, and the grader skips it.

# %% nbgrader={"grade": false, "grade_id": "try_it", "locked": true, "schema_version": 3, "solution": false, "task": false}
if not grading():
    fresh_x, fresh_y = adding_problem(4096, 10, torch.Generator().manual_seed(1))
    for clip in (math.inf, 0.3):
        run = train_clipped(irnn_start(32, seed=0), 10, 800, 0.3, clip, seed=0)
        mse = mean_squared_error(relu_rnn_predictions(run["weights"], fresh_x), fresh_y)
        print(f"max_norm {clip}: largest gradient norm {float(run['norms'].max()):.3g}, "
              f"valid MSE {mse:.4f} (to pass: below 0.1)")
