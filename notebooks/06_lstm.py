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

# %% [markdown]
# # 6. Long short-term memory
#
# Chapter 5 ended with a plain recurrent network that cannot learn to add two
# numbers seen a hundred steps apart, because the gradient from there has
# vanished. The **long short-term memory** (LSTM) of
# {cite:t}`hochreiter1997long`, with the forget gate of {cite:t}`gers2000learning`,
# adds a second state, the **cell**, that changes from step to step only by an
# element-wise product and a sum. Along that path the gradient can survive.
#
# **In this chapter you will**
#
# - write the LSTM cell, its three gates and its two states, and check numerically
#   that it equals `torch.nn.LSTM`;
# - see why the cell path helps the gradient, and what it does not solve;
# - solve the adding problem that defeated Chapter 5's RNN;
# - train LSTM language models on words and characters: on words the LSTM beats
#   the RNN and Kneser-Ney; on characters it beats the RNN, and Kneser-Ney too with
#   the `full` profile's larger model (the `cpu` profile's small one does not);
# - look for cells that track strings, comments and indentation in Python code.

# %% tags=["hide-input"]
# Colab: install the course package when it is missing. Elsewhere this does nothing.
import importlib.util
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("seqlm") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "seqlm @ git+https://github.com/seqlm-course/sequence-models"], check=True)

# %% tags=["parameters", "hide-input"]
profile = None      # smoke | cpu | full | auto; None: $SEQLM_PROFILE, else auto
device = None       # cpu | cuda | auto; None: $SEQLM_DEVICE, else auto
seed = 0
results_dir = None  # where the headline numbers go; None: _build/results
quiet = None        # True: no progress bars; None: quiet under CI

# %% tags=["hide-input"]
import math
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import HTML, display
from torch import nn

from seqlm import (batches, config, data, diagrams, gradients, interpret, lm, lstm, metrics,
                   ngram, results, rnn, tasks, train, viz)

setup = config.setup("06_lstm", profile, device, seed, results_dir, quiet)
size, timer = setup.size, results.Timer()
print(f"profile {setup.profile}, device {setup.device}")

# %% [markdown]
# ## 6.1 The cell
#
# At step $t$ the LSTM reads $x_t$ and its previous hidden state $h_{t-1}$, and
# computes three **gates** and a **candidate**. The lectures write each of them
# as one weight matrix applied to the two vectors stacked, $W \cdot [h_{t-1}, x_t] + b$:
#
# $$\begin{aligned}
# f_t &= \sigma\big(W_f \cdot [h_{t-1}, x_t] + b_f\big) && \text{forget gate, in } (0, 1)\\
# i_t &= \sigma\big(W_i \cdot [h_{t-1}, x_t] + b_i\big) && \text{input gate, in } (0, 1)\\
# o_t &= \sigma\big(W_o \cdot [h_{t-1}, x_t] + b_o\big) && \text{output gate, in } (0, 1)\\
# \tilde c_t &= \tanh\big(W_c \cdot [h_{t-1}, x_t] + b_c\big) && \text{candidate, in } (-1, 1)\\
# c_t &= f_t \odot c_{t-1} + i_t \odot \tilde c_t && \text{cell state}\\
# h_t &= o_t \odot \tanh(c_t) && \text{hidden state}
# \end{aligned}$$
#
# The forget gate decides how much of each cell coordinate to keep, the input
# gate how much of the candidate to write, the output gate how much of the cell
# to show. Every symbol of the six lines is on the picture; the cell path along
# the top, from $c_{t-1}$ to $c_t$, is where 6.3 will follow the gradient:

# %%
diagrams.lstm_cell()
plt.show()

# %% [markdown]
# Splitting $W$ into $W_h$, the columns that read $h_{t-1}$, and $W_x$, those that
# read $x_t$, gives the form PyTorch uses, $W \cdot [h, x] = W_h h + W_x x$ (its
# `weight_hh` and `weight_ih` hold these blocks of all four gates):

