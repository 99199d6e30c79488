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
# # Assignment 7: the GRU backward, its three forms, and Cho's GRU trained on characters
#
# Goes with Chapter 7. Three papers and libraries write the GRU three ways, all with
# the gates reset $r$, update $z$ and a candidate, stacked in the rows of `W_ih`
# (3H, D) and `W_hh` (3H, H) (PyTorch's layout), and $r = \sigma(W_{ir} x + b_{ir} +
# W_{hr} h + b_{hr})$:
#
# | form | candidate | new state |
# | --- | --- | --- |
# | `torch.nn.GRU` | $n = \tanh\big(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})\big)$ | $h' = (1 - z) \odot n + z \odot h$ |
# | Cho et al. (2014, eq. 7) | $\tilde h = \tanh\big(W_{in} x + b_{in} + W_{hn} (r \odot h) + b_{hn}\big)$ | $h' = z \odot h + (1 - z) \odot \tilde h$ |
# | Chung et al. (2014), the lecture decks | the same $\tilde h$ as Cho's | $h' = (1 - \tilde z) \odot h + \tilde z \odot \tilde h$ |
#
# with $z = \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz})$ (and $\tilde z$ the same
# expression with Chung's weights). Cho's and torch's forms share the update gate's
# meaning and differ only in where the reset gate acts; Chung's differs from Cho's only
# in what $z$ stands for.
#
# | part | function | points |
# | --- | --- | --- |
# | A | `gru_step_backward(x_t, h, W_ih, W_hh, b_ih, b_hh, d_h_next)`: torch's form | 4 |
# | B | `chung_to_cho(W_ih, W_hh, b_ih, b_hh)` | 2 |
# | C | `train_cho_gru(hidden_size, steps, seed)`: a character LM in Cho's form | 4 |
#
# Write your code where it says `YOUR CODE HERE`. **What the grader refuses:**
# `nn.GRU`, `nn.GRUCell`, `torch.gru`, `torch._VF` and anything of `seqlm` (but, in
# Part C, `char_batch`) in every part, and in Part A `torch.autograd`, `torch.func`
# and `.backward()`. The grader reads your code for these once your notebook has run;
# a part whose code uses one scores 0, whatever it returned, and so does code it cannot
# read (`eval`, `exec`, `importlib`, `getattr` with a computed name). The checks in
# each test cell give quick feedback; the grade comes from the grader, which calls your
# functions on inputs it draws when it grades (warnings never fail a part). Restart
# and run all before you submit.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

import torch
import torch.nn.functional as F

from seqlm.exercises import char_batch, check_close, cho_gru_bits, grading, shakespeare_chars

