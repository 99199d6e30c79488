"""Synthetic sequence tasks with dependencies of a known length, and how they are scored.

The echo task's batches are :class:`seqlm.batches.EchoBatches`.
"""

from __future__ import annotations

import torch

from seqlm.train import evaluating


def accuracy(model, batches, skip: int = 0) -> float:
    """Fraction of steps where the most likely output is the target, carrying the state;
    the first ``skip`` steps of the stream are not counted."""
    right = total = seen = 0
    state = None
    with evaluating(model) as device:
        for x, y in batches():
            logits, state = model(x.to(device), state)
            hits = (logits.argmax(-1).cpu() == y)
            keep = torch.arange(seen, seen + y.shape[1]) >= skip
            right += hits[:, keep].sum().item()
            total += hits[:, keep].numel()
            seen += y.shape[1]
    return right / total