# %%
torch.manual_seed(seed)
W = torch.randn(6, 4 + 3)                      # one gate's weights, for [h (4), x (3)]
h_prev, x_t = torch.randn(4), torch.randn(3)
W_hh_part, W_ih_part = W[:, :4], W[:, 4:]
stacked, split = W @ torch.cat([h_prev, x_t]), W_hh_part @ h_prev + W_ih_part @ x_t
print(f"W·[h, x] - (W_hh h + W_ih x): largest difference {(stacked - split).abs().max():.1e}")
assert torch.allclose(stacked, split, atol=1e-6)

# %% [markdown]
# `torch.nn.LSTM` stacks the four blocks in the rows of one input matrix and one
# recurrent matrix, in the order input, forget, candidate ("g"), output:
# `weight_ih_l0` is $(4n_h, \text{input})$ with rows $[W_{ii}; W_{if}; W_{ig}; W_{io}]$,
# `weight_hh_l0` is $(4n_h, n_h)$, and there are two bias vectors, `bias_ih_l0` and
# `bias_hh_l0`, that simply add. `seqlm.lstm.lstm_cell` is the step above in that
# layout:

# %%
viz.show_source(lstm.lstm_cell)

# %% [markdown]
# ## 6.2 Equal to `torch.nn.LSTM`
#
# `seqlm.lstm.LSTM` runs the cell over time and over layers with `nn.LSTM`'s
# parameter names, so the same weights load into both. On a GPU, cuDNN computes
# recurrent layers in TF32 and the two would differ by about $10^{-4}$; the
# comparison therefore runs on the CPU, whatever the device of this run.

# %%
def largest_gap(layers, bias, start):
    """The largest difference from nn.LSTM in outputs, final (h, c) and gradients."""
    torch.manual_seed(seed)
    reference = nn.LSTM(5, 7, layers, bias=bias, batch_first=True)
    ours = lstm.LSTM(5, 7, layers, bias=bias)
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(3, 9, 5)
    state = (torch.randn(layers, 3, 7), torch.randn(layers, 3, 7)) if start else None
    computed = []
    for model in (reference, ours):
        out, (h, c) = model(x, state)
        (out.sum() + h.sum() + c.sum()).backward()
        computed.append([out, h, c])
    gaps = [(a - b).abs().max() for a, b in zip(*computed)]
    gaps += [(a.grad - b.grad).abs().max() for a, b in zip(ours.parameters(),
                                                           reference.parameters())]
    return max(g.item() for g in gaps)


for layers in (1, 2):
    for bias in (True, False):
        for start in (False, True):
            gap = largest_gap(layers, bias, start)
            print(f"{layers} layer(s), bias {bias!s:5s}, initial state {start!s:5s}: {gap:.1e}")
            assert gap < 1e-5

# %% [markdown]
# ## 6.3 Why the cell helps, and what it does not solve
#
# Follow a change in $c_{s}$ forward. The direct path is
# $c_t = f_t \odot c_{t-1} + \dots$, whose Jacobian is $\mathrm{diag}(f_t)$: no
# weight matrix, no squashing slope, just the forget gate. Over $t - s$ steps
# that path multiplies the gradient by $f_{s+1} \odot \dots \odot f_t$, which
# stays close to 1 as long as the network keeps its forget gates open. The
# original LSTM of {cite:t}`hochreiter1997long` had no forget gate at all:
# $f_t = 1$, so $\partial c_t / \partial c_{t-1} = I$ exactly along this path, the
# *constant error carousel*; {cite:t}`gers2000learning` added the gate so that a
# cell could also clear itself. (The lectures say a forget gate that is "turned off"
# preserves everything; read it as *forgetting* turned off, the gate's value at 1. A
# forget gate at 0 erases the cell. Deck 003 captions its forget-gate slide "input
# gate layer".)
#
# There are other paths too, through $h_{t-1}$ into every gate; they carry weight
# matrices and slopes, like the RNN's, and can vanish or explode as theirs do. So
# the LSTM does not abolish vanishing or exploding gradients (deck 004 says it
# solves them): a forget gate that closes cuts the path, and the gated paths behave
# like an RNN's. What it adds is a path that the network can *learn* to keep open.
#
# That is why the forget gate's bias is often started at 1 instead of 0
# {cite}`gers2000learning,jozefowicz2015empirical`: $\sigma(1) \approx 0.73$ keeps
# more of the cell per step than $\sigma(0) = 0.5$. Measured at initialisation on
# an adding-problem sequence: the product of the forget gates alone (the direct
# path, the largest over the units), and the whole Jacobian
# $\lVert \partial c_T / \partial c_s \rVert$ by autograd, every path included.

