"""Assignment 3's checks: random nn.RNN cells and inputs, drawn per grading run."""

import torch
from torch import nn

from grading.checks import Case, part, randomize, shape


def rnns(rng, count):
    g = torch.Generator().manual_seed(rng.getrandbits(62))
    for _ in range(count):
        inputs, hidden, B = rng.randint(1, 6), rng.randint(1, 8), rng.randint(1, 6)
        yield randomize(nn.RNN(inputs, hidden, batch_first=True), g, std=0.5), B, g


@part("test_elman_step", atol=1e-6)
def elman_step(rng):
    cases = []
    for rnn, B, g in rnns(rng, 4):
        x_t = torch.randn(B, rnn.input_size, generator=g)
        h_prev = torch.randn(B, rnn.hidden_size, generator=g)
        with torch.no_grad():
            want = rnn(x_t.unsqueeze(1), h_prev.unsqueeze(0))[0][:, 0]
        args = {"x_t": x_t, "h_prev": h_prev, "W_ih": rnn.weight_ih_l0, "W_hh": rnn.weight_hh_l0,
                "b_ih": rnn.bias_ih_l0, "b_hh": rnn.bias_hh_l0}
        cases.append(Case({k: v.detach().clone() for k, v in args.items()}, want,
                          f"elman_step(x_t {shape(x_t)}, h_prev {shape(h_prev)}, …)"))
    return cases


@part("test_run_rnn", atol=1e-5)
def run_rnn(rng):
    cases = []
    for rnn, B, g in rnns(rng, 3):
        T = rng.randint(1, 12)
        x = torch.randn(B, T, rnn.input_size, generator=g)
        h0 = torch.randn(B, rnn.hidden_size, generator=g)
        with torch.no_grad():
            states, last = rnn(x, h0.unsqueeze(0))
        weights = {k: v.detach().clone() for k, v in rnn.state_dict().items()}
        cases.append(Case({"x": x, "h0": h0, "rnn": weights}, (states, last[0]),
                          f"run_rnn(x {shape(x)}, h0 {shape(h0)}, an nn.RNN({rnn.input_size}, "
                          f"{rnn.hidden_size}))"))
    return cases
