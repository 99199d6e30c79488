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
# # Assignment 10: attention by hand, a beam search step, and a model that must mask
#
# Goes with Chapter 10. The chapter's decoder looks back at the encoder states
# $h_1 \dots h_T$ through **attention** and writes its output with **beam search**; it
# shows `attend`, which takes a score module and a mask, and a batched `beam_search`.
# Here you write the pieces those two leave to the course's code: Bahdanau et al.'s
# additive score computed from its weights, masked at padding given only the lengths;
# its gradient, by hand; one step of beam search on a list of hypotheses; and a model
# that only works when its attention leaves the padding out, trained with your gradient.
#
# | part | function | points |
# | --- | --- | --- |
# | A | `additive_attention(d, h, lengths, W_q, W_k, b_k, v)` | 2 |
# | B | `additive_attention_backward(d, h, lengths, W_q, W_k, b_k, v, d_h_bar)`, by hand | 3 |
# | C | `beam_step(hypotheses, log_probs, beam)`: one step, then a whole search with it | 1 + 1 |
# | D | `train_recall(steps, seed)`: associative recall, trained with Part B's gradient | 3 |
#
# Write your code where it says `YOUR CODE HERE`. **What the grader refuses:**
# anything of `seqlm` in every part (the course's `attend`, `AdditiveScore`,
# `masked_softmax`, `beam_search` and the rest; in Part D but `recall_task` and
# `recall_memory`); `F.scaled_dot_product_attention` and `nn.MultiheadAttention` in
# Parts A, B and D; and in Parts B and D `torch.autograd`, `torch.func` and
# `.backward()`. The grader reads your code for these once your notebook has run; a
# part whose code uses one scores 0, whatever it returned, and so does code it cannot
# read (`eval`, `exec`, `importlib`, `getattr` with a computed name). The checks in each
# test cell give quick feedback; the grade comes from the grader, which calls your
# functions on inputs it draws when it grades (warnings never fail a part). Restart and
# run all before you submit.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

import torch
import torch.nn.functional as F

from seqlm.exercises import (TinyDecoder, check_close, exhaustive_search, grading,
                             recall_accuracy, recall_memory, recall_task, tiny_beam_search)

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_a_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A: additive attention over a padded batch (2 points)
#
# One decoder step of the chapter's attention, for a batch. Row $b$ has a decoder state
# $d$ (the query) and encoder states $h_1 \dots h_T$, of which the first $n$ =
# `lengths[b]` are real and the rest padding. With the step's index $i$ dropped:
#
# $$\mathrm{score}(d, h_j) = v^\top \tanh(W_q d + W_k h_j + b_k), \qquad
# \alpha_j = \begin{cases} \dfrac{\exp \mathrm{score}(d, h_j)}
# {\sum_{j' \le n} \exp \mathrm{score}(d, h_{j'})} & j \le n \\
# 0 & j > n \end{cases}, \qquad \bar{h} = \sum_j \alpha_j h_j.$$
#
# `d` is (B, $n_d$), `h` (B, T, $n_k$), `lengths` a (B,) tensor of integers in 1 … T,
# `W_q` ($n_a$, $n_d$), `W_k` ($n_a$, $n_k$), `b_k` and `v` ($n_a$,), where $n_a$ is the
# number of the score's hidden units. Return `(h_bar, alpha)`, (B, $n_k$) and (B, T),
# with $\alpha_j$ exactly 0 at padding. Padded positions may hold anything, even numbers
# far larger than any real one; they must change nothing. Do not change the inputs.

# %% nbgrader={"grade": false, "grade_id": "additive_attention", "locked": false, "schema_version": 3, "solution": true, "task": false}
def additive_attention(d, h, lengths, W_q, W_k, b_k, v):
    """Bahdanau's attention of each row's query d to its real states h_j: (h_bar, alpha)."""
    ### BEGIN SOLUTION
    real = torch.arange(h.shape[1])[None, :] < lengths[:, None]         # (B, T)
    hidden = torch.tanh((d @ W_q.T)[:, None, :] + h @ W_k.T + b_k)      # (B, T, n_a)
    scores = (hidden @ v).masked_fill(~real, -math.inf)                 # (B, T)
    alpha = torch.softmax(scores, dim=-1)
    return (alpha[:, :, None] * h).sum(1), alpha                        # (B, n_k), (B, T)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_additive_attention", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_additive_attention",
               lambda c: additive_attention(c["d"], c["h"], c["lengths"], c["W_q"], c["W_k"],
                                            c["b_k"], c["v"]))
