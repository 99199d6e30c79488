"""Assignment 10's checks: padded batches with junk in the padding and random additive
scores drawn per grading run, the references from the chapter's seqlm.attention (and
autograd through it); beams of random hypotheses and of tiny models' searches, the
reference step written here with tensors; whole searches against exhaustive search; the
recall model measured, masked, on fresh rows."""

import math

import torch

from grading.checks import Case, Outcome, part, shape, torch_generator, weights_problem
from seqlm import attention, exercises

BY_HAND = ("torch.autograd", "torch.func", "functorch", ".backward")
NO_LIBRARY = ("seqlm", "torch.nn.functional.scaled_dot_product_attention",
              "torch.nn.MultiheadAttention")
# The chapter prints seqlm.attention.attend (a score module and a mask in, the masked
# softmax and the weighted average out) and seqlm.seq2seq.beam_search (batched, with n_b
# slots per input, -inf placeholders and length-normalised ranking); neither is asked for.
# The score from raw weights, the mask from the lengths and the masked softmax are the
# course's AdditiveScore and masked_softmax, which no chapter prints; the course has no
# step on a list of hypotheses, nor a hand-made gradient of attention.
WRITES = {"additive_attention": ["seqlm.attention.AdditiveScore",
                                 "seqlm.attention.masked_softmax"],
          "additive_attention_backward": [], "beam_step": [], "train_recall": []}
PASSING_ACCURACY = 0.9  # the reference scores 1.000 on each of 25 seeds (300 steps); the
                        # same weights reading the padding 0.52-0.55; the output layer trained
                        # alone 0.27-0.29; untrained 0.03-0.06
SIZES = ((3, 6, 4, 5, 3), (1, 4, 2, 3, 2), (4, 1, 3, 2, 4), (5, 7, 1, 1, 1))  # B T n_d n_k n_a


def draw(g, *size, std=1.0):
    return torch.randn(*size, dtype=torch.float64, generator=g) * std


def attention_inputs(rng, g, B, T, n_d, n_k, n_a) -> dict:
    """A padded batch whose padding holds numbers larger than any real one, and weights."""
    lengths = exercises.padded_lengths(rng, B, T)
    junk = torch.arange(T)[None, :, None] >= lengths[:, None, None]
    h = torch.where(junk, 50 + 50 * torch.rand(B, T, n_k, dtype=torch.float64, generator=g),
                    draw(g, B, T, n_k))
    return {"d": draw(g, B, n_d), "h": h, "lengths": lengths, "W_q": draw(g, n_a, n_d, std=0.7),
            "W_k": draw(g, n_a, n_k, std=0.7), "b_k": draw(g, n_a, std=0.5), "v": draw(g, n_a)}


def course_attention(d, h, lengths, W_q, W_k, b_k, v):
    """The chapter's additive attention with these weights: the score module, the
    context h̄ (B, n_k) and the weights α (B, T)."""
    with torch.random.fork_rng():                   # its initial weights draw nothing
        score = attention.AdditiveScore(d.shape[1], h.shape[2], v.shape[0]).double()
    with torch.no_grad():
        score.W_q.weight.copy_(W_q)
        score.W_k.weight.copy_(W_k)
        score.W_k.bias.copy_(b_k)
        score.v.weight.copy_(v[None, :])
    mask = torch.arange(h.shape[1])[None, :] < lengths[:, None]
    h_bar, alpha = attention.attend(score, d[:, None, :], h, h, mask)
    return score, h_bar[:, 0], alpha[:, 0]


def sizes_of(rng):
    return [(B + rng.randint(0, 2), T, n_d, n_k, n_a) for B, T, n_d, n_k, n_a in SIZES]


@part("test_additive_attention", atol=1e-10, bans=NO_LIBRARY)
def additive_attention(rng):
    g, cases = torch_generator(rng), []
    for size in sizes_of(rng):
        args = attention_inputs(rng, g, *size)
        _, h_bar, alpha = course_attention(**args)
        cases.append(Case(args, (h_bar.detach(), alpha.detach()),
                          f"additive_attention(d {shape(args['d'])}, h {shape(args['h'])} with "
                          f"junk in the padding, lengths {args['lengths'].tolist()}, …)"))
    return cases


