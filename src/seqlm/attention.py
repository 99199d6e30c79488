"""Attention: a weighted average of vectors, weighted by how well each matches a query
(Chapter 10).

A decoder state d_i (the *query*) scores every encoder state h_j (the *keys*); the
scores, masked at padding and normalised with a softmax, are the attention weights; the
context is the weighted average of the *values* (the encoder states again)::

    score(d_i, h_j)                                         a score per output step i and input j
    α_ij = exp score(d_i, h_j) / Σ_j' exp score(d_i, h_j')  over the real positions j' only
    h̄_i  = Σ_j α_ij h_j                      the context

The score functions (:data:`SCORES`):

- ``dot``      d_i · h_j                        (Luong et al. 2015; equal sizes)
- ``general``  d_i · (W_a h_j)                  (Luong et al. 2015)
- ``additive`` v · tanh(W_q d_i + W_k h_j + b_k)  (Bahdanau et al. 2015; Luong's "concat")
- ``scaled``   d_i · h_j / √n_k                 (Vaswani et al. 2017; n_k numbers each)

Self-attention (:class:`SelfAttention`) lets a sequence attend to itself, with queries,
keys and values all computed from the same vectors.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Softmax over the last axis with the positions where ``mask`` is False left out
    (weight exactly 0). scores (…, T), mask broadcastable to it, True where real. Every
    row needs at least one real position."""
    if mask is not None:
        scores = scores.masked_fill(~mask, -math.inf)
    return torch.softmax(scores, dim=-1)