# %%
long = size["adding_lengths"][0]
xs, _ = next(batches.AddingBatches(long, 1, 1, seed=3)())
flows = {}
for bias in (0.0, 1.0):
    torch.manual_seed(seed)
    layer = tasks.LastStateRegressor("lstm", 2, size["adding_hidden_size"],
                                     forget_bias=bias).rnn.double()
    flows[f"bias {bias:g}, forget gates alone"] = lstm.forget_path_norms(layer, xs[0].double())
    flows[f"bias {bias:g}, every path"] = lstm.cell_path_norms(layer, xs[0].double())
viz.gradient_decay(flows, f"‖∂c_T/∂c_s‖ at initialisation, T = {long}",
                   ylabel="‖∂c_T / ∂c_s‖ (log scale)")
plt.show()
at_ten = {name: norms[9].item() for name, norms in flows.items()}
print("10 steps back:", ", ".join(f"{name} {value:.3f}" for name, value in at_ten.items()))
assert at_ten["bias 1, forget gates alone"] > 5 * at_ten["bias 0, forget gates alone"]
assert at_ten["bias 1, every path"] > 5 * at_ten["bias 0, every path"]
assert at_ten["bias 1, every path"] > at_ten["bias 1, forget gates alone"]  # the gates carry more

# %% [markdown]
# The forget-gate product behaves as the argument says: with bias 1 it keeps far
# more over ten steps than with bias 0. The whole Jacobian is larger still: at this
# random start the paths through the gates carry more than the cell path itself,
# and they grow with the bias too (a cell that keeps its content keeps feeding the
# gates). Training then shapes both; the cell path is the one a network can hold
# open on purpose.

# %% [markdown]
# ## 6.4 The adding problem, solved
#
# The same task as Chapter 5, with an LSTM (forget-gate bias 1) in place of the RNN:
# the same number of hidden units (the LSTM has four times the RNN's weights) and,
# in the `cpu` profile, the same training budget.

# %%
BASELINE = 1 / 6
chapter5 = {
    T: results.metric(setup, "05_gradients", f"adding problem valid MSE, RNN, T={T}")
    for T in size["adding_lengths"]
}


def adding(length, forget_bias=1.0):
    torch.manual_seed(seed)
    model = tasks.LastStateRegressor("lstm", 2, size["adding_hidden_size"],
                                     forget_bias=forget_bias)
    history = train.train(model, batches.AddingBatches(length, size["adding_batch_size"],
                                                       size["adding_train"].steps, seed=1),
                          batches.AddingBatches(length, 256, 4, seed=2), size["adding_train"],
                          setup.device)
    return history


adding_runs = {T: adding(T) for T in size["adding_lengths"]}
for T, history in adding_runs.items():
    rnn_mse = chapter5.get(T)
    rnn_text = "not run with this profile" if rnn_mse is None else f"{rnn_mse:.4f}"
    print(f"T = {T}: LSTM best valid MSE {history.best_valid_loss:.4f} "
          f"(Chapter 5's RNN: {rnn_text}; "
          f"baseline {BASELINE:.3f})")
fig, ax = plt.subplots(figsize=(6.5, 3.5))
for T, history in adding_runs.items():
    ax.plot(history.step, history.valid_loss, marker="o", ms=3, label=f"LSTM, T = {T}")