@part("test_additive_attention_backward", atol=1e-10, bans=NO_LIBRARY + BY_HAND)
def additive_attention_backward(rng):
    g, cases = torch_generator(rng), []
    for size in sizes_of(rng):
        args = attention_inputs(rng, g, *size)
        d_h_bar = draw(g, size[0], size[3])
        d, h = args["d"].clone().requires_grad_(), args["h"].clone().requires_grad_()
        score, h_bar, _ = course_attention(d, h, args["lengths"], args["W_q"], args["W_k"],
                                           args["b_k"], args["v"])
        leaves = {"d": d, "h": h, "W_q": score.W_q.weight, "W_k": score.W_k.weight,
                  "b_k": score.W_k.bias, "v": score.v.weight}
        grads = torch.autograd.grad((d_h_bar * h_bar).sum(), list(leaves.values()))
        want = dict(zip(leaves, grads))
        want["v"] = want["v"][0]
        cases.append(Case(args | {"d_h_bar": d_h_bar}, want,
                          f"additive_attention_backward(d {shape(args['d'])}, h "
                          f"{shape(args['h'])}, lengths {args['lengths'].tolist()}, …)"))
    return cases


# --------------------------------------------------------------------------- beam search

def reference_step(hypotheses, log_probs, beam):
    """The grader's step, with tensors: every candidate's score in one (N, O) table (an
    ended hypothesis has one candidate, its own score, under </s>), the best finite ones."""
    N, O = log_probs.shape
    scores = torch.tensor([float(h["score"]) for h in hypotheses], dtype=torch.float64)
    ended = torch.tensor([bool(h["ended"]) for h in hypotheses])
    carried = torch.full((O,), -math.inf, dtype=torch.float64)
    carried[exercises.EOS] = 0.0
    total = (scores[:, None] + torch.where(ended[:, None], carried,
                                           log_probs.double())).reshape(-1)
    kept = []
    for index in total.topk(min(beam, int(total.isfinite().sum()))).indices.tolist():
        n, y = divmod(index, O)
        done = bool(ended[n]) or y == exercises.EOS
        kept.append({"outputs": list(hypotheses[n]["outputs"]) + ([] if done else [y]),
                     "score": float(total[index]), "ended": done, "parent": n})
    return kept


def tiny_weights(g, outputs: int, hidden: int, peak: float = 2.0) -> dict:
    """A TinyDecoder's weights, float64; ``peak`` scales its output layer."""
    return {"E": draw(g, outputs + 1, hidden), "W_hh": draw(g, hidden, hidden, std=0.5),
            "b_h": draw(g, hidden, std=0.5), "W_hy": draw(g, outputs, hidden, std=peak),
            "b_y": draw(g, outputs, std=0.5)}


def next_log_probs(decoder, hypotheses):
    """Each hypothesis's log-probabilities of its next output, (N, O), read afresh."""
    rows = []
    for h in hypotheses:
        states, previous = decoder.start(), decoder.bos
        for y in list(h["outputs"]) + ([exercises.EOS] if h["ended"] else []):
            _, states = decoder.step([previous], states)
            previous = y
        rows.append(decoder.step([previous], states)[0][0])
    return torch.stack(rows)


def random_beam(rng, g, N: int, O: int, ended: int) -> tuple[list, torch.Tensor]:
    """N hypotheses of whom ``ended`` have ended, and random log-probabilities (N, O)."""
    flags = [True] * ended + [False] * (N - ended)
    rng.shuffle(flags)
    beam = [{"outputs": [rng.randint(1, O - 1) for _ in range(rng.randint(0 if e else 1, 4))],
             "score": -rng.uniform(0.5, 6.0), "ended": e} for e in flags]
    return beam, torch.log_softmax(draw(g, N, O, std=2.0), dim=-1)