### END HIDDEN TESTS
states = torch.arange(1.0, 9.0).reshape(2, 4, 1)                     # rows 1 2 3 4 and 5 6 7 8
states[1, 1:] = 100.0                                                # junk in row 1's padding
flat = [torch.zeros(3, 2), torch.zeros(3, 1), torch.zeros(3), torch.ones(3)]   # all scores 0
h_bar, alpha = additive_attention(torch.ones(2, 2), states, torch.tensor([3, 1]), *flat)
check_close(alpha, torch.tensor([[1 / 3, 1 / 3, 1 / 3, 0.0], [1.0, 0.0, 0.0, 0.0]]),
            "equal scores: equal weights over the real positions, 0 at padding")
check_close(h_bar[:, 0], torch.tensor([2.0, 5.0]), "the context: the mean of 1 2 3, and 5 alone")
check_close(float(alpha[0, 3]), 0.0, "exactly 0 at padding", atol=0.0)

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_b_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B: its gradient, by hand (3 points)
#
# A loss $L$ depends on the context; you are given `d_h_bar` = $\partial L / \partial
# \bar{h}$, (B, $n_k$). Derive by hand and return as a dict the gradients of $L$ with
# respect to `"d"`, `"h"`, `"W_q"`, `"W_k"`, `"b_k"` and `"v"`, each of its own shape
# (the weights' summed over the batch). Write $a_j = W_q d + W_k h_j + b_k$ for the
# score's pre-activation. $h_j$ reaches $\bar{h}$ by two roads, as a term of the average
# and through its score, and the softmax couples the scores: $\partial \alpha_j /
# \partial\, \mathrm{score}(d, h_k) = \alpha_j (\mathbf{1}[j = k] - \alpha_k)$. Where
# does a padded position's gradient go?

# %% nbgrader={"grade": false, "grade_id": "additive_attention_backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def additive_attention_backward(d, h, lengths, W_q, W_k, b_k, v, d_h_bar):
    """The gradients of additive attention from dL/dh_bar: d, h, W_q, W_k, b_k, v."""
    ### BEGIN SOLUTION
    real = torch.arange(h.shape[1])[None, :] < lengths[:, None]         # (B, T)
    hidden = torch.tanh((d @ W_q.T)[:, None, :] + h @ W_k.T + b_k)      # tanh(a_j) (B, T, n_a)
    alpha = torch.softmax((hidden @ v).masked_fill(~real, -math.inf), dim=-1)
    d_alpha = (h * d_h_bar[:, None, :]).sum(-1)                         # h_j · d_h_bar (B, T)
    d_score = alpha * (d_alpha - (alpha * d_alpha).sum(-1, keepdim=True))   # the softmax
    d_a = d_score[:, :, None] * v * (1 - hidden ** 2)                   # (B, T, n_a)
    n_k, n_a = h.shape[-1], v.shape[0]
    return {"d": d_a.sum(1) @ W_q, "h": alpha[:, :, None] * d_h_bar[:, None, :] + d_a @ W_k,
            "W_q": d_a.sum(1).T @ d, "W_k": d_a.reshape(-1, n_a).T @ h.reshape(-1, n_k),
            "b_k": d_a.sum((0, 1)), "v": (d_score[:, :, None] * hidden).sum((0, 1))}
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_additive_attention_backward", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_additive_attention_backward",
               lambda c: additive_attention_backward(c["d"], c["h"], c["lengths"], c["W_q"],
                                                     c["W_k"], c["b_k"], c["v"], c["d_h_bar"]))
