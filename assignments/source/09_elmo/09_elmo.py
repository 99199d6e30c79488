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
# # Assignment 9: the highway layer and the sampled softmax
#
# Goes with Chapter 9. Two pieces of ELMo's biLM that the chapter uses without
# deriving: the **highway layer** on top of the character CNN (Srivastava et al. 2015;
# Kim et al. 2016), which lets a word's features through where its gate is shut,
#
# $$g = \sigma(W_T x + b_T), \qquad y = g \odot \mathrm{relu}(W_H x + b_H) + (1 - g) \odot x,$$
#
# and the **sampled softmax** (Jean et al. 2015) that trains the output layer over a
# large vocabulary from a few negatives drawn from a proposal $Q$ instead of all |V|
# scores. You derive the first's gradients, write the second's corrected loss, and
# train a model with it.
#
# | part | function | points |
# | --- | --- | --- |
# | A | `highway_backward(x, W_H, b_H, W_T, b_T, d_y)`, by hand | 3 |
# | B | `sampled_softmax_loss(h, targets, weight, bias, negatives, log_q)` | 3 |
# | C | `train_sampled_bigram(vocab_size, steps, seed)` | 4 |
#
# Write your code where it says `YOUR CODE HERE`. **What the grader refuses:**
# anything of `seqlm` in every part (in Part C, but `shakespeare_words` and
# `word_unigram`), and in Part A `torch.autograd`, `torch.func` and `.backward()`. The
# grader reads your code for these once your notebook has run; a part whose code uses
# one scores 0, whatever it returned, and so does code it cannot read (`eval`, `exec`,
# `importlib`, `getattr` with a computed name). The checks in each test cell give
# quick feedback; the grade comes from the grader, which calls your functions on
# inputs it draws when it grades (warnings never fail a part). Restart and run all
# before you submit.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

import torch
import torch.nn.functional as F

from seqlm.exercises import bigram_nats, check_close, grading, shakespeare_words, word_unigram

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_a_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A: the highway layer's backward pass (3 points)
#
# `x` is (N, d), `W_H` and `W_T` (d, d), `b_H` and `b_T` (d,), and `d_y` (N, d) is
# $\partial L / \partial y$. Derive by hand and return as a dict the gradients of $L$ with
# respect to `"x"`, `"W_H"`, `"b_H"`, `"W_T"` and `"b_T"` (each its own shape). $x$
# reaches $y$ by three roads. (The grader's inputs never sit exactly at relu's kink.)

# %% nbgrader={"grade": false, "grade_id": "highway_backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def highway_backward(x, W_H, b_H, W_T, b_T, d_y):
    """The gradients of one highway layer: a dict with x, W_H, b_H, W_T, b_T."""
    ### BEGIN SOLUTION
    a_H, a_T = x @ W_H.T + b_H, x @ W_T.T + b_T
    g = torch.sigmoid(a_T)
    d_a_H = d_y * g * (a_H > 0).to(x.dtype)                  # through the transform
    d_a_T = d_y * (torch.relu(a_H) - x) * g * (1 - g)        # through the gate
    return {"x": d_y * (1 - g) + d_a_H @ W_H + d_a_T @ W_T,  # the carry, then both layers
            "W_H": d_a_H.T @ x, "b_H": d_a_H.sum(0), "W_T": d_a_T.T @ x, "b_T": d_a_T.sum(0)}
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_highway_backward", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_highway_backward",
               lambda c: highway_backward(c["x"], c["W_H"], c["b_H"], c["W_T"], c["b_T"],
                                          c["d_y"]))
### END HIDDEN TESTS
zero, ones = torch.zeros(3, 2, dtype=torch.float64), torch.ones(3, 2, dtype=torch.float64)
square = torch.zeros(2, 2, dtype=torch.float64)
grads = highway_backward(zero, square, torch.ones(2, dtype=torch.float64), square,
                         torch.zeros(2, dtype=torch.float64), ones)
check_close(grads["x"], 0.5 * ones, "a half-open gate carries half the gradient to x")
check_close(grads["b_T"], torch.full((2,), 3 * 0.25, dtype=torch.float64),
            "the gate's bias: (relu(a_H) - x) g (1 - g), summed over the 3 rows")

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_b_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B: the sampled softmax's corrected loss (3 points)
#
# `h` (N, m) are hidden states, `targets` (N,) the ids of the words they must predict,
# `weight` (|V|, m) and `bias` (|V|,) the output layer ($s_w = W_w \cdot h + b_w$), and
# `negatives` (K,) ids drawn with replacement from $Q$, whose logarithm is `log_q` (|V|,).
# The full loss $-s_y + \log \sum_w e^{s_w}$ is estimated from the target and the
# negatives, each negative's score corrected by $\log(K\,Q(w_k))$:
#
# $$\hat Z = e^{s_y} + \sum_{k:\, w_k \neq y} e^{\,s_{w_k} - \log(K\,Q(w_k))}, \qquad
# \ell = -s_y + \log \hat Z,$$
#
# a negative that is the row's own target left out. Return the mean of $\ell$ over the
# N rows, in nats (a number or a 0-dim tensor). Mind the overflow of $e^{s}$.

