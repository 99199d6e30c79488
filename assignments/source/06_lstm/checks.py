"""Assignment 6's checks: random LSTM cells and inputs, drawn per grading run; references
from torch.nn.LSTMCell and torch.nn.LSTM."""

import torch
from torch import nn

from grading.checks import Case, part, randomize, shape, torch_generator



@part("test_lstm_step", atol=1e-6)
def lstm_step(rng):
    g, cases = torch_generator(rng), []
    for _ in range(4):
        inputs, hidden, B = rng.randint(1, 6), rng.randint(1, 7), rng.randint(1, 5)
        cell = randomize(nn.LSTMCell(inputs, hidden), g, std=0.5)
        x_t, h, c = (torch.randn(B, n, generator=g) for n in (inputs, hidden, hidden))
        with torch.no_grad():
            want = cell(x_t, (h, c))
        args = {"x_t": x_t, "h": h, "c": c, "W_ih": cell.weight_ih, "W_hh": cell.weight_hh,
                "b_ih": cell.bias_ih, "b_hh": cell.bias_hh}
        cases.append(Case({k: v.detach().clone() for k, v in args.items()}, want,
                          f"lstm_step(x_t {shape(x_t)}, h {shape(h)}, c {shape(c)}, …)"))
    return cases


@part("test_run_lstm", atol=1e-5)
def run_lstm(rng):
    g, cases = torch_generator(rng), []
    for _ in range(3):
        inputs, hidden, B, T = (rng.randint(1, 5), rng.randint(1, 6), rng.randint(1, 4),
                                rng.randint(1, 10))
        layer = randomize(nn.LSTM(inputs, hidden, batch_first=True), g, std=0.5)
        x = torch.randn(B, T, inputs, generator=g)
        with torch.no_grad():
            states, (h, c) = layer(x)
        weights = {k: v.detach().clone() for k, v in layer.state_dict().items()}
        cases.append(Case({"x": x, "lstm": weights}, (states, (h[0], c[0])),
                          f"run_lstm(x {shape(x)}, an nn.LSTM({inputs}, {hidden}))"))
    return cases
