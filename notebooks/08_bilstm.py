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
# # 8. Bidirectional and stacked LSTMs
#
# Every model so far read text left to right, because a language model must: it
# predicts the next word, so it may not look at it. Many tasks are not like that.
# To decide whether a comma follows a word, the words *after* it matter as much
# as those before. This chapter reads each sequence in both directions at once,
# stacks such layers, and puts them to work on two labelled tasks built from the
# plays.
#
# **In this chapter you will**
#
# - sort sequence tasks by what they map to what, and see why only the language
#   model must not look ahead;
# - build a bidirectional LSTM from two of Chapter 6's LSTMs and check numerically
#   that it equals `torch.nn.LSTM(bidirectional=True)`, padded batches included;
# - restore the punctuation of Shakespeare's lines with left-to-right,
#   bidirectional and stacked taggers, and see which marks need the right-hand
#   context;
# - guess the kind of play a speech comes from, against a bag of words;
# - weigh what reading both ways costs.

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
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqlm import (bilstm, config, diagrams, metrics, plays, punctuation, results, tasks, tokens,
                   train, viz)

setup = config.setup("08_bilstm", profile, device, seed, results_dir, quiet)
size, timer = setup.size, results.Timer()
print(f"profile {setup.profile}, device {setup.device}")

# %% [markdown]
# ## 8.1 A map of sequence tasks
#
# The lectures sort sequence tasks by the shape of what goes in and what comes out:
#
# | task | in | out | example | may look ahead? |
# | --- | --- | --- | --- | --- |
# | language model (autoregressive) | $x_1 \dots x_t$ | $x_{t+1}$ | Chapters 2–7 | **no** |
# | tagging (many to many, aligned) | $x_1 \dots x_T$ | $y_1 \dots y_T$ | punctuation, parts of speech | yes |
# | classification (many to one) | $x_1 \dots x_T$ | $y$ | sentiment, the kind of play | yes |
# | sequence to sequence | $x_1 \dots x_T$ | $y_1 \dots y_{T'}$ | translation | yes (the input) |
#
# A language model that looked at $x_{t+1}$ while predicting it would learn to
# copy, and its perplexity would mean nothing. Everything else is given its whole
# input before it answers, so a tag $y_t$ may depend on $x_{t+1}, \dots, x_T$ as
# well as on $x_1, \dots, x_t$. A left-to-right RNN cannot use the first of
# those; a **bidirectional** one {cite:p}`schuster1997bidirectional` can.

# %% [markdown]
# ## 8.2 Two labelled tasks from the plays
#
# **Punctuation restoration.** One example is one line of dialogue: its words,
# lower-cased, with the punctuation taken out; each word is labelled with the mark
# that followed it (`, ; :` count as one class, "comma"). The labels are real, they
# cost nothing to make, and some of them can only be guessed from what comes
# after. The metric is F1 per mark and their average (the *macro* F1), leaving
# out "none", which a tagger that never predicts a mark would get mostly right.

# %%
train_lines = plays.evenly_spaced(punctuation.lines("train"), size["train_lines"])  # all plays
valid_lines = punctuation.lines("valid")[:size["eval_lines"]]
test_lines = punctuation.lines("test")[:size["eval_lines"]]
for line in test_lines[:4]:
    print(" ".join(f"{w}/{punctuation.LABELS[y]}" for w, y in zip(line.words, line.labels)))
print()
for split, examples in (("train", train_lines), ("valid", valid_lines), ("test", test_lines)):
    counts = punctuation.label_counts(examples)
    total = sum(counts.values())
    print(f"{split:5s}: {len(examples):6d} lines, {total:7d} words; "
          + ", ".join(f"{k} {v / total:.1%}" for k, v in counts.items()))

# %% [markdown]
# About four words in five carry no mark, and a question or exclamation mark
# follows about one word in a hundred: rare classes, which is what the macro F1
# is for. **Which kind of play.** One example is one speech; its label is the
# folder the corpus files its play under. The split by play holds out one play of
# each kind for validation and one for test, so the classifier must generalise to
# a play it has never seen, not recognise its characters.

# %%
kind_train, kind_valid, kind_test = (plays.evenly_spaced(plays.speeches(split),
                                                         size["kind_speeches"])
                                     for split in ("train", "valid", "test"))
