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
# # Assignment 6: the LSTM's backward pass, and the adding problem trained with it
#
# Goes with Chapter 6. In `torch.nn.LSTM`'s layout (gates input, forget, candidate,
# output, stacked in the rows of `W_ih` (4H, D) and `W_hh` (4H, H)), one step is
#
# $$\begin{aligned}
# i &= \sigma(W_{ii} x + b_{ii} + W_{hi} h + b_{hi}), &
# f &= \sigma(W_{if} x + b_{if} + W_{hf} h + b_{hf}), \\
# g &= \tanh(W_{ig} x + b_{ig} + W_{hg} h + b_{hg}), &
# o &= \sigma(W_{io} x + b_{io} + W_{ho} h + b_{ho}), \\
# c' &= f \odot c + i \odot g, & h' &= o \odot \tanh(c').
# \end{aligned}$$
#
# You derive its backward pass by hand, check it, and train an LSTM on the adding
# problem with no gradient but your own, as CS231n's students do.
#
# | part | function | points |
# | --- | --- | --- |
# | A | `lstm_step_backward(x_t, h, c, W_ih, W_hh, b_ih, b_hh, d_h_next, d_c_next)` | 5 |
# | B | `train_adding(length, hidden_size, steps, seed)` | 5 |
#
# Write your code where it says `YOUR CODE HERE`. **What the grader refuses** in both
# parts: `torch.autograd`, `torch.func`, `.backward()`, `nn.LSTM`, `nn.LSTMCell`,
# `torch.lstm`, `torch._VF`, and anything of `seqlm` but `adding_problem`. The
# grader reads your code for these once your notebook has run; a part whose code uses
# one scores 0, whatever it returned, and so does code it cannot read (`eval`, `exec`,
# `importlib`, `getattr` with a computed name). The checks in each test cell give
# quick feedback; the grade comes from the grader, which calls your functions on
# inputs it draws when it grades (warnings never fail a part). Restart and run all
# before you submit.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

import torch

from seqlm.exercises import (adding_problem, check_close, grading, lstm_predictions,
                             mean_squared_error)

# %% nbgrader={"grade": false, "grade_id": "forward", "locked": true, "schema_version": 3, "solution": false, "task": false}
def lstm_step(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step, Chapter 6's: x_t (B, D), h and c (B, H) -> the new (h, c)."""
    i, f, g, o = (x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=-1)
    c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_next), c_next

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_a_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A: one step backward (5 points)
#
# A loss $L$ depends on the step's outputs $h'$ and $c'$: on $h'$ through the layers
# above and the next step, on $c'$ also directly, through the next step's cell. You are
# given `d_h_next` $= \partial L / \partial h'$ and `d_c_next`, the part of
# $\partial L / \partial c'$ that comes from the next step (both (B, H)). Derive by hand,
# and return as a dict, the gradients of $L$ with respect to the step's inputs and
# weights: keys `"x_t"` (B, D), `"h"` (B, H), `"c"` (B, H), `"W_ih"`, `"W_hh"`, `"b_ih"`,
# `"b_hh"` (each its own shape). Mind that $c'$ reaches $L$ by two roads, and that
# each gate's pre-activation sums the two biases.

# %% nbgrader={"grade": false, "grade_id": "lstm_step_backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def lstm_step_backward(x_t, h, c, W_ih, W_hh, b_ih, b_hh, d_h_next, d_c_next):
    """The gradients of one LSTM step: a dict with x_t, h, c, W_ih, W_hh, b_ih, b_hh."""
    ### BEGIN SOLUTION
    i, f, g, o = (x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    tanh_c = torch.tanh(f * c + i * g)
    d_c_total = d_c_next + d_h_next * o * (1 - tanh_c ** 2)    # both roads to c'
    d_gates = torch.cat([d_c_total * g * i * (1 - i),           # input gate
                         d_c_total * c * f * (1 - f),           # forget gate
                         d_c_total * i * (1 - g ** 2),          # candidate
                         d_h_next * tanh_c * o * (1 - o)], -1)  # output gate: (B, 4H)
    return {"x_t": d_gates @ W_ih, "h": d_gates @ W_hh, "c": d_c_total * f,
            "W_ih": d_gates.T @ x_t, "W_hh": d_gates.T @ h,
            "b_ih": d_gates.sum(0), "b_hh": d_gates.sum(0)}
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_lstm_step_backward", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_lstm_step_backward",
               lambda c: lstm_step_backward(c["x_t"], c["h"], c["c"], c["W_ih"], c["W_hh"],
                                            c["b_ih"], c["b_hh"], c["d_h_next"], c["d_c_next"]))
### END HIDDEN TESTS
zeros = torch.zeros(1, 2, dtype=torch.float64)
weights = [torch.zeros(8, 3, dtype=torch.float64), torch.zeros(8, 2, dtype=torch.float64),
           torch.zeros(8, dtype=torch.float64), torch.zeros(8, dtype=torch.float64)]
ones = torch.ones(1, 2, dtype=torch.float64)
grads = lstm_step_backward(torch.zeros(1, 3, dtype=torch.float64), zeros, ones, *weights, zeros,
                           ones)
check_close(grads["c"], torch.full((1, 2), 0.5, dtype=torch.float64),
            "all gates at 1/2: a gradient on c' reaches c halved")