def step_case(hypotheses, log_probs, beam, what: str) -> Case:
    return Case({"hypotheses": hypotheses, "log_probs": log_probs, "beam": beam},
                reference_step(hypotheses, log_probs, beam),
                f"beam_step({len(hypotheses)} hypotheses, "
                f"{sum(h['ended'] for h in hypotheses)} ended, log_probs {shape(log_probs)}, "
                f"beam={beam}): {what}")


@part("test_beam_step", atol=1e-9, rtol=1e-12, bans=("seqlm",))
def beam_step(rng):
    g, cases = torch_generator(rng), []
    empty = [{"outputs": [], "score": 0.0, "ended": False}]
    for O, beam, what in ((5, 3, "the first step"), (3, 7, "the first step, a wide beam")):
        cases.append(step_case(empty, torch.log_softmax(draw(g, 1, O, std=2.0), -1), beam, what))
    for N, O, ended, beam in ((4, 4, 1, 3), (5, 3, 2, 15), (3, 5, 3, 2)):
        beam_, log_probs = random_beam(rng, g, N, O, ended)
        cases.append(step_case(beam_, log_probs, beam, "a mixed beam" if ended < N else
                               "every hypothesis ended"))
    decoder = exercises.TinyDecoder(tiny_weights(g, 4, 3))
    halfway = exercises.tiny_beam_search(decoder, reference_step, 3, 2)
    cases.append(step_case(halfway, next_log_probs(decoder, halfway), 3,
                           "the third step of a tiny model's search"))
    return cases


@part("test_beam_search", atol=1e-9, rtol=1e-12, bans=("seqlm",))
def beam_search(rng):
    g, cases = torch_generator(rng), []
    # (O, H, max_length, beam): beams wide enough for every output (1 + 2 + 4 + 8 = 15 for
    # O = 3 and 3 outputs; 1 + 3 + 9 + 27 = 40 for O = 4), then narrow ones
    sizes = [(3, 4, 3, 15), (4, 3, 3, 45)]
    sizes += [(rng.randint(4, 6), rng.randint(3, 5), rng.randint(4, 6), rng.randint(2, 3))
              for _ in range(6)]
    for O, H, max_length, beam in sizes:
        weights = tiny_weights(g, O, H)
        decoder = exercises.TinyDecoder(weights)
        wide = beam >= sum((O - 1) ** n for n in range(max_length + 1))
        want = exercises.exhaustive_search(decoder, max_length) if wide else \
            exercises.tiny_beam_search(decoder, reference_step, beam, max_length)
        cases.append(Case({"weights": weights, "beam": beam, "max_length": max_length}, want,
                          f"tiny_beam_search(a TinyDecoder with {O} outputs, your beam_step, "
                          f"beam={beam}, max_length={max_length})"
                          + (": every output, ranked as exhaustive search ranks them"
                             if wide else "")))
    return cases


# --------------------------------------------------------------------------- training

def recalls_well(valid_seed: int):
    sizes = {"W_q": (32, 20), "W_k": (32, 40), "b_k": (32,), "v": (32,), "W_hy": (20, 40),
             "b_y": (20,)}

    def test(weights) -> str | None:
        problem = weights_problem(weights, sizes)
        if problem:
            return problem
        accuracy = exercises.recall_accuracy(weights, valid_seed)
        return None if accuracy >= PASSING_ACCURACY else \
            f"the trained model's accuracy on 4,000 fresh rows is {accuracy:.3f}"
    return test


@part("test_train_recall", bans=NO_LIBRARY + BY_HAND,
      allow=("seqlm.exercises.recall_task", "seqlm.exercises.recall_memory"))
def train_recall(rng):
    seed = rng.getrandbits(31)
    return [Case({"steps": 300, "seed": seed},
                 Outcome(recalls_well(rng.getrandbits(31)),
                         f"an accuracy of at least {PASSING_ACCURACY}"),
                 f"train_recall(steps=300, seed={seed})")]