for split, examples in (("train", kind_train), ("valid", kind_valid), ("test", kind_test)):
    shares = {k: sum(s.kind == k for s in examples) / len(examples) for k in plays.KINDS}
    print(f"{split:5s}: {len(examples):5d} speeches; "
          + ", ".join(f"{k} {v:.0%}" for k, v in shares.items()))

# %% [markdown]
# ## 8.3 Reading both ways
#
# A bidirectional layer runs two independent LSTMs over the same sequence, one
# from the first token to the last and one from the last to the first, and puts
# their states side by side:
#
# $$\begin{aligned}
# \overrightarrow{h}_t &= \mathrm{LSTM}_\rightarrow(x_1, \dots, x_t), &
# \overleftarrow{h}_t &= \mathrm{LSTM}_\leftarrow(x_T, \dots, x_t), \\
# h_t &= [\overrightarrow{h}_t ; \overleftarrow{h}_t].
# \end{aligned}$$
#
# (The layer reads whatever vectors it is given: the tokens' embeddings $e_t$ for
# the first layer, the layer below's states above it; we write $x_t$ for them, as
# Chapter 4 did.) So $h_t$ has read the whole sequence, with $x_t$ at the freshest
# end of both halves. The two directions share nothing; the layer has twice the
# LSTM's parameters and twice its work, but within one layer the two passes are
# independent and can run at the same time. Stacked, they cannot: layer $j + 1$
# needs both directions of layer $j$ complete before its own backward pass can
# start from the last token. Bidirectional networks were introduced by
# {cite:t}`schuster1997bidirectional`; bidirectional LSTMs by
# {cite:t}`graves2005framewise`.
#
# In a padded batch, "from the last token" means each sequence's *own* last
# token. Flipping the whole padded row would start the backward LSTM on padding
# and shift every state. The picture: a two-layer bidirectional tagger over a batch
# of two lines, the second padded to the first's length; each backward row starts
# at its own line's end, and no tag is read over padding.

# %%
diagrams.bidirectional_tagger(lengths=(5, 3), layers=2)
plt.show()

# %% [markdown]
# `seqlm.bilstm.reverse_padded` reverses only the real tokens:

# %%
viz.show_source(bilstm.reverse_padded)
x_demo = torch.arange(1, 6).float().repeat(2, 1)[..., None]   # two rows 1 … 5, (2, 5, 1)
print(bilstm.reverse_padded(x_demo, torch.tensor([5, 3]))[..., 0])

# %% [markdown]
# `seqlm.bilstm.Bidirectional` wraps a forward and a backward `seqlm.lstm.LSTM`
# (Chapter 6's, written out step by step), and `BiLSTM` stacks such layers. With
# weights copied from `nn.LSTM(bidirectional=True)`, which reads padded batches
# through `pack_padded_sequence`, they agree on a batch of sequences of lengths 9,
# 4 and 1, outputs and gradients:

# %%
viz.show_source(bilstm.Bidirectional.forward)
torch.manual_seed(seed)
reference = nn.LSTM(5, 7, num_layers=2, batch_first=True, bidirectional=True)
ours = bilstm.BiLSTM(5, 7, num_layers=2).copy_from(reference)
x = torch.randn(3, 9, 5, requires_grad=True)
lengths = torch.tensor([9, 4, 1])
packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
expected, _ = pad_packed_sequence(reference(packed)[0], batch_first=True, total_length=9)
got = ours(x, lengths)
output_gap = (expected - got).abs().max().item()
grad_expected = torch.autograd.grad(expected.square().sum(), x)[0]
grad_got = torch.autograd.grad(got.square().sum(), x)[0]
grad_gap = (grad_expected - grad_got).abs().max().item()
print(f"largest difference from nn.LSTM: outputs {output_gap:.1e}, input gradients {grad_gap:.1e}")
assert output_gap < 1e-5 and grad_gap < 1e-5

# %% [markdown]
# The property padding must have: a sequence's outputs do not depend on what
# else is in its batch. The second sequence alone, and beside longer ones with
# random junk in its padding, gives the same outputs in both directions:

# %%
alone = ours(x[1:2, :4], lengths[1:2])
junk = x.detach().clone()
junk[1, 4:] = 100 * torch.randn(5, 5)                       # garbage where padding is
in_batch = ours(junk, lengths)[1:2, :4]
pad_gap = (alone - in_batch).abs().max().item()
print(f"alone vs. in a padded batch: largest difference {pad_gap:.1e}; "
      f"outputs past its end: {ours(junk, lengths)[1, 4:].abs().max().item():.1f}")
assert pad_gap < 1e-5

