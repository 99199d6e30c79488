"""Assignment 5's checks: recurrent matrices, pre-activations and gradients, drawn per run;
references from seqlm.gradients (autograd for the Jacobians) and torch's clipping."""

import torch

from grading.checks import Case, part, shape, torch_generator
from seqlm import gradients



@part("test_bound_rate", rtol=1e-6)
def bound_rate(rng):
    g, cases = torch_generator(rng), []
    for activation in ("tanh", "sigmoid", "relu", rng.choice(["tanh", "sigmoid"])):
        H = rng.randint(1, 8)
        W = torch.randn(H, H, dtype=torch.float64, generator=g) * rng.uniform(0.1, 2)
        cases.append(Case({"W_hh": W, "activation": activation},
                          gradients.bound_rate(W, activation),
                          f"bound_rate(W_hh {shape(W)}, {activation!r})"))
    return cases


@part("test_jacobian_norms", rtol=1e-8, atol=1e-12)
def jacobian_norms(rng):
    g, cases = torch_generator(rng), []
    for _ in range(4):
        H, T = rng.randint(1, 6), rng.randint(1, 15)
        W = gradients.random_recurrent_matrix(H, rng.uniform(0.5, 1.5), g)
        x = torch.randn(T, H, dtype=torch.float64, generator=g)
        _, a = gradients.run(W, torch.eye(H, dtype=torch.float64),
                             torch.zeros(H, dtype=torch.float64), x)
        want = gradients.norms_by_distance(gradients.state_jacobians(
            W, torch.eye(H, dtype=torch.float64), torch.zeros(H, dtype=torch.float64), x))
        cases.append(Case({"W_hh": W, "a": a.detach()}, want.detach(),
                          f"jacobian_norms(W_hh {shape(W)}, a {shape(a)})"))
    return cases


@part("test_clip_by_norm", atol=1e-6)
def clip_by_norm(rng):
    g, cases = torch_generator(rng), []
    for max_norm in (0.1, 1.0, 100.0, rng.choice([0.5, 5.0])):  # clipped, and not clipped
        grads = [torch.randn(rng.randint(1, 5), rng.randint(1, 5), generator=g)
                 for _ in range(rng.randint(1, 4))]
        copies = [torch.zeros_like(t).requires_grad_() for t in grads]
        for p, grad in zip(copies, grads):
            p.grad = grad.clone()
        torch.nn.utils.clip_grad_norm_(copies, max_norm)  # the reference
        cases.append(Case({"grads": grads, "max_norm": max_norm}, [p.grad for p in copies],
                          f"clip_by_norm({len(grads)} tensors, max_norm={max_norm})"))
    return cases
