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
# # 3. Recurrent neural networks
#
# The models of Chapters 1 and 2 see a fixed window of $n-1$ tokens. A
# **recurrent network** {cite}`elman1990finding` reads a sequence one token at a
# time and keeps a **state** $h_t$, a vector that summarises everything read so
# far. The same weights are used at every step, so the model has as many
# parameters for a sentence of 5 words as for one of 500, and in principle its
# prediction can depend on any earlier token.
#
# Language needs that. In "The *letters* that my lord the king sent to his
# brother *were* burnt", the verb agrees with a noun ten words back; in "*She*
# that was the queen of all these lands, and lost them, now sits alone with *her*
# sorrow", the pronoun at the end depends on the first word. A trigram model
# sees neither; a window long enough to see them would need a separate set of
# weights for every position in it (Chapter 2).
#
# **In this chapter you will**
#
# - write the Elman recurrent cell from scratch and check numerically that it equals
#   `torch.nn.RNN`;
# - train recurrent language models on words and on characters with teacher forcing
#   and truncated backpropagation through time;
# - compare them with Chapters 1 and 2, and sample from them;
# - see a prediction depend on context beyond any fixed window, and what the state
#   can and cannot hold.

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

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from seqlm import batches, config, data, diagrams, lm, metrics, ngram, results, rnn, viz

setup = config.setup("03_rnn", profile, device, seed, results_dir, quiet)
size, timer = setup.size, results.Timer()
print(f"profile {setup.profile}, device {setup.device}")

# %% [markdown]
# ## 3.1 The Elman cell
#
# The language model reads tokens $x_1, x_2, \dots$; at step $t$ it looks up the
# embedding of $x_t$, the row $e_t = E[x_t]$ of an embedding table $E$ (one row of
# $m$ numbers per vocabulary word, as in Chapter 2), and updates its state:
#
# $$h_t = \tanh(W_{ih} e_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}), \qquad h_0 = 0.$$
#
# It reads the next-token distribution off the state through the output layer,
# $p(x_{t+1} \mid x_{\le t}) = \mathrm{softmax}(\ell_t)$ with scores (logits)
# $\ell_t = W_{hy} h_t + b_y$. (A recurrent layer on its own reads any input
# vectors; the picture below and Chapter 4 call the vector it reads at step $t$
# $x_t$, which in a language model is the embedding $e_t$.) Stacking
# layers feeds each layer's states to the next as its inputs. Drawn for four
# steps, the network is a deep feed-forward network whose layers share their
# weights (Chapter 4 computes its gradient):

# %%
diagrams.unrolled_rnn(4)
plt.show()

# %% [markdown]
# Libraries call this cell the Elman network, after {cite:t}`elman1990finding`,
# whose own network differed in two ways. Its units were logistic, with values
# between 0 and 1, not tanh. And it kept the previous state in "context units", a
# copy of the hidden units through connections fixed at 1, which the next step
# read as extra inputs; trained by ordinary backpropagation, its gradient never
# went back through that copy, so each step learnt only from its own input and the
# copied state (in Chapter 4's terms, truncation after one step).
#
# **What the state can hold.** $h_t$ is a vector of fixed size, so the network
# must compress everything it has read into $n_h$ numbers, and decide at every
# step what to keep. In principle that is enough for anything: with unbounded
# precision and time, a recurrent network can simulate any Turing machine
# {cite}`siegelmann1995computational`. Their networks are not ours, though: their
# weights are rational numbers, their activation is saturated-linear (0 below 0,
# 1 above 1, the identity between), and the unbounded precision of their states
# is what stores the machine's tape. In practice the precision is 32 bits, the
# weights are whatever gradient descent finds, and Chapter 5 shows why it rarely
# finds weights that keep information for long.
#
# `seqlm.rnn.ElmanRNN` is the cell written out as a loop over time, with
# `torch.nn.RNN`'s names and shapes for the weights, so that the same weights can
# be loaded into both:

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
# prediction of the next one. The training text is one long stream: the training
# plays laid end to end. We cut it into $B$ equal rows and read all rows in
# parallel, a window of $K$ tokens at a time (`seqlm.batches.StreamBatches`). Row
# $b$ of one batch continues row $b$ of the batch before, so the state is carried
# from window to window, while the gradient is cut at each window's start: this
# is **truncated backpropagation through time** {cite}`williams1990efficient`,
# which Chapter 4 derives: one update every $K$ steps, each step's error traced
# back no further than the start of its window. The
# from-scratch cell and `nn.RNN` compute the same thing; we train with
# `nn.RNN` because its loop runs in compiled code.
#
# **When to reset the state.** The state is carried from window to window
# because the text goes on: a speech does not stop at a window's edge. It is
# reset to zero only at the start of each pass over the data and of each
# evaluation. Those are not where the text starts: each of the $B$ training rows,
# and each of the 16 rows an evaluation reads, begins wherever the cut falls,
# mostly in the middle of a play, and the first few predictions of a row are made
# from an empty state. Nor is the state reset where one play ends and the next
# begins inside a row, or at `<eos>`: the lines of a speech continue one another,
# and the model is free to use or ignore what came before.
#
# The optimiser is AdamW {cite}`loshchilov2019decoupled`, Adam with the weight
# decay applied to the weights directly, and every gradient is clipped to a
# norm of at most 1 (0.5 in `full`): Chapter 5 shows why a recurrent
# network needs that. The `full` profile trains a larger network for many passes
# over the data, and keeps it from memorising them with **dropout**
# {cite}`srivastava2014dropout` on the embeddings and on the states the recurrent
# layer outputs, never on the recurrent connection from $h_{t-1}$ to $h_t$
# {cite}`zaremba2014recurrent`, and by
# **tying** the output layer to the embedding table, $W_{hy} = E$
# {cite}`press2017using`: a word's input vector is also the direction its
# score is read from, which halves the largest weight matrices and shares what
# is learnt about a word between reading it and predicting it.