# %% [markdown]
# **Stacking.** Layer $k + 1$ reads layer $k$'s $[\overrightarrow{h} ;
# \overleftarrow{h}]$, so from the second layer on each direction sees what the
# other direction of the layer below found. Dropout between layers
# {cite:p}`zaremba2014recurrent` keeps deep stacks from memorising their training
# data. For training we use `nn.LSTM` itself (cuDNN on a GPU; it equals ours, as
# just checked) inside `seqlm.bilstm.Encoder`, which packs padded batches.

# %% [markdown]
# ## 8.4 Restoring punctuation
#
# A tagger embeds each word, reads the line with an LSTM encoder and scores the
# five labels at every word (`seqlm.bilstm.Tagger`). We train a left-to-right one
# and bidirectional stacks of one, two and three layers with the same recipe.
# Each is given a budget in passes over the training lines, is evaluated on the
# validation lines twice a pass, and keeps the weights with the best validation
# macro F1, the score we report (the loss is dominated by the four words in five
# that carry no mark, and can turn up while the marks are still being learnt);
# it stops early when that score has not improved for a few evaluations. Each is
# trained from several seeds. The loss and the scores skip the padding.
#
# **Residual connections.** A stack of recurrent layers is deep in two
# directions, through time and through the layers, and its lower layers learn
# slowly when the gradient must pass every layer above them. Residual (skip)
# connections {cite}`wu2016google` add each layer's input to its output, from the
# second layer on, $h^{(j)} = \mathrm{LSTM}_j(h^{(j-1)}) + h^{(j-1)}$ (per
# direction, $h^{(j)}$ being layer $j$'s states), so that a path around every
# layer carries the gradient down unchanged. (Deck 003 says two to four recurrent
# layers are common; it meets skip connections only with Transformers.) The
# stacks below use them; the last line of the table is a plain stack, for
# comparison.

# %%
table = tokens.plays_table()
LABELS = punctuation.LABELS


def tag_batches(examples, shuffle=False, seed_=seed, keep_order=False):
    batch_size = size["batch_size"] if shuffle else 256
    return punctuation.batches(examples, table, batch_size, shuffle, seed_, keep_order)


def encoder(embedder, layers=1, bidirectional=True, hidden=None, residual=False):
    return bilstm.Encoder(embedder, hidden or size["hidden_size"], table.pad_id, layers,
                          bidirectional, size["dropout"], residual)


def macro_f1_on(batches_, exclude=(0,), classes=len(LABELS)):
    """The macro F1 of a model on some batches: the score models are chosen on."""
    return lambda model: metrics.macro_f1(tasks.confusion_matrix(model, batches_, classes),
                                          exclude=exclude)


TAGGERS = {"left to right": (1, False, False), "bidirectional × 1": (1, True, False)}
TAGGERS |= {f"bidirectional × {k}{', residual' if res else ''}": (k, True, res)
            for k, res in size["stacks"]}
valid_batches = tag_batches(valid_lines)

# %%
def tagger_run(name, s):
    """A tagger built from seed s, and what train_all needs to train it."""
    layers, both, residual = TAGGERS[name]
    torch.manual_seed(s)
    embedder = bilstm.LearnedEmbedding(table, size["embed_size"])
    model = bilstm.Tagger(encoder(embedder, layers, both, residual=residual), len(LABELS))
    source = tag_batches(train_lines, shuffle=True, seed_=s)
    recipe = size["tag_train"].in_passes(len(source), size["tag_passes"]).replace(progress=False)
    return model, source, valid_batches, recipe


keys = [(name, s) for name in TAGGERS for s in size["seeds"]]
tagger_runs = [tagger_run(*key) for key in keys]
histories = dict(zip(keys, train.train_all(tagger_runs, setup.device, workers=2,
                                           score=macro_f1_on(valid_batches))))
taggers = {key: run[0] for key, run in zip(keys, tagger_runs)}
confusions = {key: tasks.confusion_matrix(model, tag_batches(test_lines), len(LABELS))
              for key, model in taggers.items()}
seconds = {name: np.mean([histories[name, s].seconds for s in size["seeds"]]) for name in TAGGERS}
for (name, s), h in histories.items():
    print(f"{name:32s} seed {s}: best valid macro F1 {h.best_valid_score:.3f} after "
          f"{h.best_step / len(tagger_runs[0][1]):.1f} passes ({h.step[-1]} steps"
          f"{', stopped early' if h.stopped_early else ''})")

