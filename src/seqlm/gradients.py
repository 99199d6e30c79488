"""Vanishing and exploding gradients, Chapter 5.

A recurrent layer maps h_{t-1} to h_t = f(a_t), a_t = W_ih x_t + W_hh h_{t-1} + b, so

    ∂h_t/∂h_s = diag(f'(a_t)) W_hh · diag(f'(a_{t-1})) W_hh ⋯ diag(f'(a_{s+1})) W_hh,

and ‖∂h_t/∂h_s‖ ≤ (f'_max σ_max(W_hh))^{t-s} with f'_max the bound on |f'| (1 for tanh,
1/4 for the sigmoid). This module measures those norms exactly (with autograd), scales
recurrent matrices to a spectral radius, clips gradients by norm and by value from
scratch, and draws the "cliff" of a one-unit network (Pascanu et al. 2013).
"""

from __future__ import annotations

import math

import torch

# f, f' written with a = the pre-activation, and f'_max = sup |f'|
ACTIVATIONS = {
    "tanh": (torch.tanh, lambda a: 1 - torch.tanh(a) ** 2, 1.0),
    "sigmoid": (torch.sigmoid, lambda a: torch.sigmoid(a) * (1 - torch.sigmoid(a)), 0.25),
    "relu": (torch.relu, lambda a: (a > 0).to(a.dtype), 1.0),
    "linear": (lambda a: a, lambda a: torch.ones_like(a), 1.0),
}


def _activation(name: str):
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def spectral_radius(W: torch.Tensor) -> float:
    """ρ(W) = max |λ_i(W)|, the largest modulus of an eigenvalue."""
    return torch.linalg.eigvals(W.double()).abs().max().item()


def largest_singular_value(W: torch.Tensor) -> float:
    """σ_max(W) = ‖W‖₂ ≥ ρ(W)."""
    return torch.linalg.matrix_norm(W.double(), ord=2).item()


def with_spectral_radius(W: torch.Tensor, radius: float) -> torch.Tensor:
    """W rescaled so that its spectral radius is ``radius`` (> 0)."""
    if not (isinstance(radius, (int, float)) and math.isfinite(radius) and radius > 0):
        raise ValueError(f"a spectral radius must be a number > 0, got {radius!r}")
    current = spectral_radius(W)
    if current == 0:
        raise ValueError("W has spectral radius 0 (it is nilpotent): it cannot be rescaled")
    return W * (radius / current)


def random_recurrent_matrix(hidden_size: int, radius: float,
                            generator: torch.Generator | None = None) -> torch.Tensor:
    """A random Gaussian (hidden_size × hidden_size) matrix scaled to spectral radius ``radius``."""
    if hidden_size < 1:
        raise ValueError(f"hidden_size must be ≥ 1, got {hidden_size}")
    W = torch.randn(hidden_size, hidden_size, dtype=torch.float64, generator=generator)
    return with_spectral_radius(W / math.sqrt(hidden_size), radius)


def run(W_hh, W_ih, b, x, h0=None, activation: str = "tanh"):
    """The states h_1 … h_T of h_t = f(W_ih x_t + W_hh h_{t-1} + b) for one sequence
    x (T, D), and the pre-activations; a list of T states (H,) and a (T, H) tensor."""
    f, _, _ = _activation(activation)
    h = h0 if h0 is not None else x.new_zeros(W_hh.shape[0])
    states, pre = [], []
    for t in range(x.shape[0]):
        a = W_ih @ x[t] + W_hh @ h + b
        h = f(a)
        states.append(h)
        pre.append(a)
    return states, torch.stack(pre)


def state_jacobians(W_hh, W_ih, b, x, h0=None, activation: str = "tanh") -> torch.Tensor:
    """∂h_T/∂h_s for s = 0 … T-1, exactly, by autograd: a (T, H, H) tensor (row s is the
    Jacobian of the last state with respect to the state after step s; s = 0 is h_0)."""
    if x.dim() != 2 or x.shape[0] < 1:
        raise ValueError(f"x must be one sequence of shape (T, D) with T ≥ 1, got {tuple(x.shape)}")
    f, _, _ = _activation(activation)
    H = W_hh.shape[0]
    h = (h0 if h0 is not None else x.new_zeros(H)).clone().requires_grad_()
    states = [h]
    for t in range(x.shape[0]):
        h = f(W_ih @ x[t] + W_hh @ h + b)
        states.append(h)
    earlier = states[:-1]
    rows = [torch.autograd.grad(states[-1][i], earlier, retain_graph=True, allow_unused=True)
            for i in range(H)]
    return torch.stack([torch.stack([torch.zeros(H, dtype=x.dtype) if g is None else g
                                     for g in row]) for row in rows], dim=1)  # (T, H, H)


