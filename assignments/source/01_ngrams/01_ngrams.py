# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Assignment 1: smoothing and perplexity
#
# This assignment goes with Chapter 1. You will write three functions that turn
# bigram counts into probabilities and probabilities into perplexity:
#
# | part | function | points |
# | --- | --- | --- |
# | A | `add_k(word, history, counts, k)` | 3 |
# | B | `continuation(word, counts, discount)` | 2 |
# | C | `kneser_ney(word, history, counts, discount)` | 3 |
# | D | `perplexity(probabilities)` | 2 |
#
# Write your code where it says `YOUR CODE HERE` and delete the
# `raise NotImplementedError()` line. Each part is followed by a test cell: the
# tests you can see give quick feedback; more tests, hidden from you, decide the
# grade. Passing the visible tests is necessary, not sufficient. Before you
# submit, restart the kernel and run every cell (Kernel → Restart & Run All).
# Do not change the test cells or the helpers: the grader uses its own copies.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math
from collections import Counter

import numpy as np

from seqlm import exercises

train, counts = exercises.shakespeare_bigrams(30_000)
print(f"{len(train):,} training tokens, |V| = {counts.vocab_size:,}")
print("c(my lord) =", counts.pairs[("my", "lord")], "  c(my) =", counts.histories["my"])

# %% [markdown] nbgrader={"grade": false, "grade_id": "counts_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# `counts` holds the statistics of the first 30 000 training tokens, preceded by
# one `<eos>` (as in the chapter):
#
# - `counts.pairs[(h, w)]` is $c(h\,w)$, how often `w` follows `h`;
# - `counts.histories[h]` is $c(h) = \sum_w c(h\,w)$;
# - `counts.vocab` lists every word a model must give a probability to, and
#   `counts.vocab_size` is $|V|$. Most of them never occur in these 30 000 tokens.
#
# A `Counter` returns 0 for a key it has never seen.

# %% nbgrader={"grade": false, "grade_id": "helpers", "locked": true, "schema_version": 3, "solution": false, "task": false}
def check_close(got, want, what):
    """A visible-test helper: got must be a number within 1e-9 (relative) of want."""
    assert isinstance(got, (float, np.floating)), f"{what}: return a float, not {type(got).__name__}"
    assert math.isclose(got, want, rel_tol=1e-9), f"{what}: got {got}, expected {want}"

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_a_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A: add-k smoothing (3 points)
#
# $$p_{\text{add-}k}(w \mid h) = \frac{c(h\,w) + k}{c(h) + k\,|V|}$$

# %% nbgrader={"grade": false, "grade_id": "add_k", "locked": false, "schema_version": 3, "solution": true, "task": false}
def add_k(word, history, counts, k):
    """p(word | history) with add-k smoothing."""
    ### BEGIN SOLUTION
    return (counts.pairs[(history, word)] + k) / (counts.histories[history] + k * counts.vocab_size)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_add_k", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
toy = exercises.bigram_counts("a b a c".split(), ["<unk>", "<eos>", "a", "b", "c"])
check_close(add_k("b", "a", toy, 1.0), (1 + 1) / (2 + 5), "p(b | a), k = 1")
check_close(add_k("a", "c", toy, 0.5), 0.5 / (0 + 2.5), "p(a | c), k = 0.5: c was never a history")
### BEGIN HIDDEN TESTS
import importlib
import seqlm.exercises
import seqlm.ngram
_ex = importlib.reload(seqlm.exercises)
_ng = importlib.reload(seqlm.ngram)
_train, _counts = _ex.shakespeare_bigrams(30_000)
_unseen = next(w for w in _counts.vocab if _counts.histories[w] == 0)
_cases = [("lord", "my"), ("<eos>", "."), ("<unk>", "the"), ("love", "my"), ("the", _unseen)]
for _k in (1.0, 0.1, 0.01):
    _model = _ex.fit_reference(_ng.AddK(2, _k), _train, _counts)
    for _w, _h in _cases:
        _want = _ex.reference_probability(_model, _counts, _w, _h)
        assert _ex.close(add_k(_w, _h, _counts, _k), _want), f"add_k({_w!r}, {_h!r}, k={_k})"
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_b_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B: the continuation probability (2 points)
#
# Kneser-Ney's lower-order model asks how many different words a word follows.
# With $N_{1+}(\bullet\,w)$ the number of distinct $h$ with $c(h\,w) > 0$,
# $N_{1+}(\bullet\,\bullet)$ the number of distinct pairs, and $T$ the number of
# words with $N_{1+}(\bullet\,w) > 0$, discount it and interpolate with the
# uniform distribution:
#
# $$p_{\text{cont}}(w) = \frac{\max(N_{1+}(\bullet\,w) - D, 0)}{N_{1+}(\bullet\,\bullet)} + \frac{D\,T}{N_{1+}(\bullet\,\bullet)} \cdot \frac{1}{|V|}$$

