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

# %% tags=["hide-input"]
# Colab: install the course package when it is missing. Elsewhere this does nothing.
import importlib.util
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("seqlm") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "seqlm @ git+https://github.com/seqlm-course/sequence-models"], check=True)

# %% tags=["parameters"]
profile = None      # smoke | cpu | full | auto; None: $SEQLM_PROFILE, else auto
device = None       # cpu | cuda | auto; None: $SEQLM_DEVICE, else auto
seed = 0
results_dir = None  # where the headline numbers go; None: _build/results
quiet = None        # True: no progress bars; None: quiet under CI

# %% tags=["hide-input"]
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from seqlm import batches, config, data, metrics, ngram, results, rnn, train, viz

setup = config.setup("03_rnn", profile, device, seed, results_dir, quiet)
size, timer = setup.size, results.Timer()
print(f"profile {setup.profile}, device {setup.device}")

# %% [markdown]
# # 3. Recurrent neural networks
#
# The models of Chapters 1 and 2 see a fixed window of $n-1$ tokens. A
# **recurrent network** {cite}`elman1990finding` reads a sequence one token at a
# time and keeps a **state** $h_t$, a vector that summarises everything read so
# far. The same weights are used at every step, so the model has as many
# parameters for a sentence of 5 words as for one of 500, and in principle its
# prediction can depend on any earlier token.

# %% [markdown]
# ## 3.1 The Elman cell
#
# With $x_t$ the input at step $t$ (here, a word's embedding),
#
# $$h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}), \qquad h_0 = 0,$$
#
# and the language model reads the next-token distribution off the state,
# $p(x_{t+1} \mid x_{\le t}) = \mathrm{softmax}(W_{ho} h_t + b_o)$. Stacking
# layers feeds each layer's states to the next as its inputs.
# `seqlm.rnn.ElmanRNN` is this loop written out, with `torch.nn.RNN`'s names and
# shapes for the weights, so that the same weights can be loaded into both:

# %%
viz.show_source(rnn.ElmanRNN.forward)

# %% [markdown]
# Loaded with the same weights, the two must agree, for tanh and ReLU and for
# several layers:

# %%
torch.manual_seed(seed)
for nonlinearity in ("tanh", "relu"):
    reference = nn.RNN(8, 16, num_layers=2, nonlinearity=nonlinearity, batch_first=True)
    ours = rnn.ElmanRNN(8, 16, num_layers=2, nonlinearity=nonlinearity)
    ours.load_state_dict(reference.state_dict())  # same names, same shapes
    x = torch.randn(4, 12, 8)
    (out_ref, h_ref), (out, h) = reference(x), ours(x)
    gap = max((out - out_ref).abs().max().item(), (h - h_ref).abs().max().item())
    print(f"{nonlinearity}: largest difference from nn.RNN {gap:.1e}")
    assert gap < 1e-6

# %% [markdown]
# ## 3.2 Training on streams: teacher forcing and truncated BPTT
#
# The language model is trained with **teacher forcing**: at every step the
# input is the true previous token, and the loss is the cross-entropy of the
# prediction of the next one. The training text is one long stream. We cut it
# into $B$ equal rows and read all rows in parallel, a window of $k$ tokens at a
# time (`seqlm.batches.StreamBatches`). Row $b$ of one batch continues row $b$ of
# the batch before, so the state is carried from window to window, while the
# gradient is cut at each window's start (Chapter 4 explains why). The
# from-scratch cell and `nn.RNN` compute the same thing; we train with
# `nn.RNN` because its loop runs in compiled code.

# %%
corpus = data.load_shakespeare("word")
V, EOS = len(corpus.vocab), corpus.vocab.stoi[data.EOS]
ids = {s: corpus.ids(s)[:size["eval_tokens"] if s != "train" else size["train_tokens"]]
       for s in data.SPLITS}
train_batches = batches.StreamBatches(ids["train"], size["batch_size"], size["bptt"])
valid_batches = batches.StreamBatches(ids["valid"], 16, 100)
print(f"{len(train_batches)} windows of {size['batch_size']} × {size['bptt']} tokens per epoch")
x, y = next(train_batches())
print("input :", " ".join(corpus.vocab.decode(x[0, :12])))
print("target:", " ".join(corpus.vocab.decode(y[0, :12])))
assert torch.equal(x[0, 1:], y[0, :-1])  # the target is the input shifted by one

# %%
torch.manual_seed(seed)
word_model = rnn.RNNLM(V, size["embed_size"], size["hidden_size"], dropout=size["dropout"])
word_history = train.train(word_model, train_batches, valid_batches, size["train"], setup.device)
print(f"best valid perplexity {word_history.best_valid_ppl:.1f} after "
      f"{word_history.best_step} steps ({word_history.seconds:.0f} s)")
viz.learning_curves({"RNN": word_history}, "Word-level RNN LM")
plt.show()

# %% [markdown]
# ## 3.3 Against the models before it
#
# Test perplexity on the same plays and vocabulary as Chapters 1 and 2. The
# Kneser-Ney models are fitted here; the feed-forward model's numbers come from
# Chapter 2's results file when it has been run with the same profile. What
# holds on every profile but `smoke` is asserted; where the RNN stands against
# Kneser-Ney depends on how long it trains, so that is printed, not claimed.

# %%
test_batches = batches.StreamBatches(ids["test"], 16, 100)
rnn_ppl = math.exp(train.evaluate(word_model, test_batches, setup.device))
kn = {n: ngram.KneserNey(n, modified=True).fit(ids["train"], V, EOS).perplexity(ids["test"])
      for n in (2, 3)}
