"""Drawing the next token: what every ``generate`` of the book shares.

``seqlm.ngram.generate`` and ``seqlm.rnn.generate`` have one signature,
``generate(model, context, steps, temperature=1.0, greedy=False, rng=None,
stop_id=None) -> list[int]``, and both draw each token with :func:`next_token`.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def check_temperature(temperature) -> float:
    """The temperature as a float; a clear error unless it is a finite number > 0."""
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) \
            or not math.isfinite(temperature) or not temperature > 0:
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r} "
                         "(use greedy=True for the limit τ → 0)")
    return float(temperature)


def check_steps(steps) -> int:
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be an integer ≥ 0, got {steps!r}")
    return int(steps)


def next_token(log_weights: np.ndarray, temperature: float = 1.0, greedy: bool = False,
               rng: np.random.Generator | None = None) -> int:
    """A token id drawn with probability ∝ exp(log_weights / τ), τ the ``temperature``,
    or the likeliest one.

    ``log_weights`` are log-probabilities or logits, shape (V,); ``-inf`` marks a token
    the model rules out. If the model rules out every token (an unsmoothed model after
    a history it never saw), there is nothing to draw from: that is an error."""
    log_weights = np.asarray(log_weights, dtype=np.float64)
    if not np.isfinite(log_weights).any():
        raise ValueError("the model gives every next token probability 0 after this context "
                         "(an unsmoothed model that never saw it); smooth the model or "
                         "change the context")
    if greedy:
        return int(np.argmax(log_weights))
    scaled = log_weights / temperature
    q = np.exp(scaled - scaled.max())
    rng = rng if rng is not None else np.random.default_rng()
    return int(rng.choice(len(q), p=q / q.sum()))