ax.axhline(BASELINE, color="grey", ls=":", label="predict 1 (baseline)")
ax.set(xlabel="step", ylabel="valid MSE", yscale="log", title="The adding problem")
ax.legend()
plt.show()
if setup.profile != "smoke":
    for h in adding_runs.values():  # a plateau at the baseline first, then solved
        assert h.valid_loss[0] > 0.8 * BASELINE and h.best_valid_loss < BASELINE / 50

# %% [markdown]
# The curve shows what the LSTM has to overcome: at first it sits at the baseline,
# exactly where the RNN stays, and then it finds the two numbers and the error falls
# by well over an order of magnitude (both asserted). A training run cut off during
# that plateau would "show" that the LSTM fails too, which is why the budget here
# was measured, not guessed.

# %% [markdown]
# ## 6.5 Language models
#
# In the `cpu` profile the word-level LSTM language model is Chapter 3's model
# with the RNN layer replaced by an LSTM, trained on the same streams for the same
# number of steps, at a higher learning rate, which suits the LSTM and not the RNN
# (compare cells each at a rate that suits it). In `full` each has its own larger,
# regularised recipe (below). Its rivals are Chapter 3's RNN and Chapter 1's best
# Kneser-Ney model.

# %%
corpus = data.load_shakespeare("word")
V, EOS = len(corpus.vocab), corpus.vocab.stoi[data.EOS]
torch.manual_seed(seed)
word_model = rnn.RNNLM(V, **size["model"])
word_history = lm.fit(word_model, corpus, size, setup.device)
lstm_ppl = math.exp(lm.test_loss(word_model, corpus, size, setup.device))
viz.learning_curves({"LSTM": word_history}, "Word-level LSTM LM")
plt.show()

# %%
chapter3 = config.sizes("03_rnn", setup.profile)
torch.manual_seed(seed)
rnn_model = rnn.RNNLM(V, **chapter3["model"])
lm.load_or_fit(setup, "03_rnn", "word_model", rnn_model, corpus, chapter3)
rnn_ppl = results.reuse(setup, "03_rnn", "word test perplexity, RNN LM", lambda: math.exp(
    lm.test_loss(rnn_model, corpus, chapter3, setup.device)))
kn_ppl = results.reuse(
    setup, "01_ngrams", "word test perplexity, modified Kneser-Ney, n=5",
    lambda: ngram.KneserNey(5, modified=True).fit(lm.split_ids(corpus, size, "train"), V, EOS)
    .perplexity(lm.split_ids(corpus, size, "test")))
print(f"test perplexity: LSTM {lstm_ppl:.1f}   RNN (Chapter 3) {rnn_ppl:.1f}   "
      f"modified Kneser-Ney, n=5 {kn_ppl:.1f}")
if setup.profile != "smoke":
    assert lstm_ppl < rnn_ppl and lstm_ppl < kn_ppl
if setup.profile == "full":
    assert lstm_ppl <= 70

# %% [markdown]
# The `full` profile trains a regularised LSTM in the shape of
# {cite:t}`zaremba2014recurrent`'s medium model: two layers of 650 units, dropout
# 0.5 on the non-recurrent connections (the embeddings, between the layers and on
# the outputs), and, after {cite:t}`press2017using`, the embedding tied to the
# output layer. Zaremba et al. trained with plain SGD, a stepped decay of the rate
# and clipping at 5; AdamW with a cosine decay and clipping at 0.5 is this book's
# choice. Its
# ablation table shows what each ingredient is worth, each variant trained for a
# shorter budget than the main run (the `cpu` profile's single small layer has
# neither ingredient, so it skips the table).

# %%
ablation = {}
if size["ablation"]:
    for label, changes in (("full recipe", {}),) + tuple(size["ablation"]):
        torch.manual_seed(seed)
        variant = rnn.RNNLM(V, **(size["model"] | changes))
        lm.fit(variant, corpus, size | {"train": size["ablation_train"]}, setup.device)
        ablation[label] = math.exp(lm.test_loss(variant, corpus, size, setup.device))
    for label, value in ablation.items():
        print(f"{label:32s} test perplexity {value:6.1f}")
