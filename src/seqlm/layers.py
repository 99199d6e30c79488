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
