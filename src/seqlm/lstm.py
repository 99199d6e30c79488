"""Long short-term memory, Chapter 6 (Hochreiter and Schmidhuber 1997; Gers et al. 2000)."""

from __future__ import annotations

import torch
from torch import nn

from seqlm.recurrent import StackedRecurrent, linear

VARIANTS = ("standard", "no_forget", "no_output", "coupled")


def lstm_cell(x_t, h, c, W_ih, W_hh, b_ih=None, b_hh=None, variant: str = "standard"):
    """One LSTM step, in ``torch.nn.LSTM``'s gate order (i, f, g, o) along the rows of
    W_ih (4H, input) and W_hh (4H, H)::

        i = σ(W_ii x + b_ii + W_hi h + b_hi)      input gate,  in (0, 1)
        f = σ(W_if x + b_if + W_hf h + b_hf)      forget gate, in (0, 1)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)   candidate,   in (-1, 1)
        o = σ(W_io x + b_io + W_ho h + b_ho)      output gate, in (0, 1)
        c' = f ⊙ c + i ⊙ g,        h' = o ⊙ tanh(c')

    The variants of Greff et al. (2017): ``no_forget`` keeps f = 1, ``no_output`` keeps
    o = 1, ``coupled`` uses f = 1 - i. x_t (B, input), h and c (B, H) -> h', c'.
    """
    gates = linear(x_t, W_ih, b_ih) + linear(h, W_hh, b_hh)       # (B, 4H)
    i, f, g, o = gates.chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    if variant == "no_forget":
        f = torch.ones_like(f)
    elif variant == "no_output":
        o = torch.ones_like(o)
    elif variant == "coupled":
        f = 1 - i
    c = f * c + i * g
    return o * torch.tanh(c), c


class LSTM(StackedRecurrent):
    """A stack of LSTM layers written out step by step (:func:`lstm_cell`), with the
    weight names and shapes of ``torch.nn.LSTM`` so that weights copy across and a test
    proves the two equal. x (B, T, input), state (h_0, c_0) each (layers, B, H) or None ->
    outputs (B, T, H) of the last layer, (h_T, c_T) each (layers, B, H)."""

    GATES = 4

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, dropout: float = 0.0, variant: str = "standard"):
        if variant not in VARIANTS:
            raise ValueError(f"unknown LSTM variant {variant!r}; choose one of {', '.join(VARIANTS)}")
        super().__init__(input_size, hidden_size, num_layers, bias, dropout)
        self.variant = variant

    def cell(self, x_t, state, W_ih, W_hh, b_ih, b_hh):
        h, c = lstm_cell(x_t, *state, W_ih, W_hh, b_ih, b_hh, self.variant)
        return h, (h, c)

    def zero_state(self, x):
        zeros = super().zero_state(x)
        return zeros, zeros.clone()

    def layer_states(self, state, k):
        h, c = state
        return h[k], c[k]

    def stack_states(self, finals):
        return torch.stack([h for h, _ in finals]), torch.stack([c for _, c in finals])


class CoupledLSTM(nn.LSTM):
    """The LSTM with coupled input and forget gates (``variant="coupled"``, f = 1 - i) on
    ``nn.LSTM``'s fused kernel, for training. Since 1 - σ(a) = σ(-a), the cell is an
    ordinary LSTM whose forget-gate rows (of every weight and bias) are the input gate's
    rows negated::

        W_if := -W_ii,   W_hf := -W_hi,   b_if := -b_ii,   b_hf := -b_hi   =>   f = 1 - i

    The parameters keep ``nn.LSTM``'s names and layout, so weights copy to and from
    :class:`LSTM` with ``variant="coupled"`` (a test proves the two equal); their forget
    rows are never read and get no gradient. Batch first; no packed sequences. x (B, T,
    input), state (h_0, c_0) each (layers, B, H) or None -> outputs (B, T, H), (h_T, c_T).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, dropout: float = 0.0):
        super().__init__(input_size, hidden_size, num_layers, bias=bias, batch_first=True,
                         dropout=dropout)

    def coupled_weights(self) -> list[torch.Tensor]:
        """Every weight and bias with its forget rows replaced by the input rows negated."""
        H = self.hidden_size
        return [torch.cat([w[:H], -w[:H], w[2 * H:]]) for w in self._flat_weights]

    def forward(self, x: torch.Tensor, state=None):
        if not isinstance(x, torch.Tensor) or x.dim() != 3:
            raise ValueError("CoupledLSTM reads a padded (B, T, input) tensor, not a packed one")
        if state is None:
            zeros = x.new_zeros(self.num_layers, x.shape[0], self.hidden_size)
            state = (zeros, zeros)
        outputs, h, c = torch.lstm(x, state, self.coupled_weights(), self.bias,
                                   self.num_layers, self.dropout, self.training, False, True)
        return outputs, (h, c)


def cell_states(layer, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The hidden and cell states of every step of a one-layer LSTM (``nn.LSTM`` or
    :class:`LSTM`, same weights) reading one sequence x (T, input): two (T, H) tensors.
    ``nn.LSTM`` returns only the last cell state; this runs :func:`lstm_cell` step by step."""
    W_ih, W_hh = layer.weight_ih_l0, layer.weight_hh_l0
    b_ih, b_hh = getattr(layer, "bias_ih_l0", None), getattr(layer, "bias_hh_l0", None)
    h = c = x.new_zeros(1, W_hh.shape[1])
    hs, cs = [], []
    for t in range(x.shape[0]):
        h, c = lstm_cell(x[t:t + 1], h, c, W_ih, W_hh, b_ih, b_hh)
        hs.append(h[0])
        cs.append(c[0])
    return torch.stack(hs), torch.stack(cs)