else:
    print(f"the ablation table runs in the full profile (this is {setup.profile})")

# %% [markdown]
# How far back does the trained LSTM's prediction reach? As in Chapter 5: how
# strongly the last state depends on each earlier word,
# $\lVert \partial h_T / \partial e_{T-d} \rVert$ relative to the last word, averaged
# over windows of the test plays, for the LSTM and for Chapter 3's RNN:

# %%
curves, reach = {}, {}
for name, model in (("RNN (Chapter 3)", rnn_model), ("LSTM", word_model)):
    model = model.cpu().double().eval()
    curves[name] = gradients.input_dependence(model, corpus.ids("test"), size["reach_length"],
                                              size["reach_windows"])
    reach[name] = gradients.reach(curves[name], 0.01)
viz.gradient_decay({name: curve[1:] for name, curve in curves.items()},
                   "How much the last state depends on each earlier word", floor=0.01,
                   ylabel="‖∂h_T / ∂e_{T-d}‖, relative to d = 0")
plt.show()
print(f"over {size['reach_windows']} windows of {size['reach_length']} words, the farthest word "
      "with at least 1 % of the dependence on the last: "
      + ", ".join(f"{name} {value} words back" for name, value in reach.items()))
if setup.profile != "smoke":
    assert reach["LSTM"] > reach["RNN (Chapter 3)"]

# %% [markdown]
# **Characters.** The same comparison on characters: the LSTM against Chapter 3's
# character RNN and against character-level Kneser-Ney, in bits per character.

# %%
chars = data.load_shakespeare("char")
C = len(chars.vocab)
torch.manual_seed(seed)
char_model = rnn.RNNLM(C, **size["char_model"])
lm.fit(char_model, chars, size, setup.device)
char_bits = metrics.bits(lm.test_loss(char_model, chars, size, setup.device))
torch.manual_seed(seed)
char_rnn = rnn.RNNLM(C, **chapter3["char_model"])
lm.load_or_fit(setup, "03_rnn", "char_model", char_rnn, chars, chapter3)
char_rnn_bits = results.reuse(setup, "03_rnn", "char test bits per character, RNN LM",
                              lambda: metrics.bits(lm.test_loss(char_rnn, chars, chapter3,
                                                                setup.device)))
orders = range(1, config.sizes("01_ngrams", setup.profile)["char_max_order"] + 1)
chapter1 = {n: results.metric(setup, "01_ngrams",
                              f"char test bits per character, modified Kneser-Ney, n={n}")
            for n in orders}
if None not in chapter1.values():   # Chapter 1's best order, read from its results
    best_kn_n = min(chapter1, key=chapter1.get)
else:                                # not there: the order it finds best in cpu, fitted here
    best_kn_n = 7
    print(f"[Chapter 1's character models are not in its results: the {best_kn_n}-gram, "
          "its best in the cpu profile, fitted here]")
    chapter1[best_kn_n] = metrics.bits(metrics.cross_entropy(ngram.KneserNey(
        best_kn_n, modified=True).fit(lm.split_ids(chars, size, "train"), C,
                                      chars.vocab.stoi["\n"]).prob(lm.split_ids(chars, size,
                                                                                "test"))))
kn_bits = chapter1[best_kn_n]
print(f"bits per character: LSTM {char_bits:.3f}   RNN (Chapter 3) {char_rnn_bits:.3f}   "
      f"modified Kneser-Ney, n={best_kn_n} {kn_bits:.3f}")
if setup.profile != "smoke":
    assert char_bits < char_rnn_bits
if setup.profile == "cpu":
    assert char_bits > kn_bits   # the small LSTM does not reach the best n-gram
if setup.profile == "full":
    assert char_bits < kn_bits

