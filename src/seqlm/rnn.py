"""Recurrent networks, Chapter 3: the Elman cell from scratch and the RNN language model."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from seqlm import layers, sampling
from seqlm.train import evaluating


class ElmanRNN(nn.Module):
    """The simple recurrent network of Elman (1990), written out step by step::

        h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)        (or relu)

    with the weight names and shapes of ``torch.nn.RNN`` (``weight_ih_l{k}``
    (H, input) for layer 0 and (H, H) above it, ``weight_hh_l{k}`` (H, H),
    ``bias_ih_l{k}`` and ``bias_hh_l{k}`` (H,)), so that weights copy across and a
    test proves the two compute the same thing. Each layer's states are the next
    layer's inputs.

    Batch first, as ``nn.RNN(batch_first=True)``: x (B, T, input) -> output (B, T, H)
    of the last layer and the final states h_T (layers, B, H); an unbatched x (T, input)
    gives (T, H) and (layers, H).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh"):
        super().__init__()
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be tanh or relu, got {nonlinearity!r}")
        if min(input_size, hidden_size, num_layers) < 1:
            raise ValueError("input_size, hidden_size and num_layers must be ≥ 1")
        self.hidden_size, self.num_layers = hidden_size, num_layers
        self.act = torch.tanh if nonlinearity == "tanh" else torch.relu
        bound = 1 / math.sqrt(hidden_size)  # nn.RNN's initialisation
        for k in range(num_layers):
            inputs = input_size if k == 0 else hidden_size
            for name, shape in [("weight_ih", (hidden_size, inputs)),
                                ("weight_hh", (hidden_size, hidden_size)),
                                ("bias_ih", (hidden_size,)), ("bias_hh", (hidden_size,))]:
                self.register_parameter(f"{name}_l{k}",
                                        nn.Parameter(torch.empty(shape).uniform_(-bound, bound)))

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None):
        """x: (B, T, input) -> output (B, T, H) of the last layer, h_T (layers, B, H)."""
        if x.dim() == 2:  # unbatched, as nn.RNN allows: (T, input), h0 (layers, H)
            output, h = self(x.unsqueeze(0), None if h0 is None else h0.unsqueeze(1))
            return output[0], h[:, 0]
        if x.dim() != 3:
            raise ValueError(f"expected x of shape (B, T, input) or (T, input), got {tuple(x.shape)}")
        B, T, _ = x.shape
        if h0 is None:
            h0 = x.new_zeros(self.num_layers, B, self.hidden_size)
        finals = []
        for k in range(self.num_layers):
            W_ih, W_hh = getattr(self, f"weight_ih_l{k}"), getattr(self, f"weight_hh_l{k}")
            b_ih, b_hh = getattr(self, f"bias_ih_l{k}"), getattr(self, f"bias_hh_l{k}")
            h, outputs = h0[k], []
            for t in range(T):
                h = self.act(x[:, t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)  # (B, H)
                outputs.append(h)
            x = torch.stack(outputs, dim=1)                                  # (B, T, H)
            finals.append(h)
        return x, torch.stack(finals)


class RNNLM(nn.Module):
    """A recurrent language model trained with teacher forcing::

        e_t = E[x_t],   h_t = RNN(e_t, h_{t-1}),   p(x_{t+1} | x_{≤t}) = softmax(W_ho h_t + b_o)

    with dropout on the embeddings and on the states. ``tie=True`` uses the
    embedding table as the output weights, W_ho = E (Press and Wolf 2017; it needs
    embed_size = hidden_size). x (B, T) token ids -> logits (B, T, |V|) and the final
    states (layers, B, H), carried to the next batch. ``scratch=True`` runs
    :class:`ElmanRNN` instead of ``nn.RNN`` (same weights).
    """

    def __init__(self, vocab_size: int, embed_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", dropout: float = 0.0, scratch: bool = False,
                 tie: bool = False):
        super().__init__()
        if tie and embed_size != hidden_size:
            raise ValueError(f"tying the embedding to the output layer needs embed_size = "
                             f"hidden_size, got {embed_size} and {hidden_size}")
        self.embed = layers.init_features_(nn.Embedding(vocab_size, embed_size))
        recurrent = ElmanRNN if scratch else _TorchRNN
        self.rnn = recurrent(embed_size, hidden_size, num_layers, nonlinearity)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size, vocab_size)
        if tie:
            self.out.weight = self.embed.weight

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None):
        """x: (B, T) token ids -> logits (B, T, |V|), state (layers, B, H)."""
        h, state = self.rnn(self.drop(self.embed(x)), state)
        return self.out(self.drop(h)), state


class _TorchRNN(nn.RNN):
    def __init__(self, input_size, hidden_size, num_layers, nonlinearity):
        super().__init__(input_size, hidden_size, num_layers, nonlinearity=nonlinearity,
                         batch_first=True)


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
    softmax(logits / T) or, with ``greedy``, the likeliest; stops early after ``stop_id``.
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
