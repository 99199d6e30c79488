"""The neural probabilistic language model of Bengio et al. (2003), Chapter 2.

With the n-1 previous words w_{t-n+1} … w_{t-1}, their feature vectors are
concatenated, x = [C(w_{t-n+1}); …; C(w_{t-1})], and

    y = b + W x + U tanh(d + H x),        p(w_t | context) = softmax(y)[w_t].

The attribute names are the paper's: ``C`` (the |V| × m table of word
features), ``H`` with bias ``d`` (hidden layer), ``U`` with bias ``b``
(output layer) and ``W`` (the optional direct connections).
"""

from __future__ import annotations

import torch
from torch import nn


FEATURE_INIT_STD = 0.05


class NeuralLM(nn.Module):
    def __init__(self, vocab_size: int, context: int, embed_dim: int = 64, hidden_dim: int = 128,
                 direct: bool = True):
        super().__init__()
        if min(vocab_size, context, embed_dim, hidden_dim) < 1:
            raise ValueError("vocab_size, context, embed_dim and hidden_dim must be ≥ 1")
        self.context = context
        self.C = nn.Embedding(vocab_size, embed_dim)
        self.H = nn.Linear(context * embed_dim, hidden_dim)  # H x + d
        self.U = nn.Linear(hidden_dim, vocab_size)           # U h + b
        self.W = nn.Linear(context * embed_dim, vocab_size, bias=False) if direct else None
        # Small random features (nn.Embedding's default is N(0, 1)): a word's vector moves
        # only when the word is in a context, and what training puts there must not be
        # drowned by where it started.
        nn.init.normal_(self.C.weight, std=FEATURE_INIT_STD)

    def forward(self, x: torch.Tensor, state=None):
        """x: (B, n-1) word ids -> logits y: (B, |V|); no state to carry."""
        if x.shape[-1] != self.context:
            raise ValueError(f"expected {self.context} context words, got {x.shape[-1]}")
        features = self.C(x).flatten(1)                      # (B, (n-1) m)
        y = self.U(torch.tanh(self.H(features)))              # (B, |V|)
        if self.W is not None:
            y = y + self.W(features)
        return y, None


def parameter_count(vocab_size: int, context: int, embed_dim: int, hidden_dim: int,
                    direct: bool = True) -> int:
    """|V| m  +  ((n-1) m + 1) h  +  (h + 1) |V|  [+ (n-1) m |V| with direct connections]."""
    features = context * embed_dim
    count = vocab_size * embed_dim + (features + 1) * hidden_dim + (hidden_dim + 1) * vocab_size
    return count + (features * vocab_size if direct else 0)


def nearest_words(embeddings: torch.Tensor, word_id: int, k: int = 8,
                  among: int | None = None) -> list[tuple[int, float]]:
    """The k words whose feature vectors have the highest cosine similarity to ``word_id``'s,
    searching only ids below ``among`` when given (the most frequent words, in our vocabularies)."""
    unit = nn.functional.normalize(embeddings.detach().float(), dim=1)
    similarity = unit @ unit[word_id]
    similarity[word_id] = -2.0  # not itself
    if among is not None:
        similarity[among:] = -2.0
    best = torch.topk(similarity, k)
    return list(zip(best.indices.tolist(), best.values.tolist()))


def project_2d(embeddings: torch.Tensor) -> torch.Tensor:
    """The rows of ``embeddings`` on their first two principal components: (|V|, 2)."""
    centred = embeddings.detach().float() - embeddings.detach().float().mean(0)
    _, _, v = torch.linalg.svd(centred, full_matrices=False)
    return centred @ v[:2].T
