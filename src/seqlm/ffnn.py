"""The neural probabilistic language model of Bengio et al. (2003), Chapter 2."""

from __future__ import annotations

import torch
from torch import nn

from seqlm import layers


class NeuralLM(nn.Module):
    """A feed-forward language model over a fixed window of n-1 words::

        x = [C(w_{t-n+1}); …; C(w_{t-1})],   y = b + W x + U tanh(d + H x),
        p(w_t | context) = softmax(y)[w_t]

    The attribute names are the paper's: ``C`` (the |V| × m table of word
    features), ``H`` with bias ``d`` (hidden layer), ``U`` with bias ``b``
    (output layer) and ``W`` (the optional direct connections). ``dropout``
    (not in the paper) zeroes features x and hidden units at random while
    training. x (B, n-1) word ids -> logits y (B, |V|); no state to carry (``None``).
    """

    def __init__(self, vocab_size: int, context: int, embed_size: int = 64,
                 hidden_size: int = 128, direct: bool = True, dropout: float = 0.0):
        super().__init__()
        if min(vocab_size, context, embed_size, hidden_size) < 1:
            raise ValueError("vocab_size, context, embed_size and hidden_size must be ≥ 1")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout is a probability in [0, 1), got {dropout!r}")
        self.context = context
        self.drop = nn.Dropout(dropout)
        self.C = nn.Embedding(vocab_size, embed_size)
        self.H = nn.Linear(context * embed_size, hidden_size)  # H x + d
        self.U = nn.Linear(hidden_size, vocab_size)            # U h + b
        self.W = nn.Linear(context * embed_size, vocab_size, bias=False) if direct else None
        layers.init_features_(self.C)

    def forward(self, x: torch.Tensor, state=None):
        """x: (B, n-1) word ids -> logits y: (B, |V|); no state to carry."""
        if x.shape[-1] != self.context:
            raise ValueError(f"expected {self.context} context words, got {x.shape[-1]}")
        features = self.drop(self.C(x).flatten(1))           # (B, (n-1) m)
        y = self.U(self.drop(torch.tanh(self.H(features))))   # (B, |V|)
        if self.W is not None:
            y = y + self.W(features)
        return y, None


def parameter_count(vocab_size: int, context: int, embed_size: int, hidden_size: int,
                    direct: bool = True) -> int:
    """|V| m  +  ((n-1) m + 1) h  +  (h + 1) |V|  [+ (n-1) m |V| with direct connections]."""
    features = context * embed_size
    count = vocab_size * embed_size + (features + 1) * hidden_size + (hidden_size + 1) * vocab_size
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
