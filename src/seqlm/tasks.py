"""Synthetic sequence tasks with dependencies of a known length."""

from __future__ import annotations

import numpy as np
import torch


class EchoBatches:
    """The echo task: read random symbols and output, at every step, the symbol seen
    ``delay`` steps earlier, y_t = x_{t-delay}. A network can only learn it if its
    gradient reaches ``delay`` steps back.

    Like :class:`seqlm.data.StreamBatches` the rows are contiguous across batches
    (``stateful``), so truncated BPTT can carry the state while cutting the gradient
    every ``window`` steps. x, y: (B, window) symbol ids."""

    stateful = True

    def __init__(self, symbols: int, delay: int, batch_size: int, window: int, batches: int,
                 seed: int = 0):
        if symbols < 2 or delay < 1 or min(batch_size, window, batches) < 1:
            raise ValueError("need symbols ≥ 2, delay ≥ 1, and batch_size, window, batches ≥ 1")
        rng = np.random.default_rng(seed)
        stream = rng.integers(0, symbols, (batch_size, batches * window + delay))
        self.x, self.y = stream[:, delay:], stream[:, :-delay]  # y_t = x_{t-delay}
        self.window, self.batches = window, batches

    def __len__(self) -> int:
        return self.batches

    def __call__(self, epoch: int = 0, start: int = 0):
        for b in range(start, self.batches):
            cols = slice(b * self.window, (b + 1) * self.window)
            yield (torch.from_numpy(np.ascontiguousarray(self.x[:, cols])),
                   torch.from_numpy(np.ascontiguousarray(self.y[:, cols])))


@torch.no_grad()
def accuracy(model, batches, skip: int = 0) -> float:
    """Fraction of steps where the most likely output is the target, carrying the state;
    the first ``skip`` steps of the stream are not counted."""
    model.eval()
    device = next(model.parameters()).device
    right = total = seen = 0
    state = None
    for x, y in batches():
        logits, state = model(x.to(device), state)
        hits = (logits.argmax(-1).cpu() == y)
        keep = torch.arange(seen, seen + y.shape[1]) >= skip
        right += hits[:, keep].sum().item()
        total += hits[:, keep].numel()
        seen += y.shape[1]
    return right / total