# %% nbgrader={"grade": false, "grade_id": "continuation", "locked": false, "schema_version": 3, "solution": true, "task": false}
def continuation(word, counts, discount):
    """p_cont(word): the discounted continuation probability, interpolated with 1/|V|."""
    ### BEGIN SOLUTION
    preceded_by = Counter(w for (h, w) in counts.pairs)      # N1+(• w)
    distinct_pairs = len(counts.pairs)                       # N1+(• •)
    kept = max(preceded_by[word] - discount, 0) / distinct_pairs
    return kept + discount * len(preceded_by) / distinct_pairs / counts.vocab_size
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_continuation", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
toy = exercises.bigram_counts("a b a c".split(), ["<unk>", "<eos>", "a", "b", "c"])
# pairs: (<eos> a) (a b) (b a) (a c): a follows 2 words, b and c one each; 4 distinct pairs
check_close(continuation("a", toy, 0.5), 1.5 / 4 + 0.5 * 3 / 4 / 5, "p_cont(a), D = 0.5")
### BEGIN HIDDEN TESTS
import importlib
import seqlm.exercises
import seqlm.ngram
_ex = importlib.reload(seqlm.exercises)
_ng = importlib.reload(seqlm.ngram)
_train, _counts = _ex.shakespeare_bigrams(30_000)
_unseen = next(w for w in _counts.vocab if _counts.histories[w] == 0)
for _d in (0.5, 0.9):
    _model = _ex.fit_reference(_ng.KneserNey(2, discount=[_d, 0.0]), _train, _counts)
    _p1 = _model.distribution([_counts.vocab.index(_unseen)])  # an unseen history: p = p_cont
    for _w in ("lord", "<unk>", "the", "love", _unseen):
        _want = float(_p1[_counts.vocab.index(_w)])
        assert _ex.close(continuation(_w, _counts, _d), _want), f"continuation({_w!r}, D={_d})"
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_c_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part C: interpolated Kneser-Ney (3 points)
#
# Discount the bigram counts and give what was taken to the continuation
# probability. For a history that was never seen, $c(h) = 0$, use
# $p_{\text{cont}}(w)$ alone.
#
# $$p_{\text{KN}}(w \mid h) = \frac{\max(c(h\,w) - D, 0)}{c(h)} + \frac{D\,N_{1+}(h\,\bullet)}{c(h)}\; p_{\text{cont}}(w)$$
#
# where $N_{1+}(h\,\bullet)$ is the number of distinct words seen after $h$.

# %% nbgrader={"grade": false, "grade_id": "kneser_ney", "locked": false, "schema_version": 3, "solution": true, "task": false}
def kneser_ney(word, history, counts, discount):
    """p_KN(word | history) for an interpolated Kneser-Ney bigram model."""
    ### BEGIN SOLUTION
    c_h = counts.histories[history]
    if c_h == 0:
        return continuation(word, counts, discount)
    followers = sum(1 for (h, w) in counts.pairs if h == history)   # N1+(h •)
    kept = max(counts.pairs[(history, word)] - discount, 0) / c_h
    return kept + discount * followers / c_h * continuation(word, counts, discount)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_kneser_ney", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
toy = exercises.bigram_counts("a b a c".split(), ["<unk>", "<eos>", "a", "b", "c"])
p_cont_b = 0.5 / 4 + 0.5 * 3 / 4 / 5
check_close(kneser_ney("b", "a", toy, 0.5), 0.5 / 2 + 0.5 * 2 / 2 * p_cont_b, "p_KN(b | a), D = 0.5")
### BEGIN HIDDEN TESTS
import importlib
import seqlm.exercises
import seqlm.ngram
_ex = importlib.reload(seqlm.exercises)
_ng = importlib.reload(seqlm.ngram)
_train, _counts = _ex.shakespeare_bigrams(30_000)
_unseen = next(w for w in _counts.vocab if _counts.histories[w] == 0)
_cases = [("lord", "my"), ("<eos>", "."), ("<unk>", "the"), ("love", "my"), ("the", _unseen),
          ("king", "the"), (_unseen, "my")]
for _d in (0.5, 0.75):
    _model = _ex.fit_reference(_ng.KneserNey(2, discount=_d), _train, _counts)
    for _w, _h in _cases:
        _want = _ex.reference_probability(_model, _counts, _w, _h)
        assert _ex.close(kneser_ney(_w, _h, _counts, _d), _want), f"kneser_ney({_w!r}, {_h!r}, D={_d})"
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_d_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part D: perplexity (2 points)
#
# $$\mathrm{PPL} = \exp\Big(-\frac{1}{N}\sum_{i=1}^{N} \ln p_i\Big)$$
#
# Compute it in log space: the product of many probabilities underflows to 0.
# Return `math.inf` if any probability is 0, and raise a `ValueError` for an
# empty list.

# %% nbgrader={"grade": false, "grade_id": "perplexity", "locked": false, "schema_version": 3, "solution": true, "task": false}
def perplexity(probabilities):
    """The perplexity of a list of next-token probabilities."""
    ### BEGIN SOLUTION
    probabilities = list(probabilities)
    if not probabilities:
        raise ValueError("perplexity of no tokens is undefined")
    if any(p == 0 for p in probabilities):
        return math.inf
    return math.exp(-sum(math.log(p) for p in probabilities) / len(probabilities))
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_perplexity", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
check_close(perplexity([0.25, 0.25, 0.25]), 4.0, "a uniform choice among 4")
### BEGIN HIDDEN TESTS
import importlib
import seqlm.exercises
_ex = importlib.reload(seqlm.exercises)
assert _ex.close(perplexity([1e-5] * 100_000), 1e5), "perplexity must not underflow"
assert _ex.close(perplexity([0.5, 0.125]), 4.0)
assert perplexity([0.5, 0.0]) == float("inf"), "one zero makes perplexity infinite"
_raised = False
try:
    perplexity([])
except ValueError:
    _raised = True
assert _raised, "an empty list must raise ValueError"
### END HIDDEN TESTS