# %%
def valid_measured(config, corpus):
    """How much of the valid split an evaluation during training reads."""
    available = len(lm.eval_batches(corpus, size, "valid"))
    measured = min(config.eval_batches or available, available)
    return f"the first {measured} of {available} valid batches"


corpus = data.load_shakespeare("word")
V, EOS = len(corpus.vocab), corpus.vocab.stoi[data.EOS]
ids = {s: lm.split_ids(corpus, size, s) for s in data.SPLITS}
train_batches = batches.StreamBatches(ids["train"], size["batch_size"], size["bptt"])
print(f"{len(train_batches)} windows of {size['batch_size']} × {size['bptt']} tokens per epoch")
x, y = next(train_batches())
print("input :", " ".join(corpus.vocab.decode(x[0, :12])))
print("target:", " ".join(corpus.vocab.decode(y[0, :12])))
assert torch.equal(x[0, 1:], y[0, :-1])  # the target is the input shifted by one

# %%
torch.manual_seed(seed)
word_model = rnn.RNNLM(V, **size["model"])
word_history = lm.fit(word_model, corpus, size, setup.device)  # these batches, AdamW, clipping
steps = word_history.step[-1]
passes = steps * size["batch_size"] * size["bptt"] / len(ids["train"])
print(f"{size['model']['hidden_size']} units, {steps} steps ({passes:.1f} passes over the "
      f"training text) in {word_history.seconds:.0f} s on {setup.device}")
print(f"best valid perplexity {word_history.best_valid_ppl:.1f} after {word_history.best_step} "
      f"steps (measured during training on {valid_measured(size['train'], corpus)})")
viz.learning_curves({"RNN": word_history}, "Word-level RNN LM")
plt.show()
results.save_weights(setup, "word_model", word_model);  # Chapters 5 and 6 return to it

# %% [markdown]
# Validation perplexity (solid) at each evaluation; training perplexity (dashed)
# as the running mean over the steps since the evaluation before.

# %% [markdown]
# ## 3.3 Against the models before it
#
# Test perplexity on the same plays and vocabulary as Chapters 1 and 2. The
# Kneser-Ney models are fitted here; the feed-forward model's numbers come from
# Chapter 2's results file when it has been run with the same profile.

# %%
rnn_ppl = math.exp(lm.test_loss(word_model, corpus, size, setup.device))
kn = {n: ngram.KneserNey(n, modified=True).fit(ids["train"], V, EOS).perplexity(ids["test"])
      for n in (2, 3)}
add_k = ngram.best_add_k(2, ids["train"], ids["valid"], V, EOS).perplexity(ids["test"])
unigram = ngram.KneserNey(1).fit(ids["train"], V, EOS).perplexity(ids["test"])
print(f"RNN LM {rnn_ppl:.1f}   modified KN bigram {kn[2]:.1f}, trigram {kn[3]:.1f}   "
      f"add-k bigram {add_k:.1f}   unigram {unigram:.1f}")
print(f"RNN against the trigram: {rnn_ppl / kn[3] - 1:+.1%} "
      f"({'better' if rnn_ppl < kn[3] else 'worse'})")
previous = {r["chapter"]: r for r in results.load_all(setup.results_dir)}
if "02_ffnn" in previous and previous["02_ffnn"]["profile"] == setup.profile:
    for name, value in previous["02_ffnn"]["metrics"].items():
        if name.startswith("word test perplexity, neural"):
            print(f"Chapter 2, {name.split(', ', 1)[1]}: {value:.1f}")

# %% [markdown]
# The RNN beats the Kneser-Ney bigram by at least 5 % and is within 2 % of the
# trigram, or better (both asserted; the line above says which is ahead), without
# being told how many words to look back. Chapters 6 and 7 show how gated cells
# make better use of the state.

