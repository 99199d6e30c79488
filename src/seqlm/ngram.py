"""n-gram language models: one counting structure for any order, five estimators.

Notation (Chapter 1, book/notation.md): a stream of token ids x_1 … x_N over a
vocabulary of V types; the history of x_i is u = x_{i-n+1} … x_{i-1}, and u' is u
without its first token; c(u w) counts the n-gram; j indexes the orders 1 … n.
The stream is padded on the left with n-1 copies of ``pad_id`` (``<eos>``), so
the first token is predicted as if it followed the end of a line and every
counted k-gram has a left neighbour.

Counting is vectorised. The k-gram ending at position i is the pair
(id of the (k-1)-gram ending at i-1, x_i); ``np.unique`` numbers those pairs,
so a k-gram's key ``prefix_id * V + word`` stays far below 2**63 for any k.
Every estimator computes ``p(w | u)`` through one method, ``_probs``, from
arrays of gram ids, so scoring a stream and the next-word distribution of a
context are the same code.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from seqlm import sampling


# --------------------------------------------------------------------------- counting

@dataclass
class Order:
    """The distinct k-grams of one order k."""

    keys: np.ndarray    # (U_k,) sorted, key = prefix_id * V + word
    counts: np.ndarray  # (U_k,) c(u w): occurrences ending at a real (non-pad) position
    vocab_size: int
    cont: np.ndarray | None = None  # (U_k,) N1+(• u w): distinct left extensions (k < order)

    @property
    def prefix(self) -> np.ndarray:  # (U_k,) id of the history u, a (k-1)-gram
        return self.keys // self.vocab_size

    @property
    def word(self) -> np.ndarray:  # (U_k,) the last token w
        return self.keys % self.vocab_size


def _check_stream(ids, vocab_size: int, name: str = "ids") -> np.ndarray:
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of token ids, got shape {ids.shape}")
    if ids.size and not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"{name} must hold integer token ids (encode tokens with a Vocab first)")
    ids = ids.astype(np.int64, copy=False)
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(f"{name} holds ids outside [0, {vocab_size}); is it the right vocabulary?")
    return ids


def _check_order(order) -> int:
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"the order n of an n-gram model is an integer ≥ 1, got {order!r}")
    return int(order)


class NgramCounts:
    """Counts of every k-gram, k = 1 … order, of a token-id stream."""

    def __init__(self, ids, order: int, vocab_size: int, pad_id: int = 0):
        self.order = _check_order(order)
        if not 0 <= pad_id < vocab_size:
            raise ValueError(f"pad_id {pad_id} is outside a vocabulary of {vocab_size}")
        ids = _check_stream(ids, vocab_size)
        if ids.size == 0:
            raise ValueError("cannot count n-grams of an empty token stream")
        self.vocab_size, self.pad_id = int(vocab_size), int(pad_id)
        stream = self._pad(ids)
        real = np.arange(self.order - 1, len(stream))
        self.orders: list[Order] = []
        below = np.zeros(len(stream), dtype=np.int64)  # the 0-gram: one empty history
        for k in range(1, self.order + 1):
            defined = np.arange(k - 1, len(stream))  # positions where a k-gram ends
            keys = self._prefix(below, k)[defined] * self.vocab_size + stream[defined]
            unique, inverse = np.unique(keys, return_inverse=True)
            gram = np.full(len(stream), -1, dtype=np.int64)
            gram[defined] = inverse.ravel()
            counts = np.bincount(gram[real], minlength=len(unique))
            if k > 1:  # N1+(• u w) of the (k-1)-grams: distinct k-grams with them as suffix
                suffix = np.zeros(len(unique), dtype=np.int64)
                suffix[gram[real]] = below[real]
                seen = counts > 0
                self.orders[-1].cont = np.bincount(suffix[seen], minlength=len(self.orders[-1].keys))
            self.orders.append(Order(unique, counts, self.vocab_size))
            below = gram

    def _pad(self, ids: np.ndarray) -> np.ndarray:
        return np.concatenate([np.full(self.order - 1, self.pad_id, dtype=np.int64), ids])

    @staticmethod
    def _prefix(below: np.ndarray, k: int) -> np.ndarray:
        """For each position i, the id of the (k-1)-gram ending at i-1 (-1 if none)."""
        if k == 1:
            return np.zeros_like(below)
        prefix = np.full_like(below, -1)
        prefix[1:] = below[:-1]
        return prefix

    def _find(self, k: int, keys: np.ndarray, known: np.ndarray) -> np.ndarray:
        """Ids of k-grams with these keys, -1 where unseen (or ``known`` is False)."""
        table = self.orders[k - 1].keys
        pos = np.minimum(np.searchsorted(table, keys), len(table) - 1)
        return np.where(known & (table[pos] == keys), pos, -1)

    def lookup(self, ids) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """For each token of ``ids`` and each order k: the id of the k-gram ending at it
        and the id of its (k-1)-token history; -1 where unseen. Lists of (len(ids),) arrays."""
        ids = _check_stream(ids, self.vocab_size)
        stream = self._pad(ids)
        real = slice(self.order - 1, None)
        grams, histories = [], []
        below = np.zeros(len(stream), dtype=np.int64)
        for k in range(1, self.order + 1):
            prefix = self._prefix(below, k)
            gram = self._find(k, np.maximum(prefix, 0) * self.vocab_size + stream, prefix >= 0)
            grams.append(gram[real])
            histories.append(prefix[real])
            below = gram
        return grams, histories

    def lookup_next(self, context) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Like :meth:`lookup` for the V candidate next words after ``context``: (V,) arrays.

        A context shorter than n-1 tokens is padded on the left, as a stream is."""
        context = _check_stream(context, self.vocab_size, "context")
        tail = self._pad(context)[-(self.order - 1):] if self.order > 1 else context[:0]
        ending, _ = self.lookup(tail) if len(tail) else ([], [])
        words = np.arange(self.vocab_size)
        grams, histories = [], []
        for k in range(1, self.order + 1):
            # the history of order k is the (k-1)-gram ending at the last context token
            history = np.full(self.vocab_size, 0 if k == 1 else ending[k - 2][-1], dtype=np.int64)
            grams.append(self._find(k, np.maximum(history, 0) * self.vocab_size + words,
                                    history >= 0))
            histories.append(history)
        return grams, histories

    def num_grams(self, k: int) -> int:
        """How many distinct k-grams occur in the counted stream."""
        return int(np.count_nonzero(self.orders[k - 1].counts))

    @property
    def nbytes(self) -> int:
        """Memory held by the count tables."""
        return sum(o.keys.nbytes + o.counts.nbytes + (o.cont.nbytes if o.cont is not None else 0)
                   for o in self.orders)

    def histories(self, k: int) -> int:
        """How many distinct histories an order-k estimate has: the (k-1)-grams (1 for k = 1)."""
        return 1 if k == 1 else len(self.orders[k - 2].keys)

    def per_history(self, k: int, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` (one per k-gram) over the k-grams of each history."""
        return np.bincount(self.orders[k - 1].prefix, weights=values,
                           minlength=self.histories(k))


def _gather(table: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """table[ids], and 0 where an id is -1 (unseen)."""
    return np.where(ids >= 0, table[np.maximum(ids, 0)], 0)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0."""
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)


# --------------------------------------------------------------------------- estimators

class NgramLM:
    """An n-gram language model: ``fit`` counts a stream, ``prob`` scores one.

    Subclasses define ``_prepare`` (what to precompute from the counts) and
    ``_probs(grams, histories)`` (p(w | u) from the ids given by ``lookup``).
    """

    name = "n-gram"

    def __init__(self, order: int):
        self.order = _check_order(order)
        self.counts: NgramCounts | None = None

    def fit(self, ids, vocab_size: int, pad_id: int = 0) -> "NgramLM":
        self.counts = NgramCounts(ids, self.order, vocab_size, pad_id)
        self._prepare()
        return self

    @property
    def vocab_size(self) -> int:
        return self._fitted().vocab_size

    def _fitted(self) -> NgramCounts:
        if self.counts is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call .fit(ids, vocab_size) first")
        return self.counts

    def prob(self, ids) -> np.ndarray:
        """p(x_i | x_{i-n+1} … x_{i-1}) for every token of ``ids``; shape (len(ids),)."""
        return self._probs(*self._fitted().lookup(ids))

    def distribution(self, context=()) -> np.ndarray:
        """p(w | context) for every word w of the vocabulary; shape (V,)."""
        return self._probs(*self._fitted().lookup_next(context))

    def perplexity(self, ids) -> float:
        from seqlm.metrics import perplexity

        return perplexity(self.prob(ids))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(order={self.order})"

    def _prepare(self) -> None:
        pass

    def _probs(self, grams: list[np.ndarray], histories: list[np.ndarray]) -> np.ndarray:
        raise NotImplementedError


class MLE(NgramLM):
    """Maximum likelihood: p(w | u) = c(u w) / c(u). Zero for anything unseen."""

    name = "MLE"

    def _prepare(self):
        self._totals = [self.counts.per_history(k, o.counts)
                        for k, o in enumerate(self.counts.orders, start=1)]

    def ml(self, j: int, grams, histories) -> np.ndarray:
        """The order-j maximum-likelihood estimate, 0 for an unseen history."""
        count = _gather(self.counts.orders[j - 1].counts, grams[j - 1])
        return _ratio(count, _gather(self._totals[j - 1], histories[j - 1]))

    def _probs(self, grams, histories):
        return self.ml(self.order, grams, histories)


class AddK(MLE):
    """Add-k (Lidstone) smoothing: p(w | u) = (c(u w) + k) / (c(u) + k V); k = 1 is Laplace."""

    name = "add-k"

    def __init__(self, order: int, k: float = 1.0):
        super().__init__(order)
        if isinstance(k, bool) or not isinstance(k, numbers.Real) or not (math.isfinite(k) and k > 0):
            raise ValueError(f"add-k needs a pseudo-count k > 0, got {k!r} (k = 0 is MLE)")
        self.k = float(k)

    def _probs(self, grams, histories):
        count = _gather(self.counts.orders[-1].counts, grams[-1])
        total = _gather(self._totals[-1], histories[-1])
        return (count + self.k) / (total + self.k * self.vocab_size)


class Interpolated(MLE):
    """Linear interpolation (Jelinek-Mercer) of the uniform distribution p_0 = 1/V and the
    ML estimates p_j = p_ML(w | last j-1 words of u), j = 1 … n, over the orders whose
    history was seen::

        p(w | u) = Σ_{j=0}^{J} λ_j p_j(w | u) / Σ_{j=0}^{J} λ_j,

    J being the longest order whose history u was seen (a history of order j is seen
    whenever one of order j+1 is, so the orders present are always 0 … J). Dividing by
    the weights present makes it Chen & Goodman's recursion, with one weight per order:
    p_interp,j = μ_j p_j + (1 - μ_j) p_interp,j-1 with μ_j = λ_j / (λ_0 + … + λ_j), and
    μ_j = 0 where the order-j history was never seen. ``lambdas`` are λ_0 … λ_n, summing
    to 1.
    """

    name = "interpolated"

    def __init__(self, order: int, lambdas=None):
        super().__init__(order)
        self.lambdas = np.full(order + 1, 1.0 / (order + 1)) if lambdas is None \
            else self._check_lambdas(lambdas)

    def _check_lambdas(self, lambdas) -> np.ndarray:
        lambdas = np.asarray(lambdas, dtype=float)
        if lambdas.shape != (self.order + 1,) or (lambdas < 0).any() \
                or not np.isclose(lambdas.sum(), 1.0) or lambdas[0] <= 0:
            raise ValueError(f"need {self.order + 1} weights λ_0 … λ_n ≥ 0 summing to 1, "
                             f"with λ_0 > 0 so no word gets probability 0; got {lambdas}")
        return lambdas

    def components(self, grams, histories) -> tuple[np.ndarray, np.ndarray]:
        """Columns 1/V, then p_ML of orders 1 … n, and whether each is defined
        (its history was seen); two arrays of shape (tokens, n + 1)."""
        uniform = np.full(len(grams[0]), 1.0 / self.vocab_size)
        comp = np.stack([uniform] + [self.ml(j, grams, histories)
                                     for j in range(1, self.order + 1)], axis=1)
        defined = np.stack([np.ones(len(grams[0]), bool)] + [
            _gather(self._totals[j - 1], histories[j - 1]) > 0
            for j in range(1, self.order + 1)], axis=1)
        return comp, defined

    @staticmethod
    def weights(lambdas: np.ndarray, defined: np.ndarray) -> np.ndarray:
        """Each token's weights: the λ of the orders it has, divided by their sum; (T, n+1)."""
        present = lambdas * defined
        return present / present.sum(axis=1, keepdims=True)

    def _probs(self, grams, histories):
        comp, defined = self.components(grams, histories)
        return (comp * self.weights(self.lambdas, defined)).sum(axis=1)

    def tune(self, valid_ids, iterations: int = 500, tol: float = 1e-7) -> "Interpolated":
        """Fit the λ to held-out ids by expectation-maximisation (EM); returns self.

        E step: each order's share of each token's probability, r_j = λ_j p_j / Σ λ_i p_i
        over the orders present. M step, in the recursive form where it is exact: μ_j =
        Σ r_j / Σ (r_0 + … + r_j), both summed over the tokens whose order-j history was
        seen; then λ_j = μ_j (1 - μ_{j+1}) … (1 - μ_n). Each step raises the held-out
        likelihood, and its fixed point is the maximum-likelihood λ."""
        comp, defined = self.components(*self._fitted().lookup(valid_ids))
        lambdas = np.full(self.order + 1, 1.0 / (self.order + 1))
        for _ in range(iterations):
            weighted = comp * self.weights(lambdas, defined)                  # (T, n+1)
            share = weighted / weighted.sum(axis=1, keepdims=True)            # r_j
            reached = (np.cumsum(share, axis=1) * defined).sum(axis=0)        # Σ r_0 + … + r_j
            mu = _ratio((share * defined).sum(axis=0), reached)
            mu[0] = 1.0                                  # the uniform distribution ends it
            new = lambdas_from_recursive(mu)
            done = np.abs(new - lambdas).max() < tol
            lambdas = new
            if done:
                break
        self.lambdas = lambdas
        return self

    @property
    def recursive_weights(self) -> np.ndarray:
        """μ_j = λ_j / (λ_0 + … + λ_j), the weight of order j against the orders below it."""
        return self.lambdas / np.cumsum(self.lambdas)


def lambdas_from_recursive(mu: np.ndarray) -> np.ndarray:
    """The flat weights λ_j = μ_j (1 - μ_{j+1}) … (1 - μ_n) of recursive weights μ_0 … μ_n
    (μ_0 = 1: the uniform distribution ends the recursion)."""
    kept_above = np.append(np.cumprod((1 - mu)[::-1])[::-1][1:], 1.0)  # Π_{i>j} (1 - μ_i)
    return mu * kept_above


ADD_K_GRID = (1.0, 0.1, 0.03, 0.01, 0.003, 0.001, 0.0003)


def best_add_k(order: int, train_ids, valid_ids, vocab_size: int, pad_id: int = 0,
               grid=ADD_K_GRID) -> "AddK":
    """The add-k model of this order, fitted to ``train_ids``, whose k from ``grid`` gives
    the lowest perplexity on ``valid_ids``."""
    fitted = [AddK(order, k).fit(train_ids, vocab_size, pad_id) for k in grid]
    return min(fitted, key=lambda model: model.perplexity(valid_ids))


def estimate_discounts(values: np.ndarray, modified: bool) -> tuple[float, float, float]:
    """Discounts from counts of counts n_r (Chen & Goodman 1998): Y = n1 / (n1 + 2 n2);
    one discount D = Y, or three: D_r = r - (r + 1) Y n_{r+1} / n_r for r = 1, 2, 3+.

    Where the counts cannot give one (no singletons, say: D ≤ 0 or nan) this code falls
    back on D = 0.75, or (0.5, 1, 1.5) when modified: its own choice, not a published one."""
    n = np.bincount(values[values > 0].astype(np.int64), minlength=5)[:5]
    with np.errstate(divide="ignore", invalid="ignore"):
        y = n[1] / (n[1] + 2 * n[2])
        d = [y, y, y] if not modified else [r - (r + 1) * y * n[r + 1] / n[r] for r in (1, 2, 3)]
    fallback = (0.75, 0.75, 0.75) if not modified else (0.5, 1.0, 1.5)
    return tuple(float(min(x, r)) if np.isfinite(x) and x > 0 else f
                 for x, r, f in zip(d, (1, 2, 3), fallback))


class KneserNey(NgramLM):
    """Interpolated Kneser-Ney (Chen & Goodman 1998), with one discount per order or
    (``modified=True``) three, for counts 1, 2 and 3+::

        p_j(w | u) = max(v(u w) - D(v(u w)), 0) / v(u) + β(u) p_{j-1}(w | u'),
        β(u) = (D_1 N_1(u •) + D_2 N_2(u •) + D_3+ N_3+(u •)) / v(u),

    where v is the raw count c at the highest order and the continuation count
    N1+(• u w) below it, v(u) = Σ_w v(u w), N_r(u •) is the number of words w with
    v(u w) = r (3 or more for N_3+), u' drops the first word of u, p_0 = 1 / V, and a
    history never seen leaves p_{j-1} as it is. With one discount, β(u) = D N1+(u •) / v(u).

    ``discount``: None estimates each order's discounts from its counts of counts;
    a number (or a triple, when modified) is used at every order; a list gives one
    entry per order 1 … n.
    """

    name = "Kneser-Ney"

    def __init__(self, order: int, discount=None, modified: bool = False):
        super().__init__(order)
        self.modified = bool(modified)
        self.discount = discount
        self.discounts: list[tuple[float, float, float]] = []
        if discount is not None:
            self.discounts = self._check_discounts(discount)
        if self.modified:
            self.name = "modified Kneser-Ney"

    def _check_discounts(self, discount) -> list[tuple[float, float, float]]:
        nested = isinstance(discount, (list, tuple)) and \
            all(isinstance(d, (list, tuple)) for d in discount)
        one_per_order = nested if self.modified else isinstance(discount, (list, tuple))
        per_order = list(discount) if one_per_order else [discount] * self.order
        if len(per_order) != self.order:
            raise ValueError(f"give one discount per order 1 … {self.order}, got {discount!r}")
        out = []
        for d in per_order:
            try:
                triple = tuple(float(x) for x in (d if self.modified else (d, d, d)))
            except TypeError:
                triple = ()
            if len(triple) != 3 or any(not 0 <= x <= r for x, r in zip(triple, (1, 2, 3))):
                raise ValueError("a discount is a number 0 ≤ D ≤ 1, or with modified=True a "
                                 f"triple (D1, D2, D3+) with 0 ≤ D_r ≤ r; got {d!r}")
            out.append(triple)
        return out

    def values(self, j: int) -> np.ndarray:
        """The counts order j discounts: raw c(u w) at the top order, N1+(• u w) below."""
        o = self.counts.orders[j - 1]
        return o.counts if j == self.order else o.cont

    def _discount_of(self, j: int, v: np.ndarray) -> np.ndarray:
        d1, d2, d3 = self.discounts[j - 1]
        return np.select([v == 0, v == 1, v == 2], [0.0, d1, d2], default=d3)

    def _prepare(self):
        if self.discount is None:
            self.discounts = [estimate_discounts(self.values(j), self.modified)
                              for j in range(1, self.order + 1)]
        self._totals, self._removed = [], []
        for j in range(1, self.order + 1):
            v = self.values(j).astype(float)
            self._totals.append(self.counts.per_history(j, v))
            self._removed.append(self.counts.per_history(j, np.minimum(self._discount_of(j, v), v)))

    def _probs(self, grams, histories):
        p = np.full(len(grams[0]), 1.0 / self.vocab_size)  # p_0: uniform
        for j in range(1, self.order + 1):
            v = _gather(self.values(j), grams[j - 1]).astype(float)
            total = _gather(self._totals[j - 1], histories[j - 1])       # v(u)
            removed = _gather(self._removed[j - 1], histories[j - 1])    # β(u) v(u)
            discounted = np.maximum(v - self._discount_of(j, v), 0)
            p = np.where(total > 0, _ratio(discounted + removed * p, total), p)
        return p


# --------------------------------------------------------------------------- generation

def generate(model: NgramLM, context, steps: int, temperature: float = 1.0,
             greedy: bool = False, rng: np.random.Generator | None = None,
             stop_id: int | None = None) -> list[int]:
    """Continue ``context`` (token ids) by ``steps`` token ids, each drawn from p^(1/τ)
    renormalised (τ the ``temperature``) or, with ``greedy``, the most probable each time; stops early after
    ``stop_id``. The signature of every ``generate`` of the book (:mod:`seqlm.sampling`)."""
    temperature = 1.0 if greedy else sampling.check_temperature(temperature)
    steps = sampling.check_steps(steps)
    rng = rng if rng is not None else np.random.default_rng()
    history = [int(i) for i in _check_stream(np.asarray(context, dtype=np.int64),
                                             model.vocab_size, "context")]
    out = []
    for _ in range(steps):
        p = model.distribution(history[-(model.order - 1):] if model.order > 1 else [])
        with np.errstate(divide="ignore"):
            nxt = sampling.next_token(np.log(p), temperature, greedy, rng)
        out.append(nxt)
        history.append(nxt)
        if nxt == stop_id:
            break
    return out


# --------------------------------------------------------------------------- inspection

def count_matrix(counts: NgramCounts) -> np.ndarray:
    """Bigram counts as a (V, V) matrix: row = previous token, column = next token."""
    if counts.order < 2:
        raise ValueError("a count matrix needs bigram counts: fit with order ≥ 2")
    unigrams, bigrams = counts.orders[0], counts.orders[1]
    matrix = np.zeros((counts.vocab_size, counts.vocab_size), dtype=np.int64)
    np.add.at(matrix, (unigrams.word[bigrams.prefix], bigrams.word), bigrams.counts)
    return matrix


# --------------------------------------------------------------------------- reference

class NltkOracle:
    """Our :class:`KneserNey` and ``nltk.lm.KneserNeyInterpolated``, set up to compute
    the same probabilities on the same data, so that one checks the other.

    nltk's lowest order is the undiscounted continuation unigram, so ours gets
    ``discount=[0] + [D] * (order - 1)``; nltk gives a word outside its training
    vocabulary probability 0, so test tokens outside it are dropped; both pad the
    stream with ``order - 1`` ``<eos>``. nltk scores each token by scanning every
    stored n-gram: keep the corpus small (a few thousand tokens)."""

    def __init__(self, train_tokens: list[str], test_tokens: list[str], order: int,
                 discount: float = 0.1):
        from collections import Counter

        from seqlm.data import EOS, Vocab

        self.order, self.discount, self.pad = _check_order(order), float(discount), EOS
        self.train = list(train_tokens)
        self.vocab = Vocab.from_counts(Counter(self.train), specials=(EOS,))
        self.test = [t for t in test_tokens if t in self.vocab]

    def fit_ours(self) -> KneserNey:
        model = KneserNey(self.order, discount=[0.0] + [self.discount] * (self.order - 1))
        return model.fit(self.vocab.encode(self.train), len(self.vocab), self.vocab.stoi[self.pad])

    def fit_nltk(self):
        """``nltk.lm.KneserNeyInterpolated`` fitted on exactly the k-grams we count."""
        from nltk.lm import KneserNeyInterpolated

        padded = [self.pad] * (self.order - 1) + self.train
        grams = [tuple(padded[i - k + 1:i + 1])
                 for i in range(self.order - 1, len(padded)) for k in range(1, self.order + 1)]
        model = KneserNeyInterpolated(self.order, discount=self.discount)
        model.fit([grams], vocabulary_text=sorted(set(padded)))
        return model

    def probs_ours(self, model: KneserNey) -> np.ndarray:
        return model.prob(self.vocab.encode(self.test))

    def probs_nltk(self, model) -> np.ndarray:
        """p(x_i | previous order-1 tokens) from the nltk model, the stream padded like ours."""
        n = self.order
        padded = [self.pad] * (n - 1) + self.test
        return np.array([model.score(padded[i], padded[i - n + 1:i])
                         for i in range(n - 1, len(padded))])

    def probabilities(self) -> tuple[np.ndarray, np.ndarray]:
        """Each model's probability of every kept test token: (ours, nltk's)."""
        return self.probs_ours(self.fit_ours()), self.probs_nltk(self.fit_nltk())
