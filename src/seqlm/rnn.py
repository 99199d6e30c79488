"""Recurrent networks, Chapter 3: the Elman cell from scratch and the RNN language model."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from seqlm import layers, sampling
from seqlm.recurrent import StackedRecurrent, linear
from seqlm.train import evaluating


class ElmanRNN(StackedRecurrent):
    """The simple recurrent network of Elman (1990), written out step by step::

        h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)        (or relu)

    in its modern form, as ``torch.nn.RNN`` computes it (Elman's own units were
    logistic, and he trained without a gradient through time).

    with the weight names and shapes of ``torch.nn.RNN`` (``weight_ih_l{k}``
    (H, input) for layer 0 and (H, H) above it, ``weight_hh_l{k}`` (H, H),
    ``bias_ih_l{k}`` and ``bias_hh_l{k}`` (H,)), so that weights copy across and a
    test proves the two compute the same thing. Each layer's states are the next
    layer's inputs (the loop is :class:`seqlm.recurrent.StackedRecurrent`'s).

    Batch first, as ``nn.RNN(batch_first=True)``: x (B, T, input) -> output (B, T, H)
    of the last layer and the final states h_T (layers, B, H); an unbatched x (T, input)
    gives (T, H) and (layers, H).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, dropout: float = 0.0):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be tanh or relu, got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, dropout)
        self.act = torch.tanh if nonlinearity == "tanh" else torch.relu

    def cell(self, x_t, h, W_ih, W_hh, b_ih, b_hh):
        h = self.act(linear(x_t, W_ih, b_ih) + linear(h, W_hh, b_hh))  # (B, H)
        return h, h

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None, lengths=None):
        """x: (B, T, input) -> output (B, T, H) of the last layer, h_T (layers, B, H)."""
        if x.dim() == 2:  # unbatched, as nn.RNN allows: (T, input), h0 (layers, H)
            output, h = super().forward(x.unsqueeze(0), None if h0 is None else h0.unsqueeze(1))
            return output[0], h[:, 0]
        if x.dim() != 3:
            raise ValueError(f"expected x of shape (B, T, input) or (T, input), got {tuple(x.shape)}")
        return super().forward(x, h0, lengths)


CELLS = ("rnn", "lstm", "gru")


def recurrent_layer(cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
                    nonlinearity: str = "tanh", dropout: float = 0.0,
                    scratch: bool = False) -> nn.Module:
    """A batch-first stack of recurrent layers: ``torch.nn``'s ``RNN``, ``LSTM`` or ``GRU``
    (cuDNN on a GPU) or, with ``scratch``, the book's own with the same weights
    (:class:`ElmanRNN`, :class:`seqlm.lstm.LSTM`, :class:`seqlm.gru.GRU`). ``dropout``
    acts between layers."""
    from seqlm import gru, lstm

    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
    if scratch:
        if cell == "rnn":
            return ElmanRNN(input_size, hidden_size, num_layers, nonlinearity, dropout=dropout)
        return {"lstm": lstm.LSTM, "gru": gru.GRU}[cell](input_size, hidden_size, num_layers,
                                                         dropout=dropout)
    if cell == "rnn":
        return nn.RNN(input_size, hidden_size, num_layers, nonlinearity=nonlinearity,
                      batch_first=True, dropout=dropout)
    return {"lstm": nn.LSTM, "gru": nn.GRU}[cell](input_size, hidden_size, num_layers,
                                                   batch_first=True, dropout=dropout)


class RNNLM(nn.Module):
    """A recurrent language model trained with teacher forcing::

        e_t = E[x_t],   h_t = cell(e_t, h_{t-1}),   p(x_{t+1} | x_{≤t}) = softmax(W_hy h_t + b_y)

    with dropout on the embeddings, between layers (``layer_dropout``, by default the same)
    and on the last layer's states.
    ``cell`` is "rnn" (Chapter 3), "lstm" (Chapter 6) or "gru" (Chapter 7); ``tie=True``
    uses the embedding table as the output weights, W_hy = E (Press and Wolf 2017; it
    needs embed_size = hidden_size). x (B, T) token ids -> logits (B, T, |V|) and the
    final state, carried to the next batch. ``scratch=True`` runs the book's own
    recurrent layers instead of ``torch.nn``'s (same weights).
    """

    def __init__(self, vocab_size: int, embed_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", dropout: float = 0.0, scratch: bool = False,
                 tie: bool = False, cell: str = "rnn", layer_dropout: float | None = None):
        super().__init__()
        if tie and embed_size != hidden_size:
            raise ValueError(f"tying the embedding to the output layer needs embed_size = "
                             f"hidden_size, got {embed_size} and {hidden_size}")
        self.embed = layers.init_features_(nn.Embedding(vocab_size, embed_size))
        between = dropout if layer_dropout is None else layer_dropout
        self.rnn = recurrent_layer(cell, embed_size, hidden_size, num_layers, nonlinearity,
                                   between if num_layers > 1 else 0.0, scratch)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size, vocab_size)
        if tie:
            self.out.weight = self.embed.weight

    def forward(self, x: torch.Tensor, state=None):
        """x: (B, T) token ids -> logits (B, T, |V|), state ((layers, B, H), or a pair)."""
        h, state = self.rnn(self.drop(self.embed(x)), state)
        return self.out(self.drop(h)), state


def next_distribution(model: nn.Module, context: list[int]) -> torch.Tensor:
    """p(· | context) from a recurrent LM that reads the whole context: (|V|,), on the CPU."""
    if len(context) == 0:
        raise ValueError("a next-token distribution needs at least one context token")
    with evaluating(model) as device:
        logits, _ = model(torch.tensor([list(context)], device=device))
        return torch.softmax(logits[0, -1].float(), dim=-1).cpu()


def generate(model: nn.Module, context, steps: int, temperature: float = 1.0,
             greedy: bool = False, rng: np.random.Generator | None = None,
             stop_id: int | None = None) -> list[int]:
    """Continue ``context`` (token ids) by ``steps`` token ids, each drawn from
    softmax(logits / τ) (τ = ``temperature``) or, with ``greedy``, the likeliest; stops early after ``stop_id``.
    The signature of every ``generate`` of the book (:mod:`seqlm.sampling`)."""
    temperature = 1.0 if greedy else sampling.check_temperature(temperature)
    steps = sampling.check_steps(steps)
    if len(context) == 0:
        raise ValueError("generation needs at least one context token")
    rng = rng if rng is not None else np.random.default_rng()
    out = []
    with evaluating(model) as device:
        logits, state = model(torch.tensor([[int(i) for i in context]], device=device))
        for _ in range(steps):
            token = sampling.next_token(logits[0, -1].double().cpu().numpy(), temperature,
                                        greedy, rng)
            out.append(token)
            if token == stop_id:
                break
            logits, state = model(torch.tensor([[token]], device=device), state)
    return out