# %% nbgrader={"grade": false, "grade_id": "sampled_softmax_loss", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sampled_softmax_loss(h, targets, weight, bias, negatives, log_q):
    """The mean log-Q corrected sampled softmax loss of the rows of h."""
    ### BEGIN SOLUTION
    K = negatives.shape[0]
    true = (h * weight[targets]).sum(-1) + bias[targets]                       # (N,)
    sampled = h @ weight[negatives].T + bias[negatives] - (math.log(K) + log_q[negatives])
    sampled = sampled.masked_fill(negatives[None, :] == targets[:, None], -math.inf)
    scores = torch.cat([true[:, None], sampled], dim=1)                        # (N, 1 + K)
    return (torch.logsumexp(scores, dim=1) - true).mean()
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_sampled_softmax_loss", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_sampled_softmax_loss",
               lambda c: sampled_softmax_loss(c["h"], c["targets"], c["weight"], c["bias"],
                                              c["negatives"], c["log_q"]))
### END HIDDEN TESTS
uniform = torch.full((4,), math.log(1 / 4))
flat = [torch.zeros(1, 3), torch.tensor([0]), torch.zeros(4, 3), torch.zeros(4)]
check_close(float(sampled_softmax_loss(*flat, torch.tensor([1, 2]), uniform)), math.log(5),
            "all scores 0, Q uniform: each of K = 2 negatives stands for |V| / K = 2 words",
            rel=1e-5)
check_close(float(sampled_softmax_loss(*flat, torch.tensor([0, 2]), uniform)), math.log(3),
            "a negative that is the target is left out", rel=1e-6)
check_close(float(sampled_softmax_loss(torch.full((1, 3), 100.0), torch.tensor([0]),
                                       torch.ones(4, 3), torch.zeros(4), torch.tensor([1]),
                                       uniform)), math.log(5), "scores of 300 do not overflow",
            rel=1e-5)

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_c_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part C: a bigram model trained with it (4 points)
#
# `shakespeare_words("train", vocab_size)` gives the book's word corpus over its
# `vocab_size` most frequent types (id 0, `<unk>`, stands for the rest) and
# `word_unigram(vocab_size)` their unigram distribution $P$. Train the bigram model
# $p(w \mid u) = \mathrm{softmax}(W e_u + b)_w$ with your loss:
#
# 1. `generator = torch.Generator().manual_seed(seed)`; the embedding $e$ (|V|, 32) from
#    $N(0, 0.1^2)$ and $W$ (|V|, 32) from $N(0, 1/32)$, both drawn from the generator;
#    $b = \log P$, so that the untrained model is the unigram model (as the chapter's
#    biLM starts); the proposal $Q \propto P^{0.75}$;
# 2. at each of `steps` steps draw 256 positions
#    `i = torch.randint(0, len(ids) - 1, (256,), generator=generator)` (pairs
#    $u$ = `ids[i]`, $w$ = `ids[i + 1]`) and 64 negatives
#    `torch.multinomial(Q, 64, replacement=True, generator=generator)`, and take an Adam
#    step (learning rate 0.01) on your sampled loss. Autograd is fine here.
#
# Return the trained float32 weights `{"embedding", "weight", "bias"}`. The grader
# measures the *full* softmax's cross-entropy on the first 20,000 word pairs of the
# validation split: it must be below 4.8 nats (the unigram model scores 5.09).

# %% nbgrader={"grade": false, "grade_id": "train_sampled_bigram", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_sampled_bigram(vocab_size, steps, seed):
    """A bigram model trained with the sampled softmax: embedding, weight, bias."""
    ### BEGIN SOLUTION
    generator = torch.Generator().manual_seed(seed)
    ids, unigram = shakespeare_words("train", vocab_size), word_unigram(vocab_size)
    proposal = unigram ** 0.75
    proposal = (proposal / proposal.sum()).float()
    embedding = (torch.randn(vocab_size, 32, generator=generator) * 0.1).requires_grad_()
    weight = (torch.randn(vocab_size, 32, generator=generator) / math.sqrt(32)).requires_grad_()
    bias = unigram.log().float().requires_grad_()
    optimizer = torch.optim.Adam([embedding, weight, bias], lr=0.01)
    for _ in range(steps):
        i = torch.randint(0, len(ids) - 1, (256,), generator=generator)
        negatives = torch.multinomial(proposal, 64, replacement=True, generator=generator)
        loss = sampled_softmax_loss(embedding[ids[i]], ids[i + 1], weight, bias, negatives,
                                    proposal.log())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"embedding": embedding.detach(), "weight": weight.detach(), "bias": bias.detach()}
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_train_sampled_bigram", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_train_sampled_bigram",
               lambda c: train_sampled_bigram(c["vocab_size"], c["steps"], c["seed"]))
### END HIDDEN TESTS
few = train_sampled_bigram(vocab_size=50, steps=2, seed=0)
for name, size in {"embedding": (50, 32), "weight": (50, 32), "bias": (50,)}.items():
    check_close(torch.tensor(few[name].shape), torch.tensor(size), f"the shape of {name}")
    check_close(float(few[name].isfinite().all()), 1.0, f"{name} is finite")

# %% [markdown] nbgrader={"grade": false, "grade_id": "try_it_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# The cell below trains as the grader does and measures the result the same way, with
# the unigram model (the start) beside it. It takes a few seconds, and the grader
# skips it.

# %% nbgrader={"grade": false, "grade_id": "try_it", "locked": true, "schema_version": 3, "solution": false, "task": false}
if not grading():
    trained = train_sampled_bigram(vocab_size=2000, steps=400, seed=0)
    start = {"embedding": torch.zeros(2000, 32), "weight": torch.zeros(2000, 32),
             "bias": word_unigram(2000).log()}
    print(f"full cross-entropy {bigram_nats(trained, 2000):.3f} nats "
          f"(to pass: below 4.8; the unigram model: {bigram_nats(start, 2000):.3f})")