# %% [markdown]
# In the `cpu` profile a small character LSTM beats Chapter 3's RNN but not the
# best Kneser-Ney model; the larger `full` model passes it too (both asserted, each
# in its profile). Samples from the character model, at two temperatures:

# %%
prompt = list(chars.vocab.encode(list("HAMLET:\n")))
for temperature in (0.5, 1.0):
    text = "".join(chars.vocab.decode(rnn.generate(char_model, prompt, 300, temperature,
                                                   rng=setup.rng)))
    print(f"--- τ = {temperature}\nHAMLET:\n{text}\n")

# %% [markdown]
# ## 6.6 Cells you can read
#
# {cite:t}`karpathy2015visualizing` trained character LSTMs on *War and Peace* and
# on the C source of the Linux kernel, and found single cells that track where a
# line is (its position, for the text), whether the model is inside a quotation or
# a comment, or how deep inside an expression or an `if` it is (for the code). We do
# the same on Python: a character LSTM trained on the standard library, every
# character of a file it has not seen labelled with four facts (inside a string and
# inside a comment, from Python's own `tokenize`; the indentation depth and the
# position in the line, counted from spaces and line breaks), and every cell
# correlated with every fact.

# %%
code = data.python_source()
split_at = int(len(code) * 0.9)
code_train, code_test = code[:split_at], code[split_at:]
if size["code_chars"]:
    code_train = code_train[:size["code_chars"]]
symbols = data.Vocab.from_counts(Counter(code_train))
torch.manual_seed(seed)
code_model = rnn.RNNLM(len(symbols), 32, size["code_hidden_size"], cell="lstm")
code_ids = symbols.encode(list(code_train))
held_out = symbols.encode(list(code_test[:40_000]))
train.train(code_model, batches.StreamBatches(code_ids, 32, 100),
            batches.StreamBatches(held_out, 8, 200), size["code_train"], setup.device)

# %%
files = code_test.split("# ---- ")[1:]                      # whole files, never seen
sample = next(f for f in files if len(f) > 6000)[:8000]
facts = interpret.python_facts(sample)
code_model = code_model.cpu().eval()
with torch.no_grad():
    _, cells = lstm.cell_states(code_model.rnn,
                                code_model.embed(torch.tensor(symbols.encode(list(sample)))))
cells = cells.numpy()
correlation = {fact: interpret.correlations(cells, values) for fact, values in facts.items()}
best = {fact: int(np.abs(r).argmax()) for fact, r in correlation.items()}
torch.manual_seed(seed)  # the same model before training, for comparison
untrained = rnn.RNNLM(len(symbols), 32, size["code_hidden_size"], cell="lstm").eval()
with torch.no_grad():
    _, start_cells = lstm.cell_states(untrained.rnn, untrained.embed(
        torch.tensor(symbols.encode(list(sample)))))
chance = {fact: np.abs(interpret.correlations(start_cells.numpy(), values)).max()
          for fact, values in facts.items()}
for fact, r in correlation.items():
    print(f"{fact:22s} best cell {best[fact]:3d}: correlation {r[best[fact]]:+.2f} "
          f"(untrained: {chance[fact]:.2f}); cells above 0.5: {int((np.abs(r) > 0.5).sum())} "
          f"of {len(r)}")
fig, ax = plt.subplots(figsize=(6.5, 3.2))
ax.hist([np.abs(r) for r in correlation.values()], bins=20, label=list(correlation))
ax.set(xlabel="|correlation| of a cell with the fact", ylabel="cells",
       title="Most cells track no single fact")
ax.legend(fontsize=8)
plt.show()
string_best = abs(correlation["inside a string"][best["inside a string"]])
if setup.profile != "smoke":  # training made a string detector (0.51 measured in cpu)
    assert string_best > 0.4 and string_best > 2 * chance["inside a string"]

# %% [markdown]
# Most cells correlate weakly with everything: they do many jobs at once, and
# the histogram is the honest picture. The printout shows where each fact's best
# cell stands against the same network before training; for strings, the best cell
# is well above it (asserted), a small string detector that nobody asked for. For
# the other facts, judge from the printout. Here is the best cell for two of the
# facts, red where it is positive and blue where it is negative (Karpathy et al.'s
# pictures use the opposite colours), on a stretch of code the model never trained
# on:

# %%
excerpt = slice(0, 900)
for fact in ("inside a string", "indentation depth"):
    unit = best[fact]
    values = cells[excerpt, unit] / (np.abs(cells[:, unit]).max() + 1e-9)
    display(HTML(interpret.colored_text(sample[excerpt], values,
                                        f"cell {unit}, best for '{fact}'")))

# %% [markdown]
# ## 6.7 Why we train with `nn.LSTM`
#
# `seqlm.lstm.LSTM` computes the same numbers as `nn.LSTM`, but step by step in
# Python; `nn.LSTM` runs the whole sequence in compiled code (oneDNN on a CPU,
# cuDNN on a GPU). Timed here, forward and backward of one batch, after a
# warm-up:

# %%
torch.manual_seed(seed)
reference = nn.LSTM(128, 128, batch_first=True).to(setup.device)
scratch = lstm.LSTM(128, 128).to(setup.device)
scratch.load_state_dict(reference.state_dict())
x = torch.randn(32, 35, 128, device=setup.device)


def forward_backward(model):
    model.zero_grad(set_to_none=True)
    model(x)[0].sum().backward()


_, fast = results.timed(lambda: forward_backward(reference), setup.device)
_, slow = results.timed(lambda: forward_backward(scratch), setup.device)
print(f"nn.LSTM {fast * 1000:.1f} ms, the Python loop {slow * 1000:.1f} ms: "
      f"{slow / fast:.1f}× slower on {setup.device}")

# %% [markdown]
# The printout gives this machine's ratio. On a GPU the gap is wider, because the
# loop launches several small kernels per step and waits for each: on the one H100
# this book's recipes were measured on, the LSTM loop was 13 to 15 times slower
# than `nn.LSTM`, and `torch.compile` still left it 4 to 6 times slower. `python
# bench/bench_cells.py --compile` measures every cell of the book against its fused
# layer, compiled loops included, on whatever machine you have. So the from-scratch
# cells of this book show that we understand what the library computes, and the
# library trains. (PyTorch's LSTM, like ours, has no *peephole* connections, the
# cell state fed into the gates, which Gers and Schmidhuber added in 2000 and
# {cite:t}`greff2017lstm`'s "vanilla" LSTM includes.)
#
# ## 6.8 Results

# %%
headline = {"word test perplexity, LSTM LM": lstm_ppl,
            "char test bits per character, LSTM LM": char_bits}
headline |= {f"adding problem valid MSE, LSTM, T={T}": h.best_valid_loss
             for T, h in adding_runs.items()}
headline |= {f"word test perplexity, LSTM LM, {label}": value for label, value in ablation.items()}
headline |= {"words back with 1% of the gradient, LSTM": reach["LSTM"],
             "words back with 1% of the gradient, RNN (Chapter 3)": reach["RNN (Chapter 3)"],
             "best cell correlation, inside a string": string_best}
results.save_weights(setup, "word_model", word_model)
path = results.save(setup, headline, timer.seconds)
print(f"{len(headline)} numbers written to {path.name} after {timer.seconds:.1f} s")

# %% [markdown]
# ## Exercises
#
# 1. **The forget gate's bias.** Train the adding-problem LSTM with forget-gate
#    bias 0, 1 and 2, each with two seeds. Does the bias change when the plateau
#    ends?
# 2. **Coupled gates.** Replace $f_t$ by $1 - i_t$ (`variant="coupled"` in
#    `seqlm.lstm.LSTM`). What does the cell lose?
# 3. **More cells.** Correlate the code model's cells with "the next character
#    is a newline" and with "inside brackets". Which are easier to find?
# 4. **Graded assignment.** Write the LSTM step from the weights of an
#    `nn.LSTMCell` (assignment `06_lstm`).