def jacobian_product(W_hh, pre_activations, s: int, activation: str = "tanh") -> torch.Tensor:
    """The formula: diag(f'(a_T)) W_hh ⋯ diag(f'(a_{s+1})) W_hh, latest step on the left;
    ``pre_activations`` (T, H) holds a_1 … a_T."""
    _, f_prime, _ = _activation(activation)
    T, H = pre_activations.shape
    product = torch.eye(H, dtype=W_hh.dtype)
    for t in range(s, T):  # a_{s+1} … a_T, each multiplied on the left
        product = torch.diag(f_prime(pre_activations[t])) @ W_hh @ product
    return product


def norms_by_distance(jacobians: torch.Tensor) -> torch.Tensor:
    """‖∂h_T/∂h_s‖₂ against the distance T - s = 1 … T (index 0 is distance 1)."""
    return torch.linalg.matrix_norm(jacobians.double(), ord=2).flip(0)


def fitted_rate(norms: torch.Tensor, skip: int = 0) -> float:
    """The factor r of ‖∂h_T/∂h_s‖ ≈ C r^{T-s}: exp of the least-squares slope of
    log-norm against distance (distances below ``skip`` and zero norms left out)."""
    distance = torch.arange(1, len(norms) + 1, dtype=torch.float64)
    keep = (norms > 0) & (distance > skip)
    if keep.sum() < 2:
        raise ValueError("need at least two non-zero norms to fit a rate")
    d, y = distance[keep], torch.log(norms[keep].double())
    slope = ((d - d.mean()) * (y - y.mean())).sum() / ((d - d.mean()) ** 2).sum()
    return math.exp(slope.item())


def bound_rate(W_hh, activation: str) -> float:
    """f'_max σ_max(W_hh): the factor per step of the bound ‖∂h_t/∂h_s‖ ≤ (f'_max σ_max)^{t-s}."""
    _, _, slope = _activation(activation)
    return slope * largest_singular_value(W_hh)


def input_gradient_norms(layer, x: torch.Tensor) -> torch.Tensor:
    """‖∂h_T/∂x_s‖₂ for s = T … 1, by autograd, for any batch-first recurrent layer
    (``nn.RNN``, ``nn.LSTM``, ``nn.GRU`` or the book's own) reading one sequence x (T, D):
    how strongly the last state depends on the input s steps back, index 0 being the
    last input. Unlike :func:`state_jacobians` it needs no formula for the cell."""
    x = x.detach().clone().requires_grad_()
    outputs, _ = layer(x.unsqueeze(0))
    last = outputs[0, -1]                                           # h_T, (H,)
    rows = [torch.autograd.grad(last[i], x, retain_graph=True)[0] for i in range(last.shape[0])]
    jacobians = torch.stack(rows, dim=1)                            # (T, H, D)
    return torch.linalg.matrix_norm(jacobians.double(), ord=2).flip(0).detach()


def input_dependence(model, ids, length: int, windows: int) -> torch.Tensor:
    """How strongly a recurrent language model's last state depends on each earlier word:
    ‖∂h_T/∂e_{T-d}‖ relative to its value at d = 0 (the last word), averaged over
    ``windows`` windows of ``length`` tokens spread evenly over ``ids``; index d is the
    distance in words. ``model`` has ``embed`` and ``rnn`` (:class:`seqlm.rnn.RNNLM`) and
    is used as it is (put it in eval mode, in float64 on the CPU, first)."""
    ids = torch.as_tensor(ids)
    starts = torch.linspace(0, len(ids) - length, windows).long()
    curves = []
    for start in starts.tolist():
        with torch.no_grad():
            inputs = model.embed(ids[start:start + length])                  # (T, m)
        norms = input_gradient_norms(model.rnn, inputs)
        curves.append(norms / norms[0])
    return torch.stack(curves).mean(0)


def reach(relative: torch.Tensor, floor: float = 0.01) -> int:
    """How far back a gradient still matters: the largest distance d (index d of
    ``relative``, d = 0 being the last step) at which ``relative`` is at least ``floor``."""
    above = torch.nonzero(relative >= floor).flatten()
    return int(above.max().item()) if len(above) else 0


# --------------------------------------------------------------------------- clipping

def clip_grad_norm(parameters, max_norm: float) -> torch.Tensor:
    """Rescale the gradients in place so that their joint norm ‖g‖ = sqrt(Σ ‖g_i‖²) is at
    most ``max_norm``: g ← g · max_norm / ‖g‖ when ‖g‖ > max_norm (the direction is kept).
    Returns ‖g‖ before clipping, as ``torch.nn.utils.clip_grad_norm_`` does."""
    if not max_norm > 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm!r}")
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    total = torch.sqrt(sum((g.detach().double() ** 2).sum() for g in grads)).float()
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)  # the same 1e-6 as torch
    for g in grads:
        g.mul_(scale.to(g.dtype))
    return total


