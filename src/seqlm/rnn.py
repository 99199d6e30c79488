"""Recurrent networks, Chapter 3.

:class:`ElmanRNN` is the simple recurrent network of Elman (1990) written out
step by step, with the weight names and shapes of ``torch.nn.RNN``
(``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, …), so
that weights copy across and a test proves the two compute the same thing:

    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)        (or relu)

Both take and return batch-first tensors: x (B, T, input), output (B, T, H),
state (layers, B, H).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from seqlm.ffnn import FEATURE_INIT_STD


class ElmanRNN(nn.Module):
    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh"):
        super().__init__()
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be tanh or relu, got {nonlinearity!r}")
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
    """Embedding -> recurrent layers -> a linear map to |V| scores, trained with teacher
    forcing: at every step the input is the true previous token."""

    def __init__(self, vocab_size: int, embed_dim: int, hidden_dim: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", dropout: float = 0.0, scratch: bool = False):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        nn.init.normal_(self.embed.weight, std=FEATURE_INIT_STD)  # small, as in Chapter 2
        recurrent = ElmanRNN if scratch else _TorchRNN
        self.rnn = recurrent(embed_dim, hidden_dim, num_layers, nonlinearity)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_dim, vocab_size)

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None):
        """x: (B, T) token ids -> logits (B, T, |V|), state (layers, B, H)."""
        h, state = self.rnn(self.drop(self.embed(x)), state)
        return self.out(self.drop(h)), state


class _TorchRNN(nn.RNN):
    def __init__(self, input_size, hidden_size, num_layers, nonlinearity):
        super().__init__(input_size, hidden_size, num_layers, nonlinearity=nonlinearity,
                         batch_first=True)


@torch.no_grad()
def next_distribution(model: nn.Module, context: list[int], device=None) -> torch.Tensor:
    """p(· | context) from a recurrent LM that reads the whole context: (|V|,)."""
    device = device or next(model.parameters()).device
    model.eval()
    logits, _ = model(torch.tensor([context], device=device))
    return torch.softmax(logits[0, -1].float(), dim=-1).cpu()


@torch.no_grad()
def generate(model: nn.Module, context: list[int], steps: int, temperature: float = 1.0,
             generator: torch.Generator | None = None, device=None) -> list[int]:
    """Continue ``context`` by sampling ``steps`` tokens from softmax(logits / T)."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    if not context:
        raise ValueError("generation needs at least one context token")
    device = device or next(model.parameters()).device
    model.eval()
    logits, state = model(torch.tensor([context], device=device))
    out = []
    for _ in range(steps):
        p = torch.softmax(logits[0, -1].float().cpu() / temperature, dim=-1)
        token = int(torch.multinomial(p, 1, generator=generator))
        out.append(token)
        logits, state = model(torch.tensor([[token]], device=device), state)
    return out
