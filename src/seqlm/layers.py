"""Small pieces that several models share."""

from __future__ import annotations

from torch import nn

# Word features start small (nn.Embedding's default is N(0, 1)): a word's vector moves
# only when the word is in a context, and what training puts there must not be drowned
# by where it started (Chapter 2, "What the features learn").
FEATURE_INIT_STD = 0.05


def init_features_(embedding: nn.Embedding) -> nn.Embedding:
    """Re-draw an embedding table from N(0, FEATURE_INIT_STD²), in place."""
    nn.init.normal_(embedding.weight, std=FEATURE_INIT_STD)
    return embedding


def matching_size(budget: int, parameters, low: int = 1, high: int = 8192) -> int:
    """The size whose model has the number of parameters closest to ``budget``:
    ``parameters(size)`` counts a model's parameters and grows with the size."""
    if budget < parameters(low):
        raise ValueError(f"even size {low} has more than {budget} parameters")
    while high - low > 1:  # the largest size that stays within the budget ...
        middle = (low + high) // 2
        low, high = (middle, high) if parameters(middle) <= budget else (low, middle)
    # ... or the one just above it, if that is closer
    return min((low, high), key=lambda size: abs(parameters(size) - budget))


def parameter_count(model) -> int:
    """The number of trained numbers in a model (a tied weight counts once)."""
    return sum(p.numel() for p in model.parameters())