# %% nbgrader={"grade": false, "grade_id": "forms", "locked": true, "schema_version": 3, "solution": false, "task": false}
def torch_gru_step(x_t, h, W_ih, W_hh, b_ih, b_hh):
    """One step of torch.nn.GRU's form: x_t (B, D), h (B, H) -> h' (B, H)."""
    x_r, x_z, x_n = (x_t @ W_ih.T + b_ih).chunk(3, dim=-1)
    h_r, h_z, h_n = (h @ W_hh.T + b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    return (1 - z) * torch.tanh(x_n + r * h_n) + z * h


def chung_gru_step(x_t, h, W_ih, W_hh, b_ih, b_hh):
    """One step of Chung et al.'s form, the lectures': x_t (B, D), h (B, H) -> h' (B, H)."""
    x_r, x_z, x_n = (x_t @ W_ih.T + b_ih).chunk(3, dim=-1)
    W_hr, W_hz, W_hn = W_hh.chunk(3)
    b_hr, b_hz, b_hn = b_hh.chunk(3)
    r = torch.sigmoid(x_r + h @ W_hr.T + b_hr)
    z = torch.sigmoid(x_z + h @ W_hz.T + b_hz)
    return (1 - z) * h + z * torch.tanh(x_n + (r * h) @ W_hn.T + b_hn)

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_a_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A: one step backward, in torch's form (4 points)
#
# Given `d_h_next` $= \partial L / \partial h'$ (B, H) for one step of `torch_gru_step`,
# derive by hand and return as a dict the gradients of $L$ with respect to `"x_t"`,
# `"h"`, `"W_ih"`, `"W_hh"`, `"b_ih"` and `"b_hh"` (each its own shape). Follow $h$ down
# all three of its roads to $h'$, and mind where $b_{hn}$ sits: its gradient is not
# $b_{in}$'s.

# %% nbgrader={"grade": false, "grade_id": "gru_step_backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gru_step_backward(x_t, h, W_ih, W_hh, b_ih, b_hh, d_h_next):
    """The gradients of one step of torch.nn.GRU's form: x_t, h, W_ih, W_hh, b_ih, b_hh."""
    ### BEGIN SOLUTION
    x_r, x_z, x_n = (x_t @ W_ih.T + b_ih).chunk(3, dim=-1)
    h_r, h_z, h_n = (h @ W_hh.T + b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    d_n = d_h_next * (1 - z) * (1 - n ** 2)                    # dL/d(n's pre-activation)
    d_z = d_h_next * (h - n) * z * (1 - z)
    d_r = d_n * h_n * r * (1 - r)
    d_input = torch.cat([d_r, d_z, d_n], dim=-1)               # (B, 3H): x's three rows
    d_hidden = torch.cat([d_r, d_z, d_n * r], dim=-1)          # h's: the reset gate scales n's
    return {"x_t": d_input @ W_ih, "h": d_hidden @ W_hh + d_h_next * z,
            "W_ih": d_input.T @ x_t, "W_hh": d_hidden.T @ h,
            "b_ih": d_input.sum(0), "b_hh": d_hidden.sum(0)}
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_gru_step_backward", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_gru_step_backward",
               lambda c: gru_step_backward(c["x_t"], c["h"], c["W_ih"], c["W_hh"], c["b_ih"],
                                           c["b_hh"], c["d_h_next"]))
### END HIDDEN TESTS
one = torch.ones(1, 2, dtype=torch.float64)
blank = [torch.zeros(6, 3, dtype=torch.float64), torch.zeros(6, 2, dtype=torch.float64),
         torch.zeros(6, dtype=torch.float64), torch.zeros(6, dtype=torch.float64)]
grads = gru_step_backward(torch.zeros(1, 3, dtype=torch.float64), one, *blank, one)
check_close(grads["h"], 0.5 * one, "zero weights: z = 1/2 carries half the gradient to h")
check_close(grads["b_ih"][2:4], torch.full((2,), 0.25, dtype=torch.float64),
            "the update gate's bias: dL/dh' × (h - n) × z (1 - z)")

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_b_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B: from the lectures' form to Cho's (2 points)
#
# `W_ih`, `W_hh`, `b_ih`, `b_hh` are the weights of a GRU in Chung et al.'s form
# (`chung_gru_step`). Return, as a dict with the same four keys and shapes, weights
# with which Cho et al.'s form computes the same function, exactly. (Try to find
# weights that make torch's form agree with Cho's: why can you not?)

# %% nbgrader={"grade": false, "grade_id": "chung_to_cho", "locked": false, "schema_version": 3, "solution": true, "task": false}
def chung_to_cho(W_ih, W_hh, b_ih, b_hh):
    """Weights for Cho's form that compute what Chung's form computes with these."""
    ### BEGIN SOLUTION
    def flip_update_gate(w):                   # z_Cho = 1 - z_Chung = sigma(-a)
        r, z, n = w.chunk(3)
        return torch.cat([r, -z, n])

    return {"W_ih": flip_update_gate(W_ih), "W_hh": flip_update_gate(W_hh),
            "b_ih": flip_update_gate(b_ih), "b_hh": flip_update_gate(b_hh)}
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_chung_to_cho", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_chung_to_cho",
               lambda c: chung_to_cho(c["W_ih"], c["W_hh"], c["b_ih"], c["b_hh"]))
### END HIDDEN TESTS
small = [torch.eye(6, 2, dtype=torch.float64), torch.ones(6, 2, dtype=torch.float64),
         torch.arange(6.0, dtype=torch.float64), torch.zeros(6, dtype=torch.float64)]
cho = chung_to_cho(*small)
check_close(cho["b_ih"], torch.tensor([0.0, 1, -2, -3, 4, 5], dtype=torch.float64),
            "only the update gate's rows change")