# %%
if setup.profile != "smoke":
    assert rnn_ppl < 0.95 * kn[2] and rnn_ppl < add_k and rnn_ppl < unigram
    assert rnn_ppl < 1.02 * kn[3]

# %% [markdown]
# ## 3.4 Characters
#
# The same model on characters (about 80 symbols) must learn spelling, words
# and the layout of a play (speaker names in capitals, a colon, a line break)
# from scratch. It is measured in bits per character, against character-level
# Kneser-Ney of Chapter 1.

# %%
chars = data.load_shakespeare("char")
V_chars = len(chars.vocab)
char_ids = {s: lm.split_ids(chars, size, s) for s in data.SPLITS}
torch.manual_seed(seed)
char_model = rnn.RNNLM(V_chars, **size["char_model"])
char_history = lm.fit(char_model, chars, size, setup.device)
char_nats = lm.test_loss(char_model, chars, size, setup.device)
results.save_weights(setup, "char_model", char_model)
char_steps = char_history.step[-1]
char_passes = char_steps * size["char_batch_size"] * size["char_bptt"] / len(char_ids["train"])
print(f"{size['char_model']['hidden_size']} units, {char_steps} steps ({char_passes:.2f} passes "
      f"over the training text) in {char_history.seconds:.0f} s; best valid "
      f"{metrics.bits(char_history.best_valid_loss):.3f} bits per character after "
      f"{char_history.best_step} steps (on {valid_measured(size['char_train'], chars)})")
viz.learning_curves({"character RNN": char_history}, "Character-level RNN LM")
plt.show()

# %%
newline = chars.vocab.stoi["\n"]
char_kn = {n: metrics.cross_entropy(ngram.KneserNey(n, modified=True).fit(
    char_ids["train"], V_chars, newline).prob(char_ids["test"])) for n in (3, 5)}
char_bits = metrics.bits(char_nats)
print(f"bits per character: RNN {char_bits:.3f} ({char_nats:.3f} nats), "
      f"Kneser-Ney 3-gram {metrics.bits(char_kn[3]):.3f}, 5-gram {metrics.bits(char_kn[5]):.3f}")
print(f"the RNN is {'better' if char_nats < char_kn[5] else 'worse'} than the 5-gram "
      f"and {'better' if char_nats < char_kn[3] else 'worse'} than the 3-gram")
if setup.profile != "smoke":
    assert char_nats < char_kn[3]
if setup.profile == "cpu":  # stopped by the budget, still improving
    assert char_passes < 1 and char_history.best_step == char_steps

# %% [markdown]
# The RNN beats the 3-gram (asserted); where it stands against the 5-gram depends
# on its size and training (printed above). In the `cpu` profile its learning
# curve is still falling when training stops, before the end of the first pass
# over the text (both asserted; the passes are printed above): a model stopped by
# the budget, not one that has learnt all a plain recurrent cell can. The `full` profile's larger model trains for several
# passes. Chapter 6's LSTM does better with the same budget. Here is what it writes,
# started after a speaker's name:

# %%
newline_id = chars.vocab.stoi["\n"]
prompt = list(chars.vocab.encode(list("HAMLET:\n")))
sample = "".join(chars.vocab.decode(
    rnn.generate(char_model, prompt, 400 if setup.profile != "smoke" else 100, 0.8,
                 rng=setup.rng)))
print("HAMLET:\n" + sample)
known = set(corpus.tokens("train"))
written = [w for w in data.tokenize(sample) if w.isalpha()]
real = np.mean([w in known for w in written])
print(f"{real:.0%} of the {len(written)} words it wrote are words of the plays")
if setup.profile != "smoke":
    assert real > 0.5

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
    print(f"τ={temperature}:", data.detokenize(words).replace("\n", " / "))

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
# ## 3.6 Beyond language models
#
# A language model maps a sequence to a sequence: one prediction per position,
# and each may only look back, because the next token is what it predicts. The
# same recurrent network serves two more kinds of task, in which the whole
# input is known in advance. In **tagging**, one label per token (which
# punctuation follows each word, say), and the label of a word may depend on the
# words after it as well. In **sequence classification**, one label per sequence
# (which kind of play a speech comes from), read off the last state or an
# average of all of them. Chapter 8 builds both, with networks that read the
# input in both directions. A fourth shape reads one sequence and then writes
# another of a different length (translation; spelling to sound), Chapter 10's
# sequence to sequence. The shapes side by side, with a single input-output pair
# and no recurrence for contrast:

# %%
diagrams.task_shapes()
plt.show()

# %% [markdown]
# ## 3.7 Results

# %%
headline = {"word test perplexity, RNN LM": rnn_ppl,
            "char test bits per character, RNN LM": char_bits,
            "training seconds, word RNN": word_history.seconds}
path = results.save(setup, headline, timer.seconds)
print(f"{len(headline)} numbers written to {path.name} after {timer.seconds:.1f} s")

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
