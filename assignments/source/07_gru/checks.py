"""Assignment 7's checks: random GRU steps and upstream gradients drawn per grading run, the
reference gradients from autograd; weights in Chung's form, converted weights judged by
running both forms; the character LM in Cho's form measured on the validation split."""

import torch

from grading.checks import Case, Outcome, part, shape, torch_generator, weights_problem
from seqlm import exercises, gru

NO_GRU = ("torch.nn.GRU", "torch.nn.GRUCell", "torch.nn.RNNBase", "torch.gru",
          "torch.gru_cell", "torch._VF", "torch.ops", "seqlm")
BY_HAND = ("torch.autograd", "torch.func", "functorch", ".backward")
WRITES = {"gru_step_backward": [], "chung_to_cho": [],
          "train_cho_gru": ["seqlm.gru.gru_cell_cho"]}
PASSING_BITS = 3.3      # the reference scores 2.87-2.93 (a bigram model 3.53, unigram 4.72)


def draw(g, *size, std=1.0):
    return torch.randn(*size, dtype=torch.float64, generator=g) * std


@part("test_gru_step_backward", atol=1e-10, bans=NO_GRU + BY_HAND)
def gru_step_backward(rng):
    g, cases = torch_generator(rng), []
    for _ in range(4):
        D, H, B = rng.randint(1, 5), rng.randint(1, 6), rng.randint(1, 4)
        inputs = {"x_t": draw(g, B, D), "h": draw(g, B, H), "W_ih": draw(g, 3 * H, D, std=0.5),
                  "W_hh": draw(g, 3 * H, H, std=0.5), "b_ih": draw(g, 3 * H, std=0.5),
                  "b_hh": draw(g, 3 * H, std=0.5)}
        d_h_next = draw(g, B, H)
        leaves = {k: v.clone().requires_grad_() for k, v in inputs.items()}
        loss = (d_h_next * gru.gru_cell(*leaves.values())).sum()
        want = dict(zip(leaves, torch.autograd.grad(loss, list(leaves.values()))))
        cases.append(Case(inputs | {"d_h_next": d_h_next}, want,
                          f"gru_step_backward(x_t {shape(inputs['x_t'])}, "
                          f"h {shape(inputs['h'])}, …)"))
    return cases


def step(x_t, h, w, convention):
    """One step with the reset gate before the product; z kept (Cho) or replaced (Chung)."""
    x_r, x_z, x_n = (x_t @ w["W_ih"].T + w["b_ih"]).chunk(3, dim=-1)
    W_hr, W_hz, W_hn = w["W_hh"].chunk(3)
    b_hr, b_hz, b_hn = w["b_hh"].chunk(3)
    r = torch.sigmoid(x_r + h @ W_hr.T + b_hr)
    z = torch.sigmoid(x_z + h @ W_hz.T + b_hz)
    candidate = torch.tanh(x_n + (r * h) @ W_hn.T + b_hn)
    return z * h + (1 - z) * candidate if convention == "cho" else \
        (1 - z) * h + z * candidate


def same_function(chung: dict, x, h):
    want = step(x, h, chung, "chung")

    def test(cho) -> str | None:
        for name, value in chung.items():
            if tuple(cho[name].shape) != tuple(value.shape):
                return f"{name} has shape {tuple(cho[name].shape)}, not {tuple(value.shape)}"
        gap = float((step(x, h, cho, "cho") - want).abs().max())
        return None if gap < 1e-9 else \
            f"Cho's form with these weights differs from Chung's by up to {gap:.3g}"
    return test


@part("test_chung_to_cho", bans=NO_GRU)
def chung_to_cho(rng):
    g, cases = torch_generator(rng), []
    for _ in range(3):
        D, H = rng.randint(1, 5), rng.randint(1, 6)
        chung = {"W_ih": draw(g, 3 * H, D), "W_hh": draw(g, 3 * H, H), "b_ih": draw(g, 3 * H),
                 "b_hh": draw(g, 3 * H)}
        x, h = draw(g, 16, D), draw(g, 16, H)
        cases.append(Case(chung, Outcome(same_function(chung, x, h), "the same function"),
                          f"chung_to_cho(a GRU with D={D}, H={H})"))
    return cases


def scores_well(hidden_size: int):
    _, V = exercises.shakespeare_chars()
    sizes = {"embedding": (V, 16), "W_ih": (3 * hidden_size, 16),
             "W_hh": (3 * hidden_size, hidden_size), "b_ih": (3 * hidden_size,),
             "b_hh": (3 * hidden_size,), "W_hy": (V, hidden_size), "b_y": (V,)}

    def test(weights) -> str | None:
        problem = weights_problem(weights, sizes)
        if problem:
            return problem
        bits = exercises.cho_gru_bits(weights)
        return None if bits < PASSING_BITS else \
            f"in Cho's form it scores {bits:.3f} bits per character on the validation text"
    return test


@part("test_train_cho_gru", bans=NO_GRU,
      allow=("seqlm.exercises.char_batch", "seqlm.exercises.shakespeare_chars"))
def train_cho_gru(rng):
    seed = rng.getrandbits(31)
    return [Case({"hidden_size": 64, "steps": 300, "seed": seed},
                 Outcome(scores_well(64), f"below {PASSING_BITS} bits per character"),
                 f"train_cho_gru(hidden_size=64, steps=300, seed={seed})")]
