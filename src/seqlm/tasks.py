"""Synthetic sequence tasks with dependencies of a known length, and how they are scored.

The echo task's batches are :class:`seqlm.batches.EchoBatches`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from seqlm.train import IGNORE_INDEX, evaluating


def accuracy(model, batches, skip: int = 0) -> float:
    """Fraction of steps where the most likely output is the target, carrying the state;
    the first ``skip`` steps of the stream are not counted."""
    right = total = seen = 0
    state = None
    with evaluating(model) as device:
        for x, y in batches():
            logits, state = model(x.to(device), state)
            hits = (logits.argmax(-1).cpu() == y)
            keep = torch.arange(seen, seen + y.shape[1]) >= skip
            right += hits[:, keep].sum().item()
            total += hits[:, keep].numel()
            seen += y.shape[1]
    return right / total


class LastStateRegressor(nn.Module):
    """Reads a sequence with a recurrent layer and predicts one number from the last state::

        h_T = cell(x_1 … x_T),     ŷ = w · h_T + b

    for the adding problem (:class:`seqlm.batches.AddingBatches`). x (B, T, input) ->
    ŷ (B,); no state is carried between batches (None). ``cell`` as in
    :func:`seqlm.rnn.recurrent_layer`; ``init`` sets the recurrent weights
    (:func:`seqlm.gradients.init_recurrent_`); ``variant`` picks an LSTM variant of
    :mod:`seqlm.lstm` for the gate ablations of Chapter 7 (a gate held open in
    ``nn.LSTM``, or :class:`seqlm.lstm.CoupledLSTM` for the coupled gates).
    """

    def __init__(self, cell: str = "rnn", input_size: int = 2, hidden_size: int = 64,
                 nonlinearity: str = "tanh", init: str = "default", forget_bias: float | None = None,
                 variant: str | None = None):
        super().__init__()
        from seqlm import gradients, lstm, rnn

        if variant not in (None, *lstm.VARIANTS):
            raise ValueError(f"unknown LSTM variant {variant!r}; choose one of {lstm.VARIANTS}")
        if variant is not None and cell != "lstm":
            raise ValueError("variants are LSTM variants: use cell='lstm'")
        if variant == "coupled":  # f = 1 - i: nn.LSTM's kernel with the forget rows tied
            self.rnn = lstm.CoupledLSTM(input_size, hidden_size)
        else:
            self.rnn = rnn.recurrent_layer(cell, input_size, hidden_size,
                                           nonlinearity=nonlinearity)
            if variant in ("no_forget", "no_output"):  # the same cell with a gate held at 1
                lstm.open_gate_(self.rnn, variant.removeprefix("no_"))
        gradients.init_recurrent_(self.rnn, init)
        if forget_bias is not None and variant != "no_forget":
            gradients.set_forget_bias_(self.rnn, forget_bias)
        self.out = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor, state=None):
        """x: (B, T, input) -> predictions (B,), None."""
        outputs, _ = self.rnn(x)
        return self.out(outputs[:, -1]).squeeze(-1), None


def confusion_matrix(model, batches, classes: int) -> np.ndarray:
    """counts[gold, predicted] of a tagger (y (B, T), padding ``IGNORE_INDEX``) or a
    classifier (y (B,)) over ``batches``: (classes, classes)."""
    from seqlm.metrics import confusion

    gold, predicted = [], []
    with evaluating(model) as device:
        for x, y in batches():
            guess = model(x.to(device))[0].argmax(-1).cpu()
            keep = y != IGNORE_INDEX
            gold.append(y[keep])
            predicted.append(guess[keep])
    return confusion(torch.cat(gold).numpy(), torch.cat(predicted).numpy(), classes)
