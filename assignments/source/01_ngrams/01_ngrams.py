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
# `raise NotImplementedError()` line. Each part is followed by a test cell whose
# checks give you quick feedback. The grade is decided elsewhere: the grader
# calls your function on inputs it draws when it grades and compares every
# answer with the course's reference; a part scores its points when all of them
# match. Warnings do not fail a part. Before you submit, restart the kernel and
# run every cell (Kernel → Restart & Run All). The grader uses its own copies of
# the test cells and helpers, whatever you change in yours.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math
from collections import Counter

import numpy as np

from seqlm import exercises
from seqlm.exercises import check_close

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
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_add_k",
               lambda c: add_k(c["word"], c["history"], _grader.counts_of(c), c["k"]))
### END HIDDEN TESTS
toy = exercises.bigram_counts("a b a c".split(), ["<unk>", "<eos>", "a", "b", "c"])
check_close(add_k("b", "a", toy, 1.0), (1 + 1) / (2 + 5), "p(b | a), k = 1")
check_close(add_k("a", "c", toy, 0.5), 0.5 / (0 + 2.5), "p(a | c), k = 0.5: c was never a history")

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
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_continuation",
               lambda c: continuation(c["word"], _grader.counts_of(c), c["discount"]))
### END HIDDEN TESTS
toy = exercises.bigram_counts("a b a c".split(), ["<unk>", "<eos>", "a", "b", "c"])
# pairs: (<eos> a) (a b) (b a) (a c): a follows 2 words, b and c one each; 4 distinct pairs
check_close(continuation("a", toy, 0.5), 1.5 / 4 + 0.5 * 3 / 4 / 5, "p_cont(a), D = 0.5")

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
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_kneser_ney", lambda c: kneser_ney(c["word"], c["history"],
                                                    _grader.counts_of(c), c["discount"]))
### END HIDDEN TESTS
toy = exercises.bigram_counts("a b a c".split(), ["<unk>", "<eos>", "a", "b", "c"])
p_cont_b = 0.5 / 4 + 0.5 * 3 / 4 / 5
check_close(kneser_ney("b", "a", toy, 0.5), 0.5 / 2 + 0.5 * 2 / 2 * p_cont_b, "p_KN(b | a), D = 0.5")

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
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_perplexity", lambda c: perplexity(c["probabilities"]))
### END HIDDEN TESTS
check_close(perplexity([0.25, 0.25, 0.25]), 4.0, "a uniform choice among 4")
