"""Assignment 8's checks: random padded batches and bidirectional LSTMs, drawn per grading
run; references from a loop over the rows and from torch.nn.LSTM(bidirectional=True) on
a packed batch."""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from grading.checks import Case, part, randomize, shape, torch_generator



def draw_lengths(rng, B, T, edges=True):
    """B lengths in 1 … T; with ``edges``, a row of length 1 and one of length T among them
    (in random places) once B ≥ 2."""
    lengths = [rng.randint(1, T) for _ in range(B)]
    if edges and B >= 2:
        rows = rng.sample(range(B), 2)
        lengths[rows[0]], lengths[rows[1]] = 1, T
    return torch.tensor(lengths)


def junk_padding(x, lengths, g, scale=100.0):
    """x with every padded position filled with large random numbers."""
    x = x.clone()
    for b, n in enumerate(lengths.tolist()):
        x[b, n:] = scale * torch.randn(x[b, n:].shape, generator=g)
    return x


def reversed_rows(x, lengths):
    """The reference of Part A: each row's first lengths[b] steps flipped, one row at a time."""
    out = x.clone()
    for b in range(x.shape[0]):
        n = int(lengths[b])
        for t in range(n):
            out[b, t] = x[b, n - 1 - t]
    return out


@part("test_reverse_padded", atol=1e-6)
def reverse_padded(rng):
    g, cases = torch_generator(rng), []
    sizes = [(rng.randint(2, 5), rng.randint(2, 9), rng.randint(1, 4)),   # mixed lengths
             (1, rng.randint(2, 6), rng.randint(1, 3)),                   # a batch of one
             (rng.randint(2, 4), 1, rng.randint(1, 3)),                   # one step: no change
             (rng.randint(3, 6), rng.randint(3, 9), rng.randint(1, 4))]
    for B, T, D in sizes:
        lengths = draw_lengths(rng, B, T)
        x = junk_padding(torch.randn(B, T, D, generator=g), lengths, g)
        cases.append(Case({"x": x, "lengths": lengths}, reversed_rows(x, lengths),
                          f"reverse_padded(x {shape(x)}, lengths {lengths.tolist()})"))
    return cases


def reference(layer, x, lengths):
    """nn.LSTM over the packed batch, padded back to x's length with zeros."""
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    with torch.no_grad():
        out, _ = layer(packed)
    return pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0]


def weights(layer, suffix):
    names = {"W_ih": "weight_ih", "W_hh": "weight_hh", "b_ih": "bias_ih", "b_hh": "bias_hh"}
    return {k: getattr(layer, f"{name}_l0{suffix}").detach().clone() for k, name in names.items()}


@part("test_bidirectional_lstm", atol=1e-5)
def bidirectional_lstm(rng):
    g, cases = torch_generator(rng), []
    # (B, T, edges): mixed lengths with a row of 1 and one of T; one row of full length;
    # one step; rows all shorter than T.
    sizes = [(rng.randint(3, 5), rng.randint(4, 8), True), (1, rng.randint(2, 6), True),
             (rng.randint(2, 3), 1, True), (rng.randint(2, 4), rng.randint(3, 7), False)]
    for k, (B, T, edges) in enumerate(sizes):
        inputs, hidden = rng.randint(1, 5), rng.randint(1, 6)
        layer = randomize(nn.LSTM(inputs, hidden, batch_first=True, bidirectional=True), g,
                          std=0.5)
        lengths = draw_lengths(rng, B, T, edges) if edges else \
            torch.tensor([rng.randint(1, T - 1) for _ in range(B)])
        x = junk_padding(torch.randn(B, T, inputs, generator=g), lengths, g,
                         scale=100.0 if k else 0.0)  # the first case pads with zeros
        want = reference(layer, x, lengths)
        args = {"x": x, "lengths": lengths, "forward": weights(layer, ""),
                "backward": weights(layer, "_reverse")}
        call = (f"bidirectional_lstm(x {shape(x)}, lengths {lengths.tolist()}, "
                f"an nn.LSTM({inputs}, {hidden}, bidirectional=True)'s weights)")
        cases.append(Case(args, want, call))
        if k == 0:                    # the same batch, its padding filled with large numbers
            junk = junk_padding(x, lengths, g)
            cases.append(Case({**args, "x": junk}, want, call.replace(
                "x (", "x with junk in its padding (", 1)))
    return cases