check_close(grads["b_hh"][2:4], torch.full((2,), 0.25, dtype=torch.float64),
            "the forget gate's bias: dL/dc' × c × f (1 - f)")

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_b_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B: the adding problem, trained with your backward pass (5 points)
#
# An LSTM reads a sequence of the adding problem (each step: a value and a marker; the
# target is the sum of the two marked values) and predicts $\hat y = W_{hy} h_T + b_y$
# from its last state, with the loss $L = \frac{1}{B} \sum_b (\hat y_b - y_b)^2$. Train it:
#
# 1. `generator = torch.Generator().manual_seed(seed)`; draw every weight from it,
#    uniform in $\pm 1/\sqrt{H}$ as `torch.nn.LSTM` does (`W_hy` too; $b_y = 0$), then set
#    the forget gate's two biases to 1/2 each, so that they add up to 1 (Chapter 6);
# 2. at each of `steps` steps draw `x, y = adding_problem(32, length, generator)`, run
#    `lstm_step` over it from zero states keeping every state, and compute
#    $\partial L / \partial \hat y$, the head's gradients and $\partial L / \partial h_T$
#    yourself;
# 3. go back through time with your `lstm_step_backward`, summing each weight's
#    gradient over the steps, and take an Adam step with learning rate 0.02
#    (`torch.optim.Adam` will do: set each tensor's `.grad` to your gradient, then call
#    `step()`).
#
# Return the trained float32 weights as a dict: `W_ih` (4H, 2), `W_hh` (4H, H), `b_ih`,
# `b_hh` (4H,), `W_hy` (1, H), `b_y` (1,). The grader puts them in a `torch.nn.LSTM`
# and measures the MSE on 4,096 fresh sequences: it must be below 0.03 (predicting 1
# scores 1/6).

# %% nbgrader={"grade": false, "grade_id": "train_adding", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_adding(length, hidden_size, steps, seed):
    """An LSTM regressor trained on the adding problem with hand-made gradients."""
    ### BEGIN SOLUTION
    H, generator = hidden_size, torch.Generator().manual_seed(seed)
    shapes = {"W_ih": (4 * H, 2), "W_hh": (4 * H, H), "b_ih": (4 * H,), "b_hh": (4 * H,),
              "W_hy": (1, H)}
    params = {k: (torch.rand(s, generator=generator) * 2 - 1) / math.sqrt(H)
              for k, s in shapes.items()}
    params["b_y"] = torch.zeros(1)
    params["b_ih"][H:2 * H] = params["b_hh"][H:2 * H] = 0.5
    optimizer = torch.optim.Adam(params.values(), lr=0.02)
    for _ in range(steps):
        x, y = adding_problem(32, length, generator)
        states = [(torch.zeros(32, H), torch.zeros(32, H))]
        for t in range(length):
            states.append(lstm_step(x[:, t], *states[-1], params["W_ih"], params["W_hh"],
                                    params["b_ih"], params["b_hh"]))
        h_T = states[-1][0]
        d_y = 2 * ((h_T @ params["W_hy"].T + params["b_y"])[:, 0] - y)[:, None] / 32
        grads = {"W_hy": d_y.T @ h_T, "b_y": d_y.sum(0)}
        grads |= {k: torch.zeros_like(params[k]) for k in ("W_ih", "W_hh", "b_ih", "b_hh")}
        d_h, d_c = d_y @ params["W_hy"], torch.zeros(32, H)
        for t in reversed(range(length)):
            step = lstm_step_backward(x[:, t], *states[t], params["W_ih"], params["W_hh"],
                                      params["b_ih"], params["b_hh"], d_h, d_c)
            for k in ("W_ih", "W_hh", "b_ih", "b_hh"):
                grads[k] += step[k]
            d_h, d_c = step["h"], step["c"]
        for k, p in params.items():
            p.grad = grads[k]
        optimizer.step()
    return params
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_train_adding", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_train_adding", lambda c: train_adding(c["length"], c["hidden_size"],
                                                          c["steps"], c["seed"]))
### END HIDDEN TESTS
few = train_adding(length=6, hidden_size=4, steps=2, seed=0)
for name, size in {"W_ih": (16, 2), "W_hh": (16, 4), "b_ih": (16,), "b_hh": (16,),
                   "W_hy": (1, 4), "b_y": (1,)}.items():
    check_close(torch.tensor(few[name].shape), torch.tensor(size), f"the shape of {name}")
    check_close(float(few[name].isfinite().all()), 1.0, f"{name} is finite")

# %% [markdown] nbgrader={"grade": false, "grade_id": "try_it_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# The cell below trains as the grader does and measures the result the same way. It
# takes a few seconds, and the grader skips it.

# %% nbgrader={"grade": false, "grade_id": "try_it", "locked": true, "schema_version": 3, "solution": false, "task": false}
if not grading():
    trained = train_adding(length=10, hidden_size=16, steps=600, seed=0)
    fresh_x, fresh_y = adding_problem(4096, 10, torch.Generator().manual_seed(1))
    mse = mean_squared_error(lstm_predictions(trained, fresh_x), fresh_y)
    print(f"valid MSE {mse:.4f} (to pass: below 0.03; predicting 1 scores {1 / 6:.3f})")