### END HIDDEN TESTS
grads = additive_attention_backward(torch.ones(2, 2), states, torch.tensor([3, 1]), *flat,
                                    torch.ones(2, 1))
check_close(grads["h"][:, :, 0], torch.tensor([[1 / 3, 1 / 3, 1 / 3, 0.0], [1.0, 0, 0, 0]]),
            "W_k = 0: h reaches h_bar as a term of the average only; nothing reaches padding")
check_close(grads["b_k"], torch.zeros(3),
            "every a_j alike: the softmax's gradients, summing to 0 over j, cancel")
g_ = torch.Generator().manual_seed(0)
d, h = torch.randn(2, 3, generator=g_, dtype=torch.float64), torch.randn(2, 4, 2, generator=g_,
                                                                          dtype=torch.float64)
weights = [torch.randn(5, 3, generator=g_, dtype=torch.float64),
           torch.randn(5, 2, generator=g_, dtype=torch.float64),
           torch.randn(5, generator=g_, dtype=torch.float64),
           torch.randn(5, generator=g_, dtype=torch.float64)]
lengths, d_h_bar, step = torch.tensor([4, 2]), torch.tensor([[1.0, -2], [0.5, 1]]).double(), 1e-6
nudged = [d.clone(), d.clone()]
nudged[0][1, 2] += step
nudged[1][1, 2] -= step
ahead, behind = [(d_h_bar * additive_attention(x, h, lengths, *weights)[0]).sum() for x in nudged]
check_close(float(additive_attention_backward(d, h, lengths, *weights, d_h_bar)["d"][1, 2]),
            float(ahead - behind) / (2 * step), "dL/dd against finite differences", rel=1e-6)

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_c_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part C: one step of beam search (1 + 1 points)
#
# A decoder writes outputs $1 \dots O-1$ and ends with `</s>`, output 0. A
# **hypothesis** is a dict: `"outputs"`, the list of outputs written so far (without
# `</s>`); `"score"`, the sum of their log-probabilities ($\log p(y \mid x)$ so far,
# `</s>` included once it ended); `"ended"`, whether it wrote `</s>`. Given the current
# hypotheses (a list of N) and `log_probs` (N, O), row $n$ the decoder's log-probabilities
# of hypothesis $n$'s next output, `beam_step` returns the next beam:
#
# 1. a hypothesis that has not ended is extended by every output $y$, its score plus
#    `log_probs[n, y]`: $y = 0$ ends it (its outputs unchanged), any other $y$ is
#    appended to its outputs;
# 2. a hypothesis that has ended is carried as it is, once and at no cost (its row of
#    `log_probs` is ignored), and never extended;
# 3. of all these candidates the best $n_b$ = `beam` (the beam width) by score are
#    kept, best first, and fewer when there are fewer: at the first step the beam is one
#    hypothesis, the empty output, so there are only O candidates, and none may appear
#    twice.
#
# Each kept hypothesis also says where it came from: return a list of dicts
# `{"outputs", "score", "ended", "parent"}`, `parent` the index in `hypotheses` it was
# extended or carried from, in plain Python values (a list of ints, a float, a bool,
# an int). Unlike the chapter's `beam_search` there is no normalisation by length, no
# batch and no fixed number of slots. (The grader's scores have no ties.)

# %% nbgrader={"grade": false, "grade_id": "beam_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def beam_step(hypotheses, log_probs, beam):
    """The best `beam` extensions of the hypotheses, ended ones carried: best first."""
    ### BEGIN SOLUTION
    candidates = []                                  # (score, parent, next output or None)
    for n, hypothesis in enumerate(hypotheses):
        if hypothesis["ended"]:
            candidates.append((float(hypothesis["score"]), n, None))
            continue
        for y, log_p in enumerate(log_probs[n].tolist()):
            candidates.append((float(hypothesis["score"]) + log_p, n, y))
    candidates.sort(key=lambda candidate: -candidate[0])
    kept = []
    for score, n, y in candidates[:beam]:
        ended = y is None or y == 0
        outputs = list(hypotheses[n]["outputs"]) + ([] if ended else [y])
        kept.append({"outputs": outputs, "score": score, "ended": ended, "parent": n})
    return kept
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_beam_step", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_beam_step", lambda c: beam_step(c["hypotheses"], c["log_probs"], c["beam"]))
### END HIDDEN TESTS
first = beam_step([{"outputs": [], "score": 0.0, "ended": False}],
                  torch.tensor([[0.5, 0.3, 0.2]]).log(), beam=5)
