"""Small pieces that several models share."""

from __future__ import annotations

import torch
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


class Dropout(nn.Module):
    """Dropout that draws its masks from a generator of its own, seeded from torch's global
    generator when the module is built (so building a model from a seed fixes its masks
    too). Models that train side by side in threads (:func:`seqlm.train.train_all`) then
    draw no numbers from a shared generator, and each trains exactly as it would alone.
    In training, each value is zeroed with probability ``p`` and the rest scaled by
    1 / (1 - p); in evaluation it is the identity. The generator's state travels in the
    module's state dict, so a checkpointed run resumes with the same masks."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout is a probability in [0, 1), got {p!r}")
        self.p = p
        self.generator = torch.Generator().manual_seed(int(torch.randint(2 ** 62, ()).item()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.rand(x.shape, generator=self.generator) >= self.p     # drawn on the CPU
        return x * keep.to(x.device, x.dtype) / (1 - self.p)

    def get_extra_state(self):
        return self.generator.get_state()

    def set_extra_state(self, state):
        self.generator.set_state(state)

    def extra_repr(self) -> str:
        return f"p={self.p}"
