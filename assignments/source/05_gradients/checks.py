"""Assignment 5's checks: recurrent matrices and pre-activations drawn per grading run, the
Jacobians from autograd; the clipped SGD run measured on fresh adding problems."""

import math

import torch

from grading.checks import Case, Outcome, part, shape, torch_generator, weights_problem
from seqlm import exercises, gradients

BY_HAND = ("torch.autograd", "torch.func", "functorch", ".backward", "seqlm")
# What students write here, and the course's code that does the same: no chapter may
# print either (tests/assignments/test_chapters.py).
WRITES = {"step_jacobian": ["seqlm.gradients.jacobian_product"],
          "jacobian_norms": ["seqlm.gradients.jacobian_product"],
          "train_clipped": []}
ACTIVATIONS = ("tanh", "sigmoid", "relu")
PASSING_MSE = 0.1       # the reference stays below 0.07 on every seed tried (1/6: predict 1)


def layer(rng, g, H, T):
    """A random layer run on a random sequence: W_ih, W_hh, b_h and x (T, D), float64."""
    D = rng.randint(1, 4)
    W_hh = gradients.random_recurrent_matrix(H, rng.uniform(0.5, 1.5), g)
    W_ih = torch.randn(H, D, dtype=torch.float64, generator=g)
    b = torch.randn(H, dtype=torch.float64, generator=g) * 0.5
    return W_hh, W_ih, b, torch.randn(T, D, dtype=torch.float64, generator=g)


@part("test_step_jacobian", atol=1e-10, bans=BY_HAND)
def step_jacobian(rng):
    g, cases = torch_generator(rng), []
    for activation in (*ACTIVATIONS, *rng.sample(ACTIVATIONS, 2)):
        H = rng.randint(1, 6)
        W_hh, W_ih, b, x = layer(rng, g, H, 1)
        h_prev = torch.randn(H, dtype=torch.float64, generator=g)
        f = gradients.ACTIVATIONS[activation][0]
        a = W_ih @ x[0] + W_hh @ h_prev + b
        want = torch.autograd.functional.jacobian(lambda h: f(W_ih @ x[0] + W_hh @ h + b), h_prev)
        cases.append(Case({"W_hh": W_hh, "a": a, "activation": activation}, want,
                          f"step_jacobian(W_hh {shape(W_hh)}, a {shape(a)}, {activation!r})"))
    return cases


@part("test_jacobian_norms", rtol=1e-8, atol=1e-12, bans=BY_HAND)
def jacobian_norms(rng):
    g, cases = torch_generator(rng), []
    for activation in (*ACTIVATIONS, rng.choice(ACTIVATIONS)):
        H, T = rng.randint(1, 6), rng.randint(1, 15)
        W_hh, W_ih, b, x = layer(rng, g, H, T)
        _, a = gradients.run(W_hh, W_ih, b, x, activation=activation)
        want = gradients.norms_by_distance(
            gradients.state_jacobians(W_hh, W_ih, b, x, activation=activation))
        cases.append(Case({"W_hh": W_hh, "a": a.detach(), "activation": activation},
                          want.detach(),
                          f"jacobian_norms(W_hh {shape(W_hh)}, a {shape(a)}, {activation!r})"))
    return cases


def first_norm(weights: dict, length: int, seed: int) -> float:
    """The gradient norm at the start, on the first batch the student's loop draws."""
    params = {k: v.double().requires_grad_() for k, v in weights.items()}
    x, y = exercises.adding_problem(32, length, torch.Generator().manual_seed(seed))
    loss = ((exercises.relu_rnn_predictions(params, x) - y.double()) ** 2).mean()
    return float(torch.sqrt(sum((g ** 2).sum() for g in torch.autograd.grad(
        loss, list(params.values())))))


def trained_well(start: dict, length: int, steps: int, seed: int, valid_seed: int):
    want_norm = first_norm(start, length, seed)

    def test(answer) -> str | None:
        weights, norms = answer["weights"], answer["norms"].reshape(-1)
        problem = weights_problem(weights, {name: value.shape for name, value in start.items()})
        if problem:
            return problem
        if len(norms) != steps or not norms.isfinite().all():
            return f"norms holds {len(norms)} values, not {steps} finite ones"
        if not math.isclose(float(norms[0]), want_norm, rel_tol=1e-4):
            return (f"the first step's gradient norm is {float(norms[0]):.6g}; the grader's is "
                    f"{want_norm:.6g} (all five parameters, before clipping)")
        x, y = exercises.adding_problem(4096, length, torch.Generator().manual_seed(valid_seed))
        mse = exercises.mean_squared_error(exercises.relu_rnn_predictions(weights, x), y)
        return None if mse < PASSING_MSE else f"the trained network's valid MSE is {mse:.4f}"
    return test


@part("test_train_clipped", bans=("torch.nn.utils", "torch.optim", "seqlm"),
      allow=("seqlm.exercises.adding_problem",))
def train_clipped(rng):
    length, seed = rng.choice([8, 10]), rng.getrandbits(31)
    start = exercises.irnn_start(32, rng.getrandbits(31))
    args = {"weights": start, "length": length, "steps": 800, "lr": 0.3, "max_norm": 0.3,
            "seed": seed}
    return [Case(args, Outcome(trained_well(start, length, 800, seed, rng.getrandbits(31)),
                               f"a valid MSE below {PASSING_MSE} and the first norm right"),
                 f"train_clipped(an IRNN start with H = 32, length={length}, steps=800, "
                 f"lr=0.3, max_norm=0.3, seed={seed})")]