class DotScore(nn.Module):
    """score(d_i, h_j) = d_i · h_j. queries (B, T', n), keys (B, T, n) -> scores (B, T', T)."""

    def __init__(self, query_size: int, key_size: int):
        super().__init__()
        if query_size != key_size:
            raise ValueError(f"the dot score needs equal sizes, got {query_size} and {key_size}")

    def forward(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        return queries @ keys.transpose(-1, -2)


class ScaledDotScore(DotScore):
    """score(d_i, h_j) = d_i · h_j / √n: dot products of n numbers, scaled back to unit variance.
    queries (B, T', n), keys (B, T, n) -> scores (B, T', T)."""

    def forward(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        return queries @ keys.transpose(-1, -2) / math.sqrt(queries.shape[-1])


class GeneralScore(nn.Module):
    """score(d_i, h_j) = d_i · (W_a h_j), a learned bilinear form. queries (B, T', n_d), keys
    (B, T, n_k) -> scores (B, T', T); W_a is (n_d, n_k)."""

    def __init__(self, query_size: int, key_size: int):
        super().__init__()
        self.W_a = nn.Linear(key_size, query_size, bias=False)

    def forward(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        return queries @ self.W_a(keys).transpose(-1, -2)


class AdditiveScore(nn.Module):
    """score(d_i, h_j) = v · tanh(W_q d_i + W_k h_j + b_k), a one-hidden-layer network of the pair
    (``attention_size`` units). queries (B, T', n_d), keys (B, T, n_k) -> scores
    (B, T', T)."""

    def __init__(self, query_size: int, key_size: int, attention_size: int | None = None):
        super().__init__()
        attention_size = attention_size or key_size
        self.W_q = nn.Linear(query_size, attention_size, bias=False)
        self.W_k = nn.Linear(key_size, attention_size)   # W_k, b_k
        self.v = nn.Linear(attention_size, 1, bias=False)

    def forward(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        hidden = torch.tanh(self.W_q(queries)[:, :, None, :]      # (B, T', 1, a)
                            + self.W_k(keys)[:, None, :, :])      # (B, 1, T, a)
        return self.v(hidden).squeeze(-1)                         # (B, T', T)


SCORES = {"dot": DotScore, "general": GeneralScore, "additive": AdditiveScore,
          "scaled": ScaledDotScore}


def score_function(name: str, query_size: int, key_size: int) -> nn.Module:
    """One of :data:`SCORES` by name, for queries and keys of these sizes."""
    if name not in SCORES:
        raise ValueError(f"unknown score {name!r}; choose one of {', '.join(SCORES)}")
    return SCORES[name](query_size, key_size)


def attend(score: nn.Module, queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor,
           mask: torch.Tensor | None = None):
    """Attention of every query to the real keys: queries (B, T', n_d), keys (B, T, n_k),
    values (B, T, n_v), mask (B, T) True where real -> contexts g (B, T', n_v) and
    weights α (B, T', T), zero at padding."""
    weights = masked_softmax(score(queries, keys), None if mask is None else mask[:, None, :])
    return weights @ values, weights


class SelfAttention(nn.Module):
    """One head of scaled dot-product self-attention, in ``nn.MultiheadAttention``'s layout
    (``in_proj_weight`` holds W_Q, W_K, W_V stacked; ``out_proj`` is W_O), on vectors
    X of m numbers::

        Q = X W_Qᵀ + b_Q,  K = X W_Kᵀ + b_K,  V = X W_Vᵀ + b_V
        A = softmax(Q Kᵀ / √m) (masked)      Y = (A V) W_Oᵀ + b_O

    x (B, T, m), mask (B, T) True where real -> outputs (B, T, m) and weights A (B, T, T).
    With ``causal`` each position attends only to itself and those before it."""

    def __init__(self, size: int, causal: bool = False):
        super().__init__()
        self.size, self.causal = size, causal
        self.in_proj_weight = nn.Parameter(torch.empty(3 * size, size))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * size))
        self.out_proj = nn.Linear(size, size)
        nn.init.xavier_uniform_(self.in_proj_weight)
        self.score = ScaledDotScore(size, size)

    @torch.no_grad()
    def copy_from(self, reference: nn.MultiheadAttention) -> "SelfAttention":
        """Take the weights of a one-head ``nn.MultiheadAttention`` of the same size."""
        if reference.num_heads != 1 or reference.embed_dim != self.size:
            raise ValueError("copy from a one-head nn.MultiheadAttention of the same size")
        self.in_proj_weight.copy_(reference.in_proj_weight)
        self.in_proj_bias.copy_(reference.in_proj_bias)
        self.out_proj.load_state_dict(reference.out_proj.state_dict())
        return self

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None):
        W_Q, W_K, W_V = self.in_proj_weight.chunk(3)
        b_Q, b_K, b_V = self.in_proj_bias.chunk(3)
        Q, K, V = x @ W_Q.T + b_Q, x @ W_K.T + b_K, x @ W_V.T + b_V      # (B, T, m) each
        allowed = torch.ones(x.shape[0], 1, x.shape[1], dtype=torch.bool, device=x.device)
        if mask is not None:
            allowed = allowed & mask[:, None, :]                         # keys that are real
        if self.causal:
            T = x.shape[1]
            allowed = allowed & torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        A = masked_softmax(self.score(Q, K), allowed)                   # (B, T, T)
        return self.out_proj(A @ V), A


def sinusoidal_positions(length: int, size: int) -> torch.Tensor:
    """The Transformer's position vectors (length, size): for position p and i < size/2,
    PE[p, 2i] = sin(p / 10000^(2i/size)) and PE[p, 2i+1] = cos(p / 10000^(2i/size))."""
    if size % 2:
        raise ValueError("the position vectors need an even size")
    p = torch.arange(length, dtype=torch.float32)[:, None]              # (length, 1)
    rates = 10000 ** (-torch.arange(0, size, 2, dtype=torch.float32) / size)   # (size/2,)
    angles = p * rates                                                  # (length, size/2)
    return torch.stack([angles.sin(), angles.cos()], dim=-1).reshape(length, size)


# --------------------------------------------------------------------------- reading a map

def _path(weights: torch.Tensor) -> torch.Tensor:
    """The input position each output step attends to most: weights (T', T) -> (T',)."""
    if weights.dim() != 2 or weights.shape[0] == 0 or weights.shape[1] == 0:
        raise ValueError("give one attention map (outputs, inputs) with at least one of each")
    return weights.argmax(-1)


def monotonicity(weights: torch.Tensor) -> float:
    """The share of output steps (after the first) whose most attended input position is
    not left of the previous step's: 1 for an alignment that only moves forward (or
    stays). weights (T', T), one map."""
    path = _path(weights)
    if len(path) < 2:
        return 1.0
    return (path[1:] >= path[:-1]).float().mean().item()


def coverage(weights: torch.Tensor) -> float:
    """The share of input positions that some output step attends to most. An alignment
    stuck on one position scores 1/T however monotonic it is. weights (T', T), one map."""
    return len(set(_path(weights).tolist())) / weights.shape[1]