# %% [markdown]
# The majority baseline tags every word "none": its F1 on every mark, and so its
# macro F1, is 0. The test plays' scores: F1 per mark (mean over the seeds) and the
# macro average (mean, and the lowest and highest seed):

# %%
def per_mark(name):
    """F1 of each label, mean over the seeds: (labels,)."""
    return np.mean([metrics.precision_recall_f1(confusions[name, s])[2]
                    for s in size["seeds"]], axis=0)


macro = {key: metrics.macro_f1(c, exclude=(0,)) for key, c in confusions.items()}
spread = {name: [macro[name, s] for s in size["seeds"]] for name in TAGGERS}
majority = np.zeros_like(confusions[keys[0]])
majority[:, 0] = confusions[keys[0]].sum(1)              # everything predicted "none"
macro_majority = metrics.macro_f1(majority, exclude=(0,))
print(f"{'model':32s} " + " ".join(f"{label:>11s}" for label in LABELS[1:])
      + "   macro F1 [seeds]")
print(f"{'majority':32s} " + " ".join(f"{0:11.3f}" for _ in LABELS[1:])
      + f"   {macro_majority:.3f}")
for name, runs in spread.items():
    print(f"{name:32s} " + " ".join(f"{v:11.3f}" for v in per_mark(name)[1:])
          + f"   {np.mean(runs):.3f} [{min(runs):.3f}, {max(runs):.3f}]")

# %% [markdown]
# Reading both ways wins by far, and both taggers beat the majority baseline.
# Where the gain comes from shows in the per-mark scores, and in where the marks
# fall. Not every line ends with a full stop: verse runs on from line to line. But
# the stops that there are mostly sit on a line's last word:

# %%
all_train = punctuation.lines("train")
ending, on_last = punctuation.line_ends(all_train)
stops = ("period", "question", "exclamation")
print(f"{len(all_train):,} training lines; the last word carries "
      + ", ".join(f"{label} {share:.1%}" for label, share in ending.items()))
print("share of each mark on a line's last word: "
      + ", ".join(f"{label} {on_last[label]:.1%}" for label in LABELS[1:]))
print("words after a comma: " + ", ".join(f"{w!r} {share:.0%}" for w, share in
                                           punctuation.words_after(all_train, "comma")))
assert all(on_last[label] > 0.5 for label in stops)           # most stops end a line ...
assert on_last["comma"] < min(on_last[label] for label in stops)  # ... commas far less

# %% [markdown]
# So a tagger that knows where the line ends has a strong clue for the stops, and
# a left-to-right tagger cannot know that a word is the last one, since the end of
# the line is to its right. Commas get some of that clue too (almost a third of
# them end a line), and more: the words that follow a comma, printed above, are
# ones the left-to-right tagger has not read yet when it decides. The gains by
# mark:

# %%
bi = "bidirectional × 1"
gain = per_mark(bi) - per_mark("left to right")
for label, value in zip(LABELS[1:], gain[1:]):
    print(f"F1 gain from the right-hand context, {label:11s}: {value:+.3f}")
if setup.profile != "smoke":  # every seed of the one above every seed of the one below
    assert min(spread[bi]) > max(spread["left to right"]) > macro_majority
    for mark in ("period", "question"):  # the commonest stops gain more than the comma
        assert gain[LABELS.index(mark)] > gain[LABELS.index("comma")], mark

# %% [markdown]
# Periods and question marks gain most, more than commas (asserted); the
# exclamation mark, the rarest class, gains least and stays the hardest to tell
# apart from a full stop (the confusion matrix below). Part of the gap is capacity,
# not direction: the bidirectional layer has two 64-unit LSTMs to the
# left-to-right tagger's one, so its states are twice as wide. Exercise 1 separates
# the two.

# %% [markdown]
# Where the best tagger goes wrong: each row of the confusion matrix is a true
# label, spread over what was predicted (each row sums to 1).

# %%
best = max(TAGGERS, key=lambda name: np.mean(spread[name]))
counts = sum(confusions[best, s] for s in size["seeds"])
shares = counts / counts.sum(1, keepdims=True).clip(min=1)
fig, ax = plt.subplots(figsize=(5.5, 4.5))
image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
ax.set_xticks(range(len(LABELS)), LABELS, rotation=30)
ax.set_yticks(range(len(LABELS)), LABELS)
for (i, j), value in np.ndenumerate(shares):
    ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8,
            color="white" if value > 0.5 else "black")