def cell_path_norms(layer, x: torch.Tensor) -> torch.Tensor:
    """‖∂c_T/∂c_s‖₂ against the distance T - s = 1 … T, by autograd, for a one-layer LSTM
    reading x (T, input): how much of a change to the cell state survives to the end,
    through the forget gates and the gated paths both."""
    W_ih, W_hh = layer.weight_ih_l0, layer.weight_hh_l0
    b_ih, b_hh = getattr(layer, "bias_ih_l0", None), getattr(layer, "bias_hh_l0", None)
    H = W_hh.shape[1]
    h, c = x.new_zeros(1, H), x.new_zeros(1, H).requires_grad_()
    earlier = []
    for t in range(x.shape[0]):
        earlier.append(c)
        h, c = lstm_cell(x[t:t + 1], h, c, W_ih, W_hh, b_ih, b_hh)
    rows = [torch.autograd.grad(c[0, i], earlier, retain_graph=True) for i in range(H)]
    jacobians = torch.stack([torch.stack([g[0] for g in row]) for row in rows], dim=1)
    return torch.linalg.matrix_norm(jacobians.double(), ord=2).flip(0).detach()


def forget_path_norms(layer, x: torch.Tensor) -> torch.Tensor:
    """The direct cell path alone: ‖diag(f_{s+1} ⊙ … ⊙ f_T)‖₂ = the largest product of a
    unit's forget gates, against the distance T - s = 1 … T, for a one-layer LSTM reading
    x (T, input). :func:`cell_path_norms` measures ∂c_T/∂c_s itself, which adds every path
    through the gates."""
    W_ih, W_hh = layer.weight_ih_l0, layer.weight_hh_l0
    b_ih, b_hh = getattr(layer, "bias_ih_l0", None), getattr(layer, "bias_hh_l0", None)
    variant = "coupled" if isinstance(layer, CoupledLSTM) else getattr(layer, "variant",
                                                                         "standard")
    h = c = x.new_zeros(1, W_hh.shape[1])
    forget = []
    with torch.no_grad():
        for t in range(x.shape[0]):
            i, f, _, _ = (linear(x[t:t + 1], W_ih, b_ih) + linear(h, W_hh, b_hh)).chunk(4, -1)
            f = 1 - torch.sigmoid(i) if variant == "coupled" else torch.sigmoid(f)
            forget.append(f[0])
            h, c = lstm_cell(x[t:t + 1], h, c, W_ih, W_hh, b_ih, b_hh, variant)
    products = torch.cumprod(torch.stack(forget).flip(0), dim=0)    # distance 1 … T
    return products.max(dim=1).values.double()


GATE_ROWS = {"input": 0, "forget": 1, "candidate": 2, "output": 3}  # nn.LSTM's row blocks


def open_gate_(layer, gate: str, logit: float = 40.0):
    """Hold one gate of an ``nn.LSTM`` (or :class:`LSTM`) open at 1, in place, for good: its
    weights are zeroed, its biases set so that σ(logit) = 1 in float32, and gradient hooks
    keep them there. Pinning "forget" gives the variant ``no_forget`` (f = 1) and "output"
    gives ``no_output`` (o = 1), at the speed of the library's layer."""
    if gate not in ("forget", "output", "input"):
        raise ValueError(f"only a sigmoid gate can be held open; got {gate!r}")
    block = GATE_ROWS[gate]
    for name, parameter in layer.named_parameters():
        H = parameter.shape[0] // 4
        rows = slice(block * H, (block + 1) * H)
        with torch.no_grad():
            if name.startswith("weight"):
                parameter[rows] = 0.0
            else:
                parameter[rows] = logit / 2  # the two biases add up
        mask = torch.ones_like(parameter)
        mask[rows] = 0.0
        parameter.register_hook(lambda grad, mask=mask: grad * mask)
    return layer
