"""Assignment 7's checks: random GRU cells and inputs, drawn per grading run; references
from torch.nn.GRUCell and torch.nn.GRU."""

import torch
from torch import nn

from grading.checks import Case, part, randomize, shape, torch_generator



@part("test_gru_step", atol=1e-6)
def gru_step(rng):
    g, cases = torch_generator(rng), []
    for _ in range(4):
        inputs, hidden, B = rng.randint(1, 6), rng.randint(1, 7), rng.randint(1, 5)
        cell = randomize(nn.GRUCell(inputs, hidden), g, std=0.5)
        x_t, h = torch.randn(B, inputs, generator=g), torch.randn(B, hidden, generator=g)
        with torch.no_grad():
            want = cell(x_t, h)
        args = {"x_t": x_t, "h": h, "W_ih": cell.weight_ih, "W_hh": cell.weight_hh,
                "b_ih": cell.bias_ih, "b_hh": cell.bias_hh}
        cases.append(Case({k: v.detach().clone() for k, v in args.items()}, want,
                          f"gru_step(x_t {shape(x_t)}, h {shape(h)}, …)"))
    return cases


@part("test_run_gru", atol=1e-5)
def run_gru(rng):
    g, cases = torch_generator(rng), []
    for _ in range(3):
        inputs, hidden, B, T = (rng.randint(1, 5), rng.randint(1, 6), rng.randint(1, 4),
                                rng.randint(1, 10))
        layer = randomize(nn.GRU(inputs, hidden, batch_first=True), g, std=0.5)
        x, h0 = torch.randn(B, T, inputs, generator=g), torch.randn(B, hidden, generator=g)
        with torch.no_grad():
            states, last = layer(x, h0.unsqueeze(0))
        weights = {k: v.detach().clone() for k, v in layer.state_dict().items()}
        cases.append(Case({"x": x, "h0": h0, "gru": weights}, (states, last[0]),
                          f"run_gru(x {shape(x)}, h0 {shape(h0)}, an nn.GRU({inputs}, {hidden}))"))
    return cases
