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
# $$a_t = W_{xh} x_t + W_{hh} h_{t-1} + b_h, \quad h_t = \tanh(a_t), \quad
# o = W_{hy} h_T + b_y, \quad L = \frac{1}{B} \sum_b -\ln \mathrm{softmax}(o_b)_{y_b}.$$
#
# Derive the gradients and write them by hand, including the gradient with
# respect to every input $x_t$. Hidden tests compare them with autograd.
#
# | part | function | points |
# | --- | --- | --- |
# | A | `output_error(p, y)` | 2 |
# | B | `backward_last_step(params, x, h, p, y)` | 4 |
#
# Write your code where it says `YOUR CODE HERE`; do not call `loss.backward()`
# or `torch.autograd` in your answers.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import torch

def check_close(got, want, what, tol=1e-6):
    """A visible-test helper: got must be a tensor of want's shape, equal within tol."""
    assert isinstance(got, torch.Tensor), f"{what}: return a tensor, not {type(got).__name__}"
    assert got.shape == want.shape, f"{what}: shape {tuple(got.shape)}, expected {tuple(want.shape)}"
    assert torch.allclose(got, want, atol=tol, rtol=0), f"{what}: values differ"


def forward_last_step(params, x, y):
    """Loss, all states h (B, T+1, H) with h[:, 0] = 0, and softmax(o) (B, K)."""
    B, T, _ = x.shape
    h = [x.new_zeros(B, params["W_hh"].shape[0])]
    for t in range(T):
        h.append(torch.tanh(x[:, t] @ params["W_xh"].T + h[-1] @ params["W_hh"].T + params["b_h"]))
    h = torch.stack(h, dim=1)
    log_p = torch.log_softmax(h[:, -1] @ params["W_hy"].T + params["b_y"], dim=-1)
    return -log_p.gather(1, y.unsqueeze(1)).mean(), h, log_p.exp()


def random_problem(B, T, D, H, K, seed):
    g = torch.Generator().manual_seed(seed)
    shapes = {"W_xh": (H, D), "W_hh": (H, H), "b_h": (H,), "W_hy": (K, H), "b_y": (K,)}
    params = {k: torch.randn(s, dtype=torch.float64, generator=g) * 0.5 for k, s in shapes.items()}
    x = torch.randn(B, T, D, dtype=torch.float64, generator=g)
    return params, x, torch.randint(0, K, (B,), generator=g)

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_a_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A: the output error (2 points)
#
# Return $\partial L / \partial o$, (B, K), from `p` = softmax(o) (B, K) and
# the labels `y` (B,).

# %% nbgrader={"grade": false, "grade_id": "output_error", "locked": false, "schema_version": 3, "solution": true, "task": false}
def output_error(p, y):
    """dL/do for the mean cross-entropy over the batch: (B, K)."""
    ### BEGIN SOLUTION
    d_o = p.clone()
    d_o[torch.arange(len(y)), y] -= 1
    return d_o / len(y)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_output_error", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
p = torch.tensor([[0.5, 0.5]], dtype=torch.float64)
check_close(output_error(p, torch.tensor([0])), torch.tensor([[-0.5, 0.5]], dtype=torch.float64),
            "one example, two classes")
### BEGIN HIDDEN TESTS
for _seed in range(3):
    _g = torch.Generator().manual_seed(_seed)
    _y = torch.randint(0, 5, (4,), generator=_g)
    _o = torch.randn(4, 5, dtype=torch.float64, generator=_g).requires_grad_()
    _loss = torch.nn.functional.cross_entropy(_o, _y)
    _loss.backward()
    _got = output_error(torch.softmax(_o.detach(), -1), _y)
    assert _got.shape == _o.shape, "output_error: shape"
    assert float((_got - _o.grad).abs().max()) < 1e-12, "output_error: values"
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_b_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B: the backward pass (4 points)
#
# Return a dict with the gradients of $L$ with respect to `W_xh`, `W_hh`, `b_h`,
# `W_hy`, `b_y` (each of its parameter's shape) and `x` (B, T, D). Only $h_T$
# receives an error from the output; every earlier state receives its error
# from the step after it.

# %% nbgrader={"grade": false, "grade_id": "backward_last_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def backward_last_step(params, x, h, p, y):
    """Gradients of the last-step loss: a dict with W_xh, W_hh, b_h, W_hy, b_y and x."""
    ### BEGIN SOLUTION
    d_o = output_error(p, y)
    grads = {"W_hy": d_o.T @ h[:, -1], "b_y": d_o.sum(0), "x": torch.zeros_like(x)}
    for name in ("W_xh", "W_hh", "b_h"):
        grads[name] = torch.zeros_like(params[name])
    d_h = d_o @ params["W_hy"]
    for t in reversed(range(x.shape[1])):
        delta = d_h * (1 - h[:, t + 1] ** 2)
        grads["W_xh"] += delta.T @ x[:, t]
        grads["W_hh"] += delta.T @ h[:, t]
        grads["b_h"] += delta.sum(0)
        grads["x"][:, t] = delta @ params["W_xh"]
        d_h = delta @ params["W_hh"]
    return grads
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_backward", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
params, x, y = random_problem(2, 1, 2, 3, 2, seed=0)
loss, h, p = forward_last_step(params, x, y)
grads = backward_last_step(params, x, h, p, y)
check_close(grads["b_y"], output_error(p, y).sum(0), "b_y")
### BEGIN HIDDEN TESTS
for _shape in ((1, 1, 1, 1, 2), (3, 7, 2, 4, 3), (2, 15, 3, 5, 4)):
    _params, _x, _y = random_problem(*_shape, seed=sum(_shape))
    _leaves = {k: v.clone().requires_grad_() for k, v in _params.items()}
    _xl = _x.clone().requires_grad_()
    forward_last_step(_leaves, _xl, _y)[0].backward()
    _loss, _h, _p = forward_last_step(_params, _x, _y)
    _got = backward_last_step(_params, _x, _h, _p, _y)
    for _name in ("W_xh", "W_hh", "b_h", "W_hy", "b_y"):
        assert _got[_name].shape == _params[_name].shape, f"{_name}: shape"
        assert float((_got[_name] - _leaves[_name].grad).abs().max()) < 1e-10, f"{_name}, {_shape}"
    assert float((_got["x"] - _xl.grad).abs().max()) < 1e-10, f"x, {_shape}"
### END HIDDEN TESTS