def clip_grad_value(parameters, clip_value: float) -> None:
    """Clamp every gradient element to [-clip_value, clip_value], in place: each coordinate
    is cut on its own, so a clipped gradient points in another direction."""
    if not clip_value > 0:
        raise ValueError(f"clip_value must be > 0, got {clip_value!r}")
    for p in parameters:
        if p.grad is not None:
            p.grad.clamp_(-clip_value, clip_value)


# --------------------------------------------------------------------------- the cliff

def one_unit_loss(W_hh, b, steps: int = 50, h0: float = 0.5, target: float = 0.7):
    """The loss (h_T - target)² of a one-unit network h_t = σ(W_hh h_{t-1} + b), h_0 = h0,
    after ``steps`` steps; the scalar weight ``W_hh`` and bias ``b`` are tensors of any
    (matching) shape. A variant of Pascanu et al.'s (2013) one-unit model, whose state
    is h_t = w σ(h_{t-1}) + b."""
    h = torch.full_like(torch.as_tensor(W_hh, dtype=torch.float64), h0)
    for _ in range(steps):
        h = torch.sigmoid(W_hh * h + b)
    return (h - target) ** 2


def descend(W_hh: float, b: float, lr: float, steps: int, clip: float | None = None, **loss):
    """Gradient descent on :func:`one_unit_loss` from (W_hh, b); with ``clip`` the step's
    gradient is clipped by norm first. Returns the path as a (steps + 1, 2) tensor."""
    point = torch.tensor([W_hh, b], dtype=torch.float64, requires_grad=True)
    path = [point.detach().clone()]
    for _ in range(steps):
        value = one_unit_loss(point[0], point[1], **loss)
        grad, = torch.autograd.grad(value, point)
        norm = grad.norm()
        if clip is not None and norm > clip:
            grad = grad * (clip / norm)
        with torch.no_grad():
            point -= lr * grad
        path.append(point.detach().clone())
    return torch.stack(path)


# --------------------------------------------------------------------------- initialisation

INITS = ("default", "orthogonal", "identity")


def _recurrent_weights(layer):
    return [p for name, p in layer.named_parameters() if name.startswith("weight_hh")]


def init_recurrent_(layer, scheme: str = "default"):
    """Set a recurrent layer's hidden-to-hidden weights, in place:

    - ``default``: leave torch.nn's uniform(±1/√H) start;
    - ``orthogonal``: each gate's W_hh a random orthogonal matrix (all singular values 1);
    - ``identity``: W_hh = I, biases 0, input weights N(0, 0.001²), for a ReLU network
      (the IRNN of Le, Jaitly and Hinton 2015): at the start the state is copied
      unchanged from step to step.
    """
    if scheme not in INITS:
        raise ValueError(f"unknown initialisation {scheme!r}; choose one of {', '.join(INITS)}")
    with torch.no_grad():
        for W in _recurrent_weights(layer):
            H = W.shape[1]
            for block in W.split(H, dim=0):  # one square block per gate
                if scheme == "orthogonal":
                    torch.nn.init.orthogonal_(block)
                elif scheme == "identity":
                    block.copy_(torch.eye(H))
        if scheme == "identity":
            for name, p in layer.named_parameters():
                if name.startswith("bias"):
                    p.zero_()
                elif name.startswith("weight_ih"):
                    p.normal_(0.0, 0.001)
    return layer


def set_forget_bias_(layer, value: float):
    """Set an LSTM's forget-gate biases (rows H … 2H of torch's i, f, g, o layout) so that
    b_if + b_hf = value: with 1, the cell keeps about σ(1) ≈ 73 % of its content at the
    start instead of half (Gers et al. 2000; Jozefowicz et al. 2015). A coupled LSTM, whose
    forget gate is f = 1 - i = σ(-a_i), gets the input gate's biases set to -value / 2
    each, which starts its forget gate at the same σ(value)."""
    from seqlm.lstm import CoupledLSTM

    if not (isinstance(layer, torch.nn.LSTM) or getattr(layer, "GATES", None) == 4):
        raise ValueError(f"a forget-gate bias needs an LSTM layer, not {type(layer).__name__}")
    coupled = isinstance(layer, CoupledLSTM) or getattr(layer, "variant", None) == "coupled"
    with torch.no_grad():
        for name, p in layer.named_parameters():
            if name.startswith("bias_ih") or name.startswith("bias_hh"):
                H = p.shape[0] // 4
                rows = slice(0, H) if coupled else slice(H, 2 * H)
                p[rows] = -value / 2 if coupled else value / 2  # the two biases add up
    return layer
