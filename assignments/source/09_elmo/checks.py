"""Assignment 9's checks: random highway layers and upstream gradients drawn per grading
run, the reference gradients from autograd; random output layers, targets and negatives,
the corrected loss computed here; the bigram model measured with the full softmax."""

import math

import torch
import torch.nn.functional as F

from grading.checks import Case, Outcome, part, shape, torch_generator, weights_problem
from seqlm import exercises

BY_HAND = ("torch.autograd", "torch.func", "functorch", ".backward")
WRITES = {"highway_backward": ["seqlm.elmo.Highway"],
          "sampled_softmax_loss": ["seqlm.elmo.SampledSoftmax.loss"],
          "train_sampled_bigram": []}
PASSING_NATS = 4.8      # the reference scores 4.48-4.50; the unigram model 5.09, a sampled
                        # softmax without the log-Q correction about 5.5


def draw(g, *size, std=1.0):
    return torch.randn(*size, dtype=torch.float64, generator=g) * std


def highway(x, W_H, b_H, W_T, b_T):
    g = torch.sigmoid(x @ W_T.T + b_T)
    return g * torch.relu(x @ W_H.T + b_H) + (1 - g) * x


@part("test_highway_backward", atol=1e-10, bans=BY_HAND + ("seqlm",))
def highway_backward(rng):
    g, cases = torch_generator(rng), []
    for _ in range(4):
        N, d = rng.randint(1, 6), rng.randint(1, 7)
        inputs = {"x": draw(g, N, d), "W_H": draw(g, d, d, std=0.7), "b_H": draw(g, d),
                  "W_T": draw(g, d, d, std=0.7), "b_T": draw(g, d) - 1}
        d_y = draw(g, N, d)
        leaves = {k: v.clone().requires_grad_() for k, v in inputs.items()}
        loss = (d_y * highway(*leaves.values())).sum()
        want = dict(zip(leaves, torch.autograd.grad(loss, list(leaves.values()))))
        cases.append(Case(inputs | {"d_y": d_y}, want,
                          f"highway_backward(x {shape(inputs['x'])}, …)"))
    return cases


def corrected_loss(h, targets, weight, bias, negatives, log_q) -> float:
    """The reference, one row and one negative at a time, in float64."""
    K, total = len(negatives), 0.0
    for n in range(len(targets)):
        y = int(targets[n])
        scores = [float(h[n] @ weight[y] + bias[y])]
        scores += [float(h[n] @ weight[w] + bias[w]) - math.log(K) - float(log_q[w])
                   for w in negatives.tolist() if w != y]
        top = max(scores)
        total += top + math.log(sum(math.exp(s - top) for s in scores)) - scores[0]
    return total / len(targets)


@part("test_sampled_softmax_loss", rtol=1e-5, atol=1e-5, bans=("seqlm",))
def sampled_softmax_loss(rng):
    g, cases = torch_generator(rng), []
    # (N, m, |V|, K, scale): several rows; a row alone; more negatives than words (every
    # target among them); scores large enough to overflow exp in float32
    for N, m, V, K, scale in [(rng.randint(2, 6), rng.randint(1, 5), rng.randint(5, 30), 8, 1),
                              (1, 3, 6, 4, 1), (rng.randint(2, 4), 2, 4, 12, 1),
                              (3, 4, 10, 5, 40)]:
        q = torch.rand(V, dtype=torch.float64, generator=g) + 0.1
        q = q / q.sum()
        args = {"h": draw(g, N, m, std=scale).float(), "targets": torch.randint(0, V, (N,),
                                                                              generator=g),
                "weight": draw(g, V, m).float(), "bias": draw(g, V).float(),
                "negatives": torch.multinomial(q, K, replacement=True, generator=g),
                "log_q": q.log().float()}
        cases.append(Case(args, corrected_loss(*(v.double() if v.is_floating_point() else v
                                                  for v in args.values())),
                          f"sampled_softmax_loss(h {shape(args['h'])}, |V| = {V}, K = {K})"))
    return cases


def scores_well(vocab_size: int):
    sizes = {"embedding": (vocab_size, 32), "weight": (vocab_size, 32), "bias": (vocab_size,)}

    def test(weights) -> str | None:
        problem = weights_problem(weights, sizes)
        if problem:
            return problem
        nats = exercises.bigram_nats(weights, vocab_size)
        return None if nats < PASSING_NATS else \
            f"the full softmax's cross-entropy on the validation pairs is {nats:.3f} nats"
    return test


@part("test_train_sampled_bigram", bans=("seqlm",),
      allow=("seqlm.exercises.shakespeare_words", "seqlm.exercises.word_unigram"))
def train_sampled_bigram(rng):
    seed = rng.getrandbits(31)
    return [Case({"vocab_size": 2000, "steps": 400, "seed": seed},
                 Outcome(scores_well(2000), f"below {PASSING_NATS} nats"),
                 f"train_sampled_bigram(vocab_size=2000, steps=400, seed={seed})")]