ax.set(xlabel="predicted", ylabel="true", title=f"Test confusion, {best}, all seeds")
fig.colorbar(image, ax=ax, fraction=0.046)
plt.show()

# %% [markdown]
# Some test lines with the punctuation the best tagger restored, beside the truth:

# %%
model = taggers[best, size["seeds"][0]].eval()
shown = test_lines[:: max(1, len(test_lines) // 8)][:8]
with torch.no_grad():
    x, _ = next(tag_batches(shown, keep_order=True)())
    guesses = model(x.to(setup.device))[0].argmax(-1).cpu()
for line, guess in zip(shown, guesses):
    restored = punctuation.TaggedLine(line.words, tuple(guess[:len(line.words)].tolist()))
    print(f"model: {restored.text()}\ntruth: {line.text()}\n")

# %% [markdown]
# **Depth.** The bidirectional stacks side by side: test macro F1 (mean over the
# seeds, and the lowest and highest), and how many passes each needed to reach
# its best validation score.

# %%
steps_per_pass = len(tagger_runs[0][1])
depth = {}
for name in (n for n in TAGGERS if n.startswith("bidirectional")):
    to_best = [histories[name, s].best_step / steps_per_pass for s in size["seeds"]]
    depth[name] = (np.mean(spread[name]), np.mean(to_best))
    print(f"{name:32s} macro F1 {np.mean(spread[name]):.3f} [{min(spread[name]):.3f}, "
          f"{max(spread[name]):.3f}]; best after {np.mean(to_best):.1f} passes on average")
deepest = max((name for name in depth if "residual" in name), key=lambda n: TAGGERS[n][0])
if setup.profile != "smoke":  # every seed of the deepest residual stack beats every 1-layer seed
    assert min(spread[deepest]) > max(spread["bidirectional × 1"])

# %% [markdown]
# Trained until their validation score stops improving, the deeper stacks score a
# little higher: the deepest residual stack beats the single layer in both seeds
# (asserted), by about a hundredth of macro F1, and it got there in no more passes;
# each pass costs it several times as much, though (8.6). With two seeds and a
# margin this small, read it as "depth helps a little here", not as a law. The
# residual connections change little at these depths: the plain and the residual
# three-layer stacks score about the same and need about as many passes. Skip connections earn their keep in deeper stacks than these:
# {cite:t}`wu2016google` found plain stacks training well up to four layers,
# barely at six and poorly beyond eight, and added residual connections to reach
# their eight-layer translation model.
# %% [markdown]
# ## 8.5 Which kind of play?
#
# Now one label per speech. A biLSTM classifier summarises the speech in one
# vector, either its final states $[\overrightarrow{h}_T ; \overleftarrow{h}_1]$
# (each direction's summary after reading everything) or the mean of all its
# $h_t$, and scores the three kinds from it (`seqlm.bilstm.Classifier`). Two
# baselines: always answering the most common kind of the training speeches, and
# logistic regression on word counts (`seqlm.bilstm.BagOfWords`), which knows
# which words a speech uses but not in what order.

# %%
KINDS = plays.KINDS
CLASSIFIERS = ("bag of words",) + tuple(f"biLSTM, {p} states" for p in bilstm.Classifier.POOLING)


def kind_batches(examples, shuffle=False, seed_=seed):
    return plays.kind_batches(examples, table, size["batch_size"] if shuffle else 128,
                              size["max_speech_tokens"], shuffle, seed_)


def classifier_run(name, s):
    """A classifier built from seed s, and what train_all needs to train it."""
    torch.manual_seed(s)
    if name == "bag of words":
        model, recipe = bilstm.BagOfWords(table, len(KINDS)), size["bow_train"]
    else:
        embedder = bilstm.LearnedEmbedding(table, size["embed_size"])
        model = bilstm.Classifier(encoder(embedder, hidden=size["kind_hidden_size"]),
                                  len(KINDS), name.split(", ")[1].split()[0])
        recipe = size["kind_train"]
    source = kind_batches(kind_train, shuffle=True, seed_=s)
    recipe = recipe.in_passes(len(source), size["kind_passes"]).replace(progress=False)
    return model, source, kind_batches(kind_valid), recipe


kind_keys = [(name, s) for name in CLASSIFIERS for s in size["seeds"]]
kind_runs = [classifier_run(*key) for key in kind_keys]
kind_histories = dict(zip(kind_keys, train.train_all(
    kind_runs, setup.device, workers=2,
    score=macro_f1_on(kind_batches(kind_valid), exclude=(), classes=len(KINDS)))))

# %%
gold = np.array([KINDS.index(s.kind) for s in kind_test])
common = Counter(s.kind for s in kind_train).most_common(1)[0][0]
always = np.full_like(gold, KINDS.index(common))
kind_scores = {(f"majority ({common})", s): metrics.confusion(gold, always, len(KINDS))
               for s in size["seeds"]}
kind_scores |= {key: tasks.confusion_matrix(run[0], kind_batches(kind_test), len(KINDS))
                for key, run in zip(kind_keys, kind_runs)}
kind_accuracy = {key: np.trace(c) / c.sum() for key, c in kind_scores.items()}
kind_macro = {key: metrics.macro_f1(c) for key, c in kind_scores.items()}
kind_names = list(dict.fromkeys(name for name, _ in kind_scores))
for name in kind_names:
    acc = [kind_accuracy[name, s] for s in size["seeds"]]
    f1 = [kind_macro[name, s] for s in size["seeds"]]
    print(f"{name:26s} accuracy {np.mean(acc):.3f} [{min(acc):.3f}, {max(acc):.3f}]   "
          f"macro F1 {np.mean(f1):.3f} [{min(f1):.3f}, {max(f1):.3f}]")
seconds |= {name: np.mean([kind_histories[name, s].seconds for s in size["seeds"]])
            for name in CLASSIFIERS}

# %% [markdown]
# Three test plays, one per kind, make this a hard test: a speech from *Hamlet* is
# judged against what the tragedies of the training split sound like, and the
# seeds cannot show how much the scores would move with other test plays. Both
# biLSTM classifiers beat the bag of words in every seed (asserted). That they read
# the words in order is one difference; they also learn word vectors and have more
# capacity, so this does not isolate the value of order. Which summary is better,
# the final states or the mean of all states, the seeds do not tell: their ranges
# overlap.

# %%
if setup.profile != "smoke":
    bag = [kind_macro["bag of words", s] for s in size["seeds"]]
    for name in CLASSIFIERS[1:]:
        assert min(kind_macro[name, s] for s in size["seeds"]) > max(bag), name

# %% [markdown]
# ## 8.6 What reading both ways costs
#
# The lectures' list: a bidirectional model needs the whole input before it can
# answer (no use for a live transcript that must punctuate as it goes, nor for
# generating text), and it does twice the work of one direction; every extra layer
# adds its share again. The training times of this chapter's models (mean over the
# seeds, two models training side by side on the machine's cores) and the time per
# pass over the training data, which is what depth and direction cost:

# %%
for name, value in seconds.items():
    runs = [histories.get((name, s)) or kind_histories[name, s] for s in size["seeds"]]
    passes = np.mean([h.step[-1] / len((tagger_runs if name in TAGGERS else kind_runs)[0][1])
                      for h in runs])
    print(f"{name:32s} {value:6.1f} s for {passes:4.1f} passes: {value / passes:5.1f} s a pass")

# %% [markdown]
# ## 8.7 Results

# %%
seeds = f"mean of {len(size['seeds'])} seeds"
headline = {f"punctuation test macro F1, {name}": np.mean(runs) for name, runs in spread.items()}
headline["punctuation test macro F1, majority"] = macro_majority
headline |= {f"play kind test {what}, {name}, {seeds}": np.mean(
    [values[name, s] for s in size["seeds"]]) for name in kind_names
    for what, values in (("accuracy", kind_accuracy), ("macro F1", kind_macro))}
headline |= {f"training seconds, {name}": value for name, value in seconds.items()}
path = results.save(setup, headline, timer.seconds)
print(f"{len(headline)} numbers written to {path.name} after {timer.seconds:.1f} s")

# %% [markdown]
# ## Exercises
#
# 1. **Direction or width?** Train a left-to-right tagger with 128 units, as wide
#    as the bidirectional one's states. Then give it one extra input per word: 1 at
#    the line's last word, else 0. How much of the bidirectional tagger's advantage
#    is left after each change?
# 2. **Commas in context.** Collect the test commas the best tagger misses. Are
#    they before "and", after a vocative, inside a list?
# 3. **A deeper classifier.** Stack two layers in the play-kind classifier. Does
#    depth help a task with so few training plays per kind (6, 9 and 4)?
# 4. **Graded assignment.** A masked, padded bidirectional LSTM layer from scratch
#    (assignment `08_bilstm`).