check_close(float(len(first)), 3.0, "the first step has three candidates, not five")
check_close(torch.tensor([h["score"] for h in first]), torch.tensor([0.5, 0.3, 0.2]).log(),
            "best first")
check_close(float(first[0]["ended"] and first[0]["outputs"] == []), 1.0, "</s> ends it")
check_close(float(first[1]["outputs"] == [1] and first[1]["parent"] == 0), 1.0, "y = 1")
beam = [{"outputs": [2], "score": -1.0, "ended": True},
        {"outputs": [1], "score": -0.5, "ended": False}]
kept = beam_step(beam, torch.tensor([[-9.0, -9.0, -9.0], [-2.0, -0.1, -3.0]]), beam=2)
check_close(torch.tensor([h["score"] for h in kept]), torch.tensor([-0.6, -1.0]),
            "the live one extended by 1, then the ended one carried at no cost")
check_close(float(kept[1] == {"outputs": [2], "score": -1.0, "ended": True, "parent": 0}),
            1.0, "carried as it was")

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_c2_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **A whole search with your step.** `tiny_beam_search(decoder, beam_step, beam,
# max_length)` (in `seqlm.exercises`; read it) starts from the empty hypothesis, feeds
# every hypothesis's last output to a `TinyDecoder` (a small Elman language model of
# outputs), calls your `beam_step` and gives each kept hypothesis the decoder state of
# its parent, for at most `max_length` outputs (`</s>` counted). It returns the final
# beam, best first. The grader runs it with your step on tiny models of its own: with a
# beam wide enough to keep every possible output it must return exactly what trying
# them all returns (`exhaustive_search`, every output ranked), and with narrow beams
# what it returns with the grader's own step.

# %% nbgrader={"grade": true, "grade_id": "test_beam_search", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_beam_search",
               lambda c: tiny_beam_search(TinyDecoder(c["weights"]), beam_step, c["beam"],
                                          c["max_length"]))
### END HIDDEN TESTS
g_ = torch.Generator().manual_seed(1)
tiny = TinyDecoder({"E": torch.randn(4, 5, generator=g_), "W_hh": torch.randn(5, 5, generator=g_),
                    "b_h": torch.zeros(5), "W_hy": 2 * torch.randn(3, 5, generator=g_),
                    "b_y": torch.zeros(3)})
everything = exhaustive_search(tiny, 3)             # 1 + 2 + 4 ended, 8 cut at the limit
wide = tiny_beam_search(tiny, beam_step, 15, 3)
check_close(torch.tensor([h["score"] for h in wide]), torch.tensor([h["score"]
                                                                    for h in everything]),
            "a beam of 15 keeps every output of at most 3: it ranks them all", atol=1e-9)
