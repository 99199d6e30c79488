"""Backpropagation through time, by hand, Chapter 4.

A one-layer recurrent network reads vectors x_1 … x_T (in a language model, the
embeddings e_t) and predicts targets y_1 … y_T:

    a_t = W_ih x_t + W_hh h_{t-1} + b_h,     h_t = f(a_t),
    ℓ_t = W_hy h_t + b_y,                    L = (1/(T B)) Σ_t Σ_b CE(ℓ_t, y_t).

:func:`backward` follows the chapter's derivation line by line: the error at
each output, then a sweep from t = T down to 1 that adds the error arriving
from the future, W_hhᵀ δ_{t+1}, to the one from the output, and accumulates
every weight's gradient as a sum over time. Batch-first tensors throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

ACTIVATIONS = {
    # f and f' written with f(a), which the forward pass keeps
    "tanh": (torch.tanh, lambda h: 1 - h ** 2),
    "sigmoid": (torch.sigmoid, lambda h: h * (1 - h)),
    "relu": (torch.relu, lambda h: (h > 0).to(h.dtype)),
}
PARAMETERS = ("W_ih", "W_hh", "b_h", "W_hy", "b_y")


def init_params(input_size: int, hidden_size: int, output_size: int, dtype=torch.float64,
                generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """Random weights, uniform in ±1/sqrt(hidden_size)."""
    bound = hidden_size ** -0.5
    shapes = {"W_ih": (hidden_size, input_size), "W_hh": (hidden_size, hidden_size),
              "b_h": (hidden_size,), "W_hy": (output_size, hidden_size), "b_y": (output_size,)}
    return {name: (torch.rand(shape, dtype=dtype, generator=generator) * 2 - 1) * bound
            for name, shape in shapes.items()}


@dataclass
class Cache:
    """What the backward pass needs from the forward pass."""

    x: torch.Tensor        # (B, T, input_size) inputs
    y: torch.Tensor        # (B, T) targets, class ids
    h: torch.Tensor        # (B, T + 1, hidden_size) states, h[:, 0] = h_0
    p: torch.Tensor        # (B, T, output_size) softmax of the scores ℓ_t
    activation: str


def forward(params: dict, x: torch.Tensor, y: torch.Tensor, h0: torch.Tensor | None = None,
            activation: str = "tanh") -> tuple[torch.Tensor, Cache]:
    """The mean cross-entropy loss and the cache; x (B, T, input_size), y (B, T) class ids."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}")
    f, _ = ACTIVATIONS[activation]
    B, T, _ = x.shape
    h = [h0 if h0 is not None else x.new_zeros(B, params["W_hh"].shape[0])]
    for t in range(T):
        a_t = x[:, t] @ params["W_ih"].T + h[-1] @ params["W_hh"].T + params["b_h"]
        h.append(f(a_t))
    h = torch.stack(h, dim=1)                                   # (B, T+1, hidden_size)
    logits = h[:, 1:] @ params["W_hy"].T + params["b_y"]        # ℓ_t, (B, T, output_size)
    log_p = torch.log_softmax(logits, dim=-1)
    loss = -log_p.gather(-1, y.unsqueeze(-1)).mean()
    return loss, Cache(x, y, h, log_p.exp(), activation)


def backward(params: dict, cache: Cache) -> dict[str, torch.Tensor]:
    """dL/dθ for every parameter, and dL/dh_0 (key ``h0``)."""
    _, f_prime = ACTIVATIONS[cache.activation]
    x, h = cache.x, cache.h
    B, T, _ = x.shape
    # dL/dℓ_t = (softmax(ℓ_t) - onehot(y_t)) / (T B): the error of every step's scores
    d_logits = cache.p.clone()
    d_logits.scatter_add_(-1, cache.y.unsqueeze(-1), -torch.ones_like(d_logits[..., :1]))
    d_logits /= T * B                                            # (B, T, output_size)
    grads = {name: torch.zeros_like(params[name]) for name in PARAMETERS}
    grads["W_hy"] = torch.einsum("btc,bth->ch", d_logits, h[:, 1:])
    grads["b_y"] = d_logits.sum(dim=(0, 1))
    d_h_next = torch.zeros_like(h[:, 0])                         # dL/dh_{T+1} = 0
    for t in reversed(range(T)):                                 # t = T … 1 (0-based here)
        d_h = d_logits[:, t] @ params["W_hy"] + d_h_next         # from the scores and the future
        delta = d_h * f_prime(h[:, t + 1])                       # δ_t = dL/da_t
        grads["W_ih"] += delta.T @ x[:, t]
        grads["W_hh"] += delta.T @ h[:, t]                       # h_{t-1}
        grads["b_h"] += delta.sum(dim=0)
        d_h_next = delta @ params["W_hh"]                        # W_hhᵀ δ_t, to step t-1
    grads["h0"] = d_h_next
    return grads


class BPTT(torch.autograd.Function):
    """The loss as an autograd function whose backward is :func:`backward`, so that
    ``torch.autograd.gradcheck`` can test it against finite differences."""

    @staticmethod
    def forward(ctx, x, y, h0, W_ih, W_hh, b_h, W_hy, b_y, activation="tanh"):
        params = dict(zip(PARAMETERS, (W_ih, W_hh, b_h, W_hy, b_y)))
        loss, cache = forward(params, x, y, h0, activation)
        ctx.params, ctx.cache, ctx.has_h0 = params, cache, h0 is not None
        return loss

    @staticmethod
    def backward(ctx, grad_loss):
        grads = backward(ctx.params, ctx.cache)
        d_h0 = grad_loss * grads["h0"] if ctx.has_h0 else None  # h0=None: zeros, no gradient
        return (None, None, d_h0, *(grad_loss * grads[name] for name in PARAMETERS), None)


def saved_activation_bytes(compute_loss) -> tuple[torch.Tensor, int]:
    """Run ``compute_loss()`` and count the bytes autograd keeps for the backward pass."""
    total = 0

    def pack(tensor):
        nonlocal total
        total += tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = compute_loss()
    return loss, total
