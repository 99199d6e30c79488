"""Assignment 2's checks: random models of seqlm.ffnn.NeuralLM, drawn per grading run."""

import torch

from grading.checks import Case, part, randomize, shape
from seqlm import ffnn


def models(rng, count, **kwargs):
    """``count`` NeuralLMs of random sizes and weights, with a batch of contexts each."""
    g = torch.Generator().manual_seed(rng.getrandbits(62))
    for _ in range(count):
        V, n, m, h, B = (rng.randint(5, 40), rng.randint(2, 6), rng.randint(1, 8),
                         rng.randint(1, 8), rng.randint(1, 6))
        model = randomize(ffnn.NeuralLM(V, n - 1, m, h, **kwargs), g, std=0.5)
        yield model, torch.randint(0, V, (B, n - 1), generator=g)


@part("test_features", atol=1e-6)
def features(rng):
    cases = []
    for model, context in models(rng, 4):
        C = model.C.weight.detach().clone()
        want = model.C(context).flatten(1).detach()
        cases.append(Case({"context": context, "C": C}, want,
                          f"features(context {shape(context)}, C {shape(C)})"))
    return cases


@part("test_scores", atol=1e-5)
def scores(rng):
    cases = []
    for direct in (True, False, True, False):
        for model, context in models(rng, 1, direct=direct):
            with torch.no_grad():
                want, _ = model(context)
                x = model.C(context).flatten(1)
            W = model.W.weight.detach().clone() if direct else None
            args = {"x": x, "H": model.H.weight, "d": model.H.bias, "U": model.U.weight,
                    "b": model.U.bias, "W": W}
            args = {k: v.detach().clone() if v is not None else None for k, v in args.items()}
            w = f"a {shape(W)} tensor" if direct else "None"
            call = f"scores(x {shape(x)}, H {shape(args['H'])}, …, W={w})"
            cases.append(Case(args, want, call))
    return cases