check_close(float([h["outputs"] for h in wide] == [h["outputs"] for h in everything]), 1.0,
            "the same outputs, in the same order")

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_d_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part D: associative recall, trained with your gradient (3 points)
#
# `recall_task(B, T, keys, values, generator)` draws padded rows of (key, value) pairs:
# row $b$ holds $n$ pairs with distinct keys, then padding to T; the query is one of its
# keys and the target that key's value. The padding holds junk pairs, and one of them
# (where a row has padding) holds the query's key with another value. The model reads
# the memory one-hot (`recall_memory` builds it): the query $d$ = onehot(query), (B, 20),
# and $h_j$ = [onehot(key$_j$) ; onehot(value$_j$)], (B, T, 40); your additive attention
# with $n_a$ = 32 units gives the context $\bar{h}$, and the logits of the 20 values are
# $\ell = W_{hy} \bar{h} + b_y$. Train it with no gradient but yours:
#
# 1. `generator = torch.Generator().manual_seed(seed)`; draw from it, in this order,
#    $W_q$ (32, 20) and $W_k$ (32, 40) from $N(0, 1)$, $v$ (32,) from $N(0, 1/32)$ and
#    $W_{hy}$ (20, 40) from $N(0, 0.1^2)$; $b_k = 0$ and $b_y = 0$;
# 2. at each of `steps` steps draw `recall_task(64, 10, 20, 20, generator)`, build the
#    memory, run your `additive_attention` and the output layer, and take the mean
#    cross-entropy $L$ of the targets: $\partial L / \partial \ell$ =
#    (softmax($\ell$) − onehot(target)) / 64 row by row, which gives $W_{hy}$'s and
#    $b_y$'s gradients and $\partial L / \partial \bar{h}$; your
#    `additive_attention_backward` gives the rest (the memory is data: it is not trained);
# 3. take an Adam step with learning rate 0.02 (`torch.optim.Adam` will do: set each
#    tensor's `.grad` to your gradient, then call `step()`).
#
# Return the trained float32 weights `{"W_q", "W_k", "b_k", "v", "W_hy", "b_y"}`. The
# grader runs them in the chapter's attention, masked, on 4,000 fresh rows: the target
# must score highest in at least 90 % of them (a model that reads the padding is torn
# between the target and the decoy).

# %% nbgrader={"grade": false, "grade_id": "train_recall", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_recall(steps, seed):
    """The recall model, additive attention then the output layer, trained by hand."""
    ### BEGIN SOLUTION
    generator = torch.Generator().manual_seed(seed)
    params = {"W_q": torch.randn(32, 20, generator=generator),
              "W_k": torch.randn(32, 40, generator=generator), "b_k": torch.zeros(32),
              "v": torch.randn(32, generator=generator) / math.sqrt(32),
              "W_hy": torch.randn(20, 40, generator=generator) * 0.1, "b_y": torch.zeros(20)}
    optimizer = torch.optim.Adam(params.values(), lr=0.02)
    rows = torch.arange(64)
    for _ in range(steps):
        key_ids, value_ids, lengths, query, target = recall_task(64, 10, 20, 20, generator)
        d, h = recall_memory(key_ids, value_ids, query, 20, 20)
        inputs = (d, h, lengths, params["W_q"], params["W_k"], params["b_k"], params["v"])
        h_bar, _ = additive_attention(*inputs)
        d_logits = torch.softmax(h_bar @ params["W_hy"].T + params["b_y"], dim=-1)  # (64, 20)
        d_logits[rows, target] -= 1
        d_logits /= 64
        grads = additive_attention_backward(*inputs, d_logits @ params["W_hy"])
        grads |= {"W_hy": d_logits.T @ h_bar, "b_y": d_logits.sum(0)}
        for name, p in params.items():
            p.grad = grads[name]
        optimizer.step()
    return params
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_train_recall", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_train_recall", lambda c: train_recall(c["steps"], c["seed"]))
### END HIDDEN TESTS
few = train_recall(steps=2, seed=0)
for name, size in {"W_q": (32, 20), "W_k": (32, 40), "b_k": (32,), "v": (32,),
                   "W_hy": (20, 40), "b_y": (20,)}.items():
    check_close(torch.tensor(few[name].shape), torch.tensor(size), f"the shape of {name}")
    check_close(float(few[name].isfinite().all()), 1.0, f"{name} is finite")

# %% [markdown] nbgrader={"grade": false, "grade_id": "try_it_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# The cell below trains as the grader does and measures the accuracy the same way, then
# runs the same weights with attention that reads the padding too. It takes a few
# seconds, and the grader skips it.

# %% nbgrader={"grade": false, "grade_id": "try_it", "locked": true, "schema_version": 3, "solution": false, "task": false}
if not grading():
    trained = train_recall(steps=300, seed=0)
    print(f"accuracy {recall_accuracy(trained, seed=1):.3f} (to pass: at least 0.9); "
          f"the same weights reading the padding: "
          f"{recall_accuracy(trained, seed=1, masked=False):.3f}")
