"""Assignment 4's checks: random problems, gradients from autograd, drawn per grading run."""

import torch

from grading.checks import Case, part, shape
from seqlm import exercises

PARAMETERS = ("W_ih", "W_hh", "b_h", "W_hy", "b_y")


@part("test_output_error", atol=1e-12)
def output_error(rng):
    g = torch.Generator().manual_seed(rng.getrandbits(62))
    cases = []
    for _ in range(4):
        B, C = rng.randint(1, 6), rng.randint(2, 7)
        logits = torch.randn(B, C, dtype=torch.float64, generator=g).requires_grad_()
        y = torch.randint(0, C, (B,), generator=g)
        torch.nn.functional.cross_entropy(logits, y).backward()
        p = torch.softmax(logits.detach(), -1)
        cases.append(Case({"p": p, "y": y}, logits.grad,
                          f"output_error(p {shape(p)}, y {shape(y)})"))
    return cases


@part("test_backward", atol=1e-10)
def backward(rng):
    cases = []
    for _ in range(4):
        size = (rng.randint(1, 4), rng.randint(1, 12), rng.randint(1, 4), rng.randint(1, 6),
                rng.randint(2, 5))
        params, x, y = exercises.random_problem(*size, seed=rng.getrandbits(62))
        leaves = {k: v.clone().requires_grad_() for k, v in params.items()}
        x_leaf = x.clone().requires_grad_()
        exercises.forward_last_step(leaves, x_leaf, y)[0].backward()
        _, h, p = exercises.forward_last_step(params, x, y)
        want = {name: leaves[name].grad for name in PARAMETERS} | {"x": x_leaf.grad}
        B, T, D, H, C = size
        cases.append(Case({"params": params, "x": x, "h": h, "p": p, "y": y}, want,
                          f"backward_last_step(a problem with B={B}, T={T}, D={D}, H={H}, C={C})"))
    return cases
