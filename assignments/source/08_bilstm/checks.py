"""Assignment 8's checks: padded batches with junk in the padding, drawn per grading run;
the pooling's reference written with torch here, its gradient from autograd; the packed
bidirectional classifier measured on fresh rows of the order task."""

import torch

from grading.checks import Case, Outcome, part, shape, torch_generator
from seqlm import exercises

BY_HAND = ("torch.autograd", "torch.func", "functorch", ".backward")
WRITES = {"masked_pool": ["seqlm.bilstm.Classifier.forward"], "masked_pool_backward": [],
          "train_order_classifier": []}
PASSING_ACCURACY = 0.9  # the reference scores 0.99-1.0 on every seed tried; a bag of words 0.5


def padded(rng, g, B, T, D):
    """Random states whose padding holds numbers larger than any real one."""
    lengths = exercises.padded_lengths(rng, B, T)
    states = torch.randn(B, T, D, dtype=torch.float64, generator=g)
    junk = torch.arange(T)[None, :, None] >= lengths[:, None, None]
    return torch.where(junk, 50 + 50 * torch.rand(B, T, D, dtype=torch.float64, generator=g),
                       states), lengths


def pooled(states, lengths):
    """The reference, one row at a time: each row's real steps, averaged and maximised."""
    means, maxima = [], []
    for b, n in enumerate(lengths.tolist()):
        means.append(states[b, :n].mean(0))
        maxima.append(states[b, :n].max(0).values)
    return torch.stack(means), torch.stack(maxima)


SIZES = ((3, 6, 4), (1, 5, 2), (4, 1, 3), (5, 9, 1))    # B, T, D: a row alone; one step


@part("test_masked_pool", atol=1e-10, bans=("seqlm",))
def masked_pool(rng):
    g, cases = torch_generator(rng), []
    for B, T, D in SIZES:
        states, lengths = padded(rng, g, B + rng.randint(0, 2), T, D)
        cases.append(Case({"states": states, "lengths": lengths}, pooled(states, lengths),
                          f"masked_pool(states {shape(states)} with junk in the padding, "
                          f"lengths {lengths.tolist()})"))
    return cases


@part("test_masked_pool_backward", atol=1e-10, bans=BY_HAND + ("seqlm",))
def masked_pool_backward(rng):
    g, cases = torch_generator(rng), []
    for B, T, D in SIZES:
        states, lengths = padded(rng, g, B + rng.randint(0, 2), T, D)
        d_mean = torch.randn(len(lengths), D, dtype=torch.float64, generator=g)
        d_max = torch.randn(len(lengths), D, dtype=torch.float64, generator=g)
        leaf = states.clone().requires_grad_()
        mean, largest = pooled(leaf, lengths)
        want, = torch.autograd.grad((d_mean * mean).sum() + (d_max * largest).sum(), leaf)
        cases.append(Case({"states": states, "lengths": lengths, "d_mean": d_mean,
                           "d_max": d_max}, want,
                          f"masked_pool_backward(states {shape(states)}, lengths "
                          f"{lengths.tolist()}, …)"))
    return cases


def classifies_well(valid_seed: int):
    def test(weights) -> str | None:
        sizes = {"embedding": (10, 16), "W_hy": (2, 64), "b_y": (2,)}
        for name, size in sizes.items():
            if tuple(weights[name].shape) != size:
                return f"{name} has shape {tuple(weights[name].shape)}, not {size}"
        if not all(w.isfinite().all() for w in [*weights["lstm"].values(),
                                                 *(weights[k] for k in sizes)]):
            return "a trained weight is not finite"
        x, lengths, y = exercises.order_task(2000, 12, 10,
                                             torch.Generator().manual_seed(valid_seed))
        accuracy = float((exercises.order_logits(weights, x, lengths).argmax(-1) == y)
                         .double().mean())
        return None if accuracy >= PASSING_ACCURACY else \
            f"the trained classifier's accuracy on 2,000 fresh rows is {accuracy:.3f}"
    return test


@part("test_train_order_classifier", bans=("seqlm",), allow=("seqlm.exercises.order_task",))
def train_order_classifier(rng):
    seed = rng.getrandbits(31)
    return [Case({"steps": 200, "seed": seed},
                 Outcome(classifies_well(rng.getrandbits(31)),
                         f"an accuracy of at least {PASSING_ACCURACY}"),
                 f"train_order_classifier(steps=200, seed={seed})")]