check_close(small[2], torch.arange(6.0, dtype=torch.float64), "the given weights are unchanged")

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_c_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part C: Cho's GRU as a character language model (4 points)
#
# Write one step of Cho's form yourself (a function of your own in this cell) and
# train a character LM with it on the book's corpus: embeddings of size 16, your GRU
# with `hidden_size` units, then logits $W_{hy} h_t + b_y$ over the |V| characters.
#
# 1. `generator = torch.Generator().manual_seed(seed)`; draw the embedding from
#    $N(0, 0.1^2)$, then every other weight uniform in $\pm 1/\sqrt{H}$ (as `torch.nn`
#    does; $b_y = 0$), all from the generator; `_, V = shakespeare_chars()` gives |V|;
# 2. at each of `steps` steps draw `x, y = char_batch(64, 16, generator)` (64 windows of
#    16 characters and the characters that follow each), run your GRU from $h_0 = 0$, and
#    take an Adam step (learning rate 0.01) on the mean cross-entropy of the next
#    characters. Autograd and `torch.optim` are fine here.
#
# Return the trained float32 weights as a dict: `embedding` (|V|, 16), `W_ih` (3H, 16),
# `W_hh` (3H, H), `b_ih`, `b_hh` (3H,), `W_hy` (|V|, H), `b_y` (|V|,). The grader runs
# them in Cho's form on the first 20,000 characters of the validation split: they must
# score below 3.3 bits per character (a bigram model scores 3.53; the unigram 4.72).

# %% nbgrader={"grade": false, "grade_id": "train_cho_gru", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_cho_gru(hidden_size, steps, seed):
    """A character LM whose GRU is Cho et al.'s form, trained with Adam."""
    ### BEGIN SOLUTION
    def cho_step(x_t, h, w):
        x_r, x_z, x_n = (x_t @ w["W_ih"].T + w["b_ih"]).chunk(3, dim=-1)
        W_hr, W_hz, W_hn = w["W_hh"].chunk(3)
        b_hr, b_hz, b_hn = w["b_hh"].chunk(3)
        r = torch.sigmoid(x_r + h @ W_hr.T + b_hr)
        z = torch.sigmoid(x_z + h @ W_hz.T + b_hz)
        return z * h + (1 - z) * torch.tanh(x_n + (r * h) @ W_hn.T + b_hn)

    H, generator = hidden_size, torch.Generator().manual_seed(seed)
    _, V = shakespeare_chars()
    w = {"embedding": torch.randn(V, 16, generator=generator) * 0.1}
    for name, size in {"W_ih": (3 * H, 16), "W_hh": (3 * H, H), "b_ih": (3 * H,),
                       "b_hh": (3 * H,), "W_hy": (V, H)}.items():
        w[name] = (torch.rand(size, generator=generator) * 2 - 1) / math.sqrt(H)
    w["b_y"] = torch.zeros(V)
    for p in w.values():
        p.requires_grad_()
    optimizer = torch.optim.Adam(w.values(), lr=0.01)
    for _ in range(steps):
        x, y = char_batch(64, 16, generator)
        inputs, h, states = w["embedding"][x], torch.zeros(64, H), []
        for t in range(16):
            h = cho_step(inputs[:, t], h, w)
            states.append(h)
        logits = torch.stack(states, dim=1) @ w["W_hy"].T + w["b_y"]       # (B, T, |V|)
        loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {k: v.detach() for k, v in w.items()}
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_train_cho_gru", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_train_cho_gru",
               lambda c: train_cho_gru(c["hidden_size"], c["steps"], c["seed"]))
### END HIDDEN TESTS
few, (_, V) = train_cho_gru(hidden_size=8, steps=2, seed=0), shakespeare_chars()
for name, size in {"embedding": (V, 16), "W_ih": (24, 16), "W_hh": (24, 8), "b_ih": (24,),
                   "b_hh": (24,), "W_hy": (V, 8), "b_y": (V,)}.items():
    check_close(torch.tensor(few[name].shape), torch.tensor(size), f"the shape of {name}")
    check_close(float(few[name].isfinite().all()), 1.0, f"{name} is finite")

# %% [markdown] nbgrader={"grade": false, "grade_id": "try_it_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# The cell below trains as the grader does and measures the result the same way: in
# Cho's form (a model trained in torch's form scores about 3.7 there). It takes some
# seconds, and the grader skips it.

# %% nbgrader={"grade": false, "grade_id": "try_it", "locked": true, "schema_version": 3, "solution": false, "task": false}
if not grading():
    trained = train_cho_gru(hidden_size=64, steps=300, seed=0)
    print(f"{cho_gru_bits(trained):.3f} bits per character (to pass: below 3.3)")
