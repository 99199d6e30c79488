"""What the graded assignments give students, and what their hidden tests trust.

A student's functions take their counts as arguments, so a hidden test can
build fresh counts here and compare the student's answer with the course's
own implementation (:mod:`seqlm.ngram`). Hidden tests ``importlib.reload``
this module and :mod:`seqlm.ngram` first, so a submission that monkeypatches
them, or shadows ``math.isclose`` in the notebook, changes nothing they check.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cached_property

from seqlm import data, ngram


@dataclass(frozen=True)
class BigramCounts:
    """Bigram statistics of a token list that starts after an ``<eos>``.

    ``pairs[(h, w)]`` is c(h w), ``histories[h]`` is c(h) = Σ_w c(h w), and
    ``vocab`` lists every word a model must give a probability to (|V| = len).
    """

    pairs: Counter
    histories: Counter
    vocab: tuple[str, ...]

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @cached_property
    def index(self) -> dict[str, int]:
        """Word -> position in ``vocab`` (the id :mod:`seqlm.ngram` models use)."""
        return {w: i for i, w in enumerate(self.vocab)}


def bigram_counts(tokens: list[str], vocab: list[str]) -> BigramCounts:
    """Count the bigrams of ``tokens``, padded on the left with one ``<eos>``."""
    padded = [data.EOS] + list(tokens)
    pairs = Counter(zip(padded[:-1], padded[1:]))
    histories = Counter(padded[:-1])
    return BigramCounts(pairs, histories, tuple(vocab))


def shakespeare_bigrams(n_tokens: int = 30_000) -> tuple[list[str], BigramCounts]:
    """The first ``n_tokens`` training tokens of the word corpus (rare words as ``<unk>``)
    and their bigram counts over the book's full vocabulary."""
    corpus = data.load_shakespeare("word")
    tokens = corpus.vocab.decode(corpus.ids("train")[:n_tokens])
    return tokens, bigram_counts(tokens, corpus.vocab.itos)


def reference_probability(model: ngram.NgramLM, counts: BigramCounts, word: str,
                          history: str) -> float:
    """p(word | history) from a fitted :mod:`seqlm.ngram` bigram model."""
    return float(model.distribution([counts.index[history]])[counts.index[word]])


def fit_reference(model: ngram.NgramLM, tokens: list[str], counts: BigramCounts) -> ngram.NgramLM:
    """Fit a :mod:`seqlm.ngram` model on the same tokens and vocabulary as ``counts``."""
    ids = [counts.index[t] for t in tokens]
    return model.fit(ids, counts.vocab_size, counts.index[data.EOS])


def close(got, want, rel: float = 1e-9) -> bool:
    """Whether ``got`` is a number within ``rel`` of ``want`` (plain arithmetic only)."""
    try:
        got = float(got)
    except (TypeError, ValueError):
        return False
    if want in (float("inf"), float("-inf")):
        return got == want
    return abs(got - want) <= rel * abs(want) + 1e-15
