"""Metrics shared by every chapter: cross-entropy, perplexity, bits per character."""

from __future__ import annotations

import math

import numpy as np


def cross_entropy(probs) -> float:
    """Mean negative log-probability in nats, computed in log space; inf if any p is 0."""
    probs = np.asarray(probs, dtype=float)
    if probs.size == 0:
        raise ValueError("cross-entropy of no tokens is undefined")
    if (probs < 0).any() or (probs > 1 + 1e-9).any():
        raise ValueError("probabilities must lie in [0, 1]")
    if (probs == 0).any():
        return math.inf
    return float(-np.mean(np.log(probs)))


def perplexity(probs) -> float:
    """exp(cross-entropy): the effective number of equally likely choices per token."""
    return math.exp(cross_entropy(probs))


def bits(nats: float) -> float:
    """Nats to bits (per token or per character)."""
    return nats / math.log(2)
