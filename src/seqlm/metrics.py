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


def tune_mixture(p_a, p_b, iterations: int = 200, tol: float = 1e-9) -> float:
    """The weight λ that maximises the likelihood of λ p_a + (1 - λ) p_b on held-out
    tokens, by expectation-maximisation: each step sets λ to the average share of the
    first model in each token's mixed probability. p_a, p_b: one probability per token."""
    p_a, p_b = np.asarray(p_a, dtype=float), np.asarray(p_b, dtype=float)
    if p_a.shape != p_b.shape or p_a.ndim != 1 or p_a.size == 0:
        raise ValueError("give both models' probabilities of the same tokens, as 1-D arrays")
    weight = 0.5
    for _ in range(iterations):
        mixed = weight * p_a + (1 - weight) * p_b
        new = float(np.mean(np.divide(weight * p_a, mixed, out=np.zeros_like(mixed),
                                      where=mixed > 0)))
        done = abs(new - weight) < tol
        weight = new
        if done:
            break
    return weight


def confusion(gold, predicted, classes: int) -> np.ndarray:
    """counts[g, p]: how often class g (the truth) was predicted as p. (classes, classes)."""
    gold, predicted = np.asarray(gold, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
    if gold.shape != predicted.shape:
        raise ValueError("gold and predicted labels must have the same shape")
    if gold.size and (min(gold.min(), predicted.min()) < 0
                      or max(gold.max(), predicted.max()) >= classes):
        raise ValueError(f"labels must lie in 0 … {classes - 1}")
    return np.bincount(gold * classes + predicted, minlength=classes ** 2).reshape(classes,
                                                                                  classes)


def precision_recall_f1(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per class, from a confusion matrix: precision = right / predicted, recall = right /
    true, F1 their harmonic mean; 0 where a denominator is 0."""
    right = np.diag(counts).astype(float)
    predicted, true = counts.sum(0), counts.sum(1)
    precision = np.divide(right, predicted, out=np.zeros_like(right), where=predicted > 0)
    recall = np.divide(right, true, out=np.zeros_like(right), where=true > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(right), where=total > 0)
    return precision, recall, f1


def macro_f1(counts: np.ndarray, exclude=()) -> float:
    """The mean of the per-class F1 scores, the classes in ``exclude`` left out (for
    punctuation, the class "none", which would otherwise dominate)."""
    f1 = precision_recall_f1(counts)[2]
    kept = [c for c in range(len(f1)) if c not in set(exclude)]
    return float(np.mean(f1[kept]))