add_k = ngram.AddK(2, 0.01).fit(ids["train"], V, EOS).perplexity(ids["test"])
unigram = ngram.KneserNey(1).fit(ids["train"], V, EOS).perplexity(ids["test"])
print(f"RNN LM {rnn_ppl:.1f}   modified KN bigram {kn[2]:.1f}, trigram {kn[3]:.1f}   "
      f"add-k bigram {add_k:.1f}   unigram {unigram:.1f}")
previous = {r["chapter"]: r for r in results.load_all(setup.results_dir)}
if "02_ffnn" in previous and previous["02_ffnn"]["profile"] == setup.profile:
    for name, value in previous["02_ffnn"]["metrics"].items():
        if name.startswith("word test perplexity, neural"):
            print(f"Chapter 2, {name.split(', ', 1)[1]}: {value:.1f}")
if setup.profile != "smoke":
    assert rnn_ppl < kn[2] and rnn_ppl < add_k and rnn_ppl < unigram

# %% [markdown]
# On the `cpu` profile (a 128-unit network, 90 seconds of training, less than
# one pass over the data) the RNN already beats the Kneser-Ney bigram by a wide
# margin and comes level with the trigram and with Chapter 2's best
# feed-forward model, without being told how many words to look back. That it
# beats the bigram is asserted; where it lands against the trigram depends on
# the training budget and is printed.
# Chapters 6 and 7 show how gated cells make better use of the state.

# %% [markdown]
# ## 3.4 Characters
#
# The same model on characters (about 80 symbols) learns spelling, words and the
# layout of a play: speaker names in capitals, a colon, a line break. Measured in
# nats per character, against character-level Kneser-Ney of Chapter 1.

# %%
chars = data.load_shakespeare("char")
C = len(chars.vocab)
char_ids = {s: chars.ids(s)[:size["char_tokens"]] for s in data.SPLITS}
torch.manual_seed(seed)
char_model = rnn.RNNLM(C, 32, size["hidden_size"])
char_history = train.train(
    char_model, batches.StreamBatches(char_ids["train"], size["batch_size"], 100),
    batches.StreamBatches(char_ids["valid"], 16, 200), size["char_train"], setup.device)
char_nats = train.evaluate(char_model, batches.StreamBatches(char_ids["test"], 16, 200),
                           setup.device)
newline = chars.vocab.stoi["\n"]
char_kn = {n: metrics.cross_entropy(ngram.KneserNey(n, modified=True).fit(
    char_ids["train"], C, newline).prob(char_ids["test"])) for n in (3, 5)}
print(f"char RNN {char_nats:.3f} nats/char; KN 3-gram {char_kn[3]:.3f}, 5-gram {char_kn[5]:.3f}")
if setup.profile != "smoke":
    assert char_nats < char_kn[3]

# %% [markdown]
# ## 3.5 Generation, and context beyond a window
#
# Sampling works as in Chapter 1: feed the sampled token back in, with a
# temperature. Unlike an n-gram model, what comes after a word depends on
# everything before it. Below, the same last word "lord" follows two different
# lines: a bigram model predicts the same distribution after both (it sees only
# "lord"), and so would Chapter 2's network for $n \le 4$ (its window holds at
# most ", my lord"); the RNN does not.

# %%
prompt = list(corpus.vocab.encode("<eos> my good lord ,".split()))
for temperature in (0.7, 1.0):
    words = corpus.vocab.decode(rnn.generate(word_model, prompt, 30, temperature, rng=setup.rng))
    print(f"T={temperature}:", data.detokenize(words).replace("\n", " / "))

# %%
first = list(corpus.vocab.encode("o , speak to me , my lord".split()))
second = list(corpus.vocab.encode("the king is dead , my lord".split()))
p_first, p_second = (rnn.next_distribution(word_model, c) for c in (first, second))
bigram = ngram.KneserNey(2).fit(ids["train"], V, EOS)
q_first, q_second = bigram.distribution(first), bigram.distribution(second)
shift = 0.5 * (p_first - p_second).abs().sum().item()  # total variation distance
print(f"after '... my lord': RNN distributions differ by {shift:.3f} (total variation); "
      f"bigram by {0.5 * np.abs(q_first - q_second).sum():.3f}")
assert np.allclose(q_first, q_second) and shift > 1e-6
if setup.profile != "smoke":
    assert shift > 0.01

# %% [markdown]
# ## 3.6 Results

# %%
headline = {"word test perplexity, RNN LM": rnn_ppl,
            "char test nats per character, RNN LM": char_nats,
            "training seconds, word RNN": word_history.seconds}
path = results.save(setup, headline, timer.seconds)
print(f"{len(headline)} numbers written to {path} after {timer.seconds:.1f} s")

# %% [markdown]
# ## Exercises
#
# 1. **Depth.** Train a two-layer RNN LM for the same number of steps. Is it
#    better per step? Per second?
# 2. **ReLU.** Replace tanh by ReLU. What happens to the training loss, and to
#    the norm of the gradient (`history.grad_norm`)? Chapter 5 explains it.
# 3. **The state.** Plot a few coordinates of $h_t$ while the character model
#    reads a speech. Do any of them change at line breaks or speaker names?
# 4. **Graded assignment.** Implement one step of the Elman cell from the
#    weights of an `nn.RNN` (assignment `03_rnn`).
