"""The loop every from-scratch recurrent layer of the book shares (Chapters 3, 6, 7, 8).

A layer k reads its input sequence one step at a time, ``state = cell(x_t, state)``,
and its outputs are the next layer's inputs. :class:`StackedRecurrent` owns that
loop and the weights, with ``torch.nn``'s names and layout so that weights copy
across from ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU``:

    weight_ih_l{k}  (G·H, input of layer k)     bias_ih_l{k}  (G·H,)
    weight_hh_l{k}  (G·H, H)                    bias_hh_l{k}  (G·H,)

where G is the number of gates stacked in the rows (1 for the Elman cell, 4 for the
LSTM, 3 for the GRU). A subclass says what G is and what one step computes.

Batch first: x (B, T, input). ``lengths`` (B,) marks padded batches: a sequence's state
stops changing after its last real step and its outputs there are zero, as with
``nn.utils.rnn.pack_padded_sequence``.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class StackedRecurrent(nn.Module):
    """``num_layers`` recurrent layers of ``hidden_size`` units; see the module docstring.
    Subclasses set ``GATES`` and implement :meth:`cell` (and :meth:`zero_state` when the
    state is more than one tensor)."""

    GATES = 1

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, dropout: float = 0.0):
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size),
                            ("num_layers", num_layers)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer ≥ 1, got {value!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout is a probability in [0, 1), got {dropout!r}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.drop = bias, nn.Dropout(dropout)
        bound = 1 / math.sqrt(hidden_size)  # torch.nn's initialisation
        rows = self.GATES * hidden_size
        for k in range(num_layers):
            shapes = [("weight_ih", (rows, input_size if k == 0 else hidden_size)),
                      ("weight_hh", (rows, hidden_size))]
            if bias:
                shapes += [("bias_ih", (rows,)), ("bias_hh", (rows,))]
            for name, shape in shapes:
                self.register_parameter(f"{name}_l{k}",
                                        nn.Parameter(torch.empty(shape).uniform_(-bound, bound)))

    def weights(self, k: int) -> tuple:
        """W_ih, W_hh, b_ih, b_hh of layer k (the biases are None without bias)."""
        get = lambda name: getattr(self, f"{name}_l{k}", None)
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def cell(self, x_t, state, W_ih, W_hh, b_ih, b_hh):
        """One step: x_t (B, input), the state -> (h_t (B, H), the new state)."""
        raise NotImplementedError

    def zero_state(self, x: torch.Tensor):
        """The initial state of every layer when none is given."""
        return x.new_zeros(self.num_layers, x.shape[0], self.hidden_size)

    def layer_states(self, state, k: int):
        """Layer k's part of the stacked state."""
        return state[k]

    def stack_states(self, finals: list):
        """The stacked final state from each layer's."""
        return torch.stack(finals)

    def forward(self, x: torch.Tensor, state=None, lengths: torch.Tensor | None = None):
        """x (B, T, input) -> outputs of the last layer (B, T, H), final state."""
        if x.dim() != 3:
            raise ValueError(f"expected x of shape (B, T, input), got {tuple(x.shape)}")
        B, T, _ = x.shape
        state = self.zero_state(x) if state is None else state
        mask = None
        if lengths is not None:
            lengths = torch.as_tensor(lengths, device=x.device)
            if lengths.shape != (B,) or (lengths < 1).any() or (lengths > T).any():
                raise ValueError(f"lengths must be (B,) = ({B},) values in 1 … {T}")
            mask = torch.arange(T, device=x.device)[None, :] < lengths[:, None]  # (B, T)
        finals = []
        for k in range(self.num_layers):
            if k > 0:
                x = self.drop(x)  # dropout between layers, as nn.LSTM's `dropout`
            layer_state, outputs = self.layer_states(state, k), []
            for t in range(T):
                h, new_state = self.cell(x[:, t], layer_state, *self.weights(k))
                if mask is not None:  # past its end, a sequence keeps its state
                    keep = mask[:, t, None]
                    layer_state = _where(keep, new_state, layer_state)
                    h = h * keep
                else:
                    layer_state = new_state
                outputs.append(h)
            x = torch.stack(outputs, dim=1)                                  # (B, T, H)
            finals.append(layer_state)
        return x, self.stack_states(finals)


def _where(keep, new, old):
    """``new`` where ``keep`` (B, 1) holds, else ``old``; for a tensor or a tuple of them."""
    if isinstance(new, tuple):
        return tuple(_where(keep, n, o) for n, o in zip(new, old))
    return torch.where(keep, new, old)


def linear(x, W, b):
    """x Wᵀ + b, with b optional."""
    return x @ W.T if b is None else x @ W.T + b
