"""Gated recurrent units, Chapter 7 (Cho et al. 2014): torch's form (:func:`gru_cell`), Cho et al.'s
(:func:`gru_cell_cho`) and the lectures' (Chung et al. 2014, :func:`gru_cell_chung`)."""

from __future__ import annotations

import torch

from seqlm.recurrent import StackedRecurrent, linear


def gru_cell(x_t, h, W_ih, W_hh, b_ih=None, b_hh=None):
    """One GRU step in ``torch.nn.GRU``'s convention, gates (r, z, n) along the rows of
    W_ih (3H, input) and W_hh (3H, H)::

        r = σ(W_ir x + b_ir + W_hr h + b_hr)              reset gate,  in (0, 1)
        z = σ(W_iz x + b_iz + W_hz h + b_hz)              update gate, in (0, 1)
        n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))     candidate,   in (-1, 1)
        h' = (1 - z) ⊙ n + z ⊙ h

    The reset gate multiplies the recurrent product *after* it is computed, and z is
    the share of the old state that is kept. x_t (B, input), h (B, H) -> h' (B, H).
    """
    x_r, x_z, x_n = linear(x_t, W_ih, b_ih).chunk(3, dim=-1)
    h_r, h_z, h_n = linear(h, W_hh, b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h


def _reset_before(x_t, h, W_ih, W_hh, b_ih, b_hh):
    """The gates and candidate with the reset gate applied to h *before* the recurrent
    weights, as Cho et al. write it: (z, h̃)."""
    W_ir, W_iz, W_in = W_ih.chunk(3, dim=0)
    W_hr, W_hz, W_hn = W_hh.chunk(3, dim=0)
    b_i = b_ih.chunk(3) if b_ih is not None else (None,) * 3
    b_h = b_hh.chunk(3) if b_hh is not None else (None,) * 3
    r = torch.sigmoid(linear(x_t, W_ir, b_i[0]) + linear(h, W_hr, b_h[0]))
    z = torch.sigmoid(linear(x_t, W_iz, b_i[1]) + linear(h, W_hz, b_h[1]))
    candidate = torch.tanh(linear(x_t, W_in, b_i[2]) + linear(r * h, W_hn, b_h[2]))
    return z, candidate


def gru_cell_cho(x_t, h, W_ih, W_hh, b_ih=None, b_hh=None):
    """The same weights used as Cho et al. (2014, eqs. 5-8 of the published version; the
    first arXiv version, 1406.1078v1, applied the reset gate as torch does) write the
    cell::

        r = σ(W_ir x + W_hr h),  z = σ(W_iz x + W_hz h),
        h̃ = tanh(W_in x + W_hn (r ⊙ h)),   h' = z ⊙ h + (1 - z) ⊙ h̃

    (biases as in ``gru_cell``; ``b_hn`` is added after the product). The z convention is
    torch's (z is the share of the old state kept); the one difference from
    :func:`gru_cell` is where the reset gate acts: on h *before* the recurrent product,
    not on the product. With r = 1 the two are the same function."""
    z, candidate = _reset_before(x_t, h, W_ih, W_hh, b_ih, b_hh)
    return z * h + (1 - z) * candidate


def gru_cell_chung(x_t, h, W_ih, W_hh, b_ih=None, b_hh=None):
    """The cell as Chung et al. (2014) write it, and as the lectures and Olah's post draw
    it: Cho's cell with the roles of z and 1 - z swapped::

        h' = (1 - z) ⊙ h + z ⊙ h̃          (r, z, h̃ as in :func:`gru_cell_cho`)

    z is now the share of the *new* candidate. That is only a naming: since
    1 - σ(a) = σ(-a), negating the update gate's weights and biases turns this cell into
    Cho's exactly."""
    z, candidate = _reset_before(x_t, h, W_ih, W_hh, b_ih, b_hh)
    return (1 - z) * h + z * candidate


class GRU(StackedRecurrent):
    """A stack of GRU layers written out step by step (:func:`gru_cell`), with the weight
    names and shapes of ``torch.nn.GRU`` so that weights copy across and a test proves the
    two equal. x (B, T, input), h_0 (layers, B, H) or None -> outputs (B, T, H) of the
    last layer, h_T (layers, B, H)."""

    GATES = 3

    def cell(self, x_t, h, W_ih, W_hh, b_ih, b_hh):
        h = gru_cell(x_t, h, W_ih, W_hh, b_ih, b_hh)
        return h, h


def update_gates(layer, x: torch.Tensor) -> torch.Tensor:
    """The update gate z_t of every step of a one-layer GRU (``nn.GRU`` or :class:`GRU`)
    reading one sequence x (T, input): (T, H). z near 1 keeps the old state (the unit
    integrates slowly, over many steps); near 0 it is replaced by the candidate."""
    W_ih, W_hh = layer.weight_ih_l0, layer.weight_hh_l0
    b_ih, b_hh = getattr(layer, "bias_ih_l0", None), getattr(layer, "bias_hh_l0", None)
    h = x.new_zeros(1, W_hh.shape[1])
    gates = []
    for t in range(x.shape[0]):
        x_z = linear(x[t:t + 1], W_ih, b_ih).chunk(3, dim=-1)[1]
        h_z = linear(h, W_hh, b_hh).chunk(3, dim=-1)[1]
        gates.append(torch.sigmoid(x_z + h_z)[0])
        h = gru_cell(x[t:t + 1], h, W_ih, W_hh, b_ih, b_hh)
    return torch.stack(gates)
