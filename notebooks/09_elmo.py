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
# # 9. ELMo: words in context
#
# Chapter 8's taggers learned their word vectors from the labelled lines alone.
# With a few hundred labelled lines that is very little to learn from, while the
# training plays hold about 950 000 unlabelled tokens (700 000 of them words). **ELMo**
# {cite:p}`peters2018deep` turns a language model trained on unlabelled text into
# word representations for any task: not one vector per word, but one per word
# *in its sentence*. This chapter builds a small ELMo from its parts, pretrains it
# on the training plays, and measures what it buys the punctuation tagger when
# labels are scarce.
#
# **In this chapter you will**
#
# - tell type-based from token-based representations;
# - build the bidirectional LM: a character CNN with highway layers, two LSTM
#   layers per direction, one softmax, trained on both directions' likelihoods;
# - pretrain it with a sampled softmax, and compare its perplexities with Chapter 6's;
# - mix its layers with `ScalarMix` and feed them to Chapter 8's tagger, with 1 %,
#   10 % and 100 % of the labels;
# - look at what the layers hold, and at what came after ELMo.

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
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from seqlm import (batches, bilstm, config, data, elmo, metrics, plays, punctuation, results,
                   tasks, tokens, train, viz)

setup = config.setup("09_elmo", profile, device, seed, results_dir, quiet)
size, timer = setup.size, results.Timer()
print(f"profile {setup.profile}, device {setup.device}")

# %% [markdown]
# ## 9.1 Type-based and token-based representations
#
# The embeddings of Chapters 2 to 8 are **type-based**: a table with one row per
# word type, the same vector for "will" in *thy will be done* and in *I will go*.
# A **token-based** representation gives every occurrence its own vector,
# computed from the whole sentence it stands in. The lectures ask two questions
# of any representation; ELMo's answers:
#
# - *How many vectors does a word get?* One per occurrence, and for each, $2L + 1$
#   of them: the context-free token layer $x_k$ and, for each of the $L$ LSTM
#   layers $j$, a forward $\overrightarrow{h}_{k,j}$ and a backward
#   $\overleftarrow{h}_{k,j}$.
# - *Which parameters does a task add?* Very few: $L + 1$ mixing weights and a
#   scale. The biLM itself stays frozen; the task model (here, Chapter 8's
#   tagger) reads the mixture beside its own embeddings.

# %% [markdown]
# ## 9.2 The bidirectional language model
#
# A forward LM factorises a sequence's probability left to right, a backward LM
# right to left:
#
# $$\begin{aligned}
# p(t_1, \dots, t_N) &= \prod_{k=1}^N p(t_k \mid t_1, \dots, t_{k-1}) \\
#   &= \prod_{k=1}^N p(t_k \mid t_{k+1}, \dots, t_N).
# \end{aligned}$$
#
# ELMo's biLM trains one of each, sharing the token layer $\Theta_x$ and the
# softmax $\Theta_s$ but not the LSTMs, on the sum of both log-likelihoods:
#
# $$\begin{aligned}
# \sum_{k=1}^N \Big[&\log p(t_k \mid t_1, \dots, t_{k-1};
#   \Theta_x, \overrightarrow{\Theta}_{LSTM}, \Theta_s) \\
#   + &\log p(t_k \mid t_{k+1}, \dots, t_N;
#   \Theta_x, \overleftarrow{\Theta}_{LSTM}, \Theta_s)\Big].
# \end{aligned}$$
#
# Unlike Chapter 8's bidirectional layer, the two directions never see each
# other's states: each is a proper language model, so neither may peek at the word
# it predicts. On a window of tokens, the loss (`seqlm.elmo.joint_loss`):

# %%
viz.show_source(elmo.joint_loss)

# %% [markdown]
# **The token layer** reads characters {cite:p}`kim2016character`. Each word is
# spelt as character ids between begin- and end-of-word marks; filters of widths
# 1 to 5 slide over the character embeddings, each keeps its largest response,
# and a highway layer {cite:p}`srivastava2015highway` mixes the features:
#
# $$g = \sigma(W_T f + b_T), \qquad y = g \odot \mathrm{relu}(W_H f + b_H) + (1 - g) \odot f.$$
#
# A projection and layer normalisation give the token vector $x_k$. Because it
# reads spelling, a word the vocabulary never saw (a rare name, an odd spelling)
# still gets a vector of its own; the vocabulary only matters for the softmax.
# Above it, two LSTM layers per direction, the second with a residual connection
# ($h_{k,2} = \mathrm{LSTM}(h_{k,1}) + h_{k,1}$), as in ELMo.

# %%
viz.show_source(elmo.CharCNN.words)
corpus = data.load_shakespeare("word")
table = tokens.plays_table()
print(f"{len(corpus.vocab):,} vocabulary words; the token table adds "
      f"{len(table) - len(corpus.vocab) - 1:,} rarer types that only the character CNN can tell "
      f"apart; {table.alphabet_size} character ids")

# %% [markdown]
# **The softmax.** Scoring all 10.8 k words at every position dominates the cost
# of a step. ELMo's biLM was trained with a sampled softmax
# {cite:p}`jean2015using`, and so is ours (`seqlm.elmo.SampledSoftmax`): each step
# scores the targets against a few hundred words drawn from (a flattened) unigram
# distribution $Q$, and corrects the sample's scores by $\log(K\,Q(w))$ so that
# they estimate the full normaliser {cite:p}`bengio2008adaptive`. A unit test
# checks that the estimate lands within 5 % of the full cross-entropy. Perplexity
# is always measured with the full softmax. Its bias starts at the log unigram
# frequencies, so the untrained biLM is already a unigram model.

# %% [markdown]
# ## 9.3 Pretraining
#
# On the training plays only, in windows of a few dozen tokens: every window's
# forward LM predicts each next token, its backward LM each previous one. The run
# is checkpointed at every evaluation; interrupted, it resumes exactly where it
# stopped (a unit test kills one half-way and compares). The checkpoint stays
# beside the results, so running the chapter again reuses the trained biLM.

# %%
def aligned(split, rows, length, limit=None):
    inputs = table.encode(corpus.tokens(split)[:limit])
    return batches.AlignedStreams(inputs, corpus.ids(split)[:limit], rows, length)


counts = torch.from_numpy(np.bincount(corpus.ids("train"), minlength=len(corpus.vocab)))
torch.manual_seed(seed)
bilm = elmo.BiLM(table, counts, size["bilm_size"], samples=size["samples"])
run_key = results.fingerprint(setup.chapter, setup.profile, setup.seed)  # profile, sizes, code
checkpoint = Path(setup.results_dir) / f"09_elmo.bilm.{run_key}.checkpoint.pt"
history = train.train(bilm,
                      aligned("train", size["bilm_batch_size"], size["bilm_bptt"],
                              size["bilm_tokens"]),
                      aligned("valid", 16, 100, size["eval_tokens"]),
                      size["bilm_train"].replace(checkpoint=checkpoint), setup.device)
bilm_seconds = history.seconds
print(f"{history.step[-1]} steps, {bilm_seconds:.0f} s; valid loss (forward + backward, "
      f"nats): {history.valid_loss[0]:.2f} at step {history.step[0]} → "
      f"{history.best_valid_loss:.2f}")

# %%
ahead, behind = bilm.direction_losses(aligned("test", 16, 100, size["eval_tokens"]),
                                      setup.device)
unigram = torch.distributions.Categorical(probs=counts.double() / counts.sum())
unigram_ppl = math.exp(-unigram.log_prob(torch.from_numpy(corpus.ids("test"))).mean().item())
lstm_ppl = results.metric(setup, "06_lstm", "word test perplexity, LSTM LM")
print(f"test perplexity: forward {math.exp(ahead):.1f}, backward {math.exp(behind):.1f}; "
      f"unigram {unigram_ppl:.1f}; Chapter 6's LSTM LM "
      f"{'(not run with this profile)' if lstm_ppl is None else f'{lstm_ppl:.1f}'}")
if setup.profile != "smoke":
    assert max(ahead, behind) < math.log(unigram_ppl) - 1.0, "both directions learned context"
    assert abs(ahead - behind) < 0.15, "the two directions are about equally good"

# %% [markdown]
# A bidirectional model has no single left-to-right perplexity: each direction is
# measured on its own. Each reads windows of 100 tokens from a fresh state (it
# carries no state across windows), which costs it a little against Chapter 6's
# LSTM, whose state runs through the whole test set; it was also trained for
# fewer steps per parameter. Both directions are far better than the unigram
# model they started as, and land close to each other: predicting a word from
# what follows it is about as hard as from what precedes it.

# %% [markdown]
# ## 9.4 Mixing the layers: `ScalarMix`
#
# A task does not pick one layer; it learns how much of each to take. For token
# $k$, with the biLM's layers $h_{k,0} = [x_k ; x_k]$ and
# $h_{k,j} = [\overrightarrow{h}_{k,j} ; \overleftarrow{h}_{k,j}]$:
#
# $$\mathrm{ELMo}_k = \gamma \sum_{j=0}^{L} s_j\, h_{k,j}, \qquad s = \mathrm{softmax}(w),$$
#
# with $w$ and $\gamma$ trained with the task. Peters et al. found that
# normalising each layer first sometimes helps; `ScalarMix(layer_norm=True)`
# does that over the real tokens of a batch.

# %%
viz.show_source(elmo.ScalarMix)
mix = elmo.ScalarMix(3)
with torch.no_grad():
    mix.omega.copy_(torch.tensor([1.0, 0.0, -1.0]))
    mix.gamma.fill_(2.0)
layers = [torch.full((1, 2), float(j + 1)) for j in range(3)]          # h_j = j + 1
s = np.exp([1.0, 0.0, -1.0]) / np.exp([1.0, 0.0, -1.0]).sum()
by_hand = 2.0 * (s[0] * 1 + s[1] * 2 + s[2] * 3)
print(f"ScalarMix: {mix(layers)[0, 0].item():.6f}; by hand: {by_hand:.6f}")
assert abs(mix(layers)[0, 0].item() - by_hand) < 1e-6

# %% [markdown]
# ## 9.5 What pretraining buys: the headline experiment
#
# Chapter 8's bidirectional punctuation tagger, with three kinds of input
# (`seqlm.elmo.ElmoInput`):
#
# - **learned**: word vectors learned from the labelled lines, as in Chapter 8;
# - **token**: those, beside the frozen biLM's token layer $x_k$ (type-based:
#   pretrained, but blind to context);
# - **ELMo**: those, beside $\mathrm{ELMo}_k$ mixed from all the frozen layers
#   (token-based), as Peters et al. add ELMo to a task model's own input.
#
# Each is trained on 1 %, 10 % and 100 % of the labelled training lines (the
# profile says how many lines make 100 %), with several seeds; each seed draws its
# own subset and initialisation. Every run takes the same number of steps (a small
# subset is seen many times over) and keeps its best weights on the valid lines,
# so that no model is judged undertrained. The score is the test macro F1 of
# Chapter 8.

# %%
EOS = corpus.vocab.stoi[data.EOS]
LABELS, KINDS = punctuation.LABELS, elmo.ElmoInput.KINDS
label_pool = punctuation.lines("train")[:size["train_lines"]]
valid_lines = punctuation.lines("valid")[:size["valid_lines"]]
test_lines = punctuation.lines("test")[:size["eval_lines"]]
frozen = elmo.FrozenBiLM(bilm.to(setup.device), EOS)  # reads each line once, for every tagger


def tag_batches(examples, shuffle=False, seed_=0, keep_order=False):
    return punctuation.batches(examples, table, size["batch_size"] if shuffle else 256, shuffle,
                               seed_, keep_order)


def recipe(steps):
    """The same number of steps for every fraction; the best valid weights are kept."""
    return config.TrainConfig(steps=steps, lr=size["lr"], eval_every=max(1, steps // 4),
                              progress=not setup.quiet)


def tagger(kind, seed_, layer=None):
    torch.manual_seed(seed_)
    inputs = elmo.ElmoInput(kind, table, size["embed_size"], frozen, layer=layer)
    encoder = bilstm.Encoder(inputs, size["hidden_size"], table.pad_id, dropout=size["dropout"])
    return bilstm.Tagger(encoder, len(LABELS))


def fit_and_score(model, examples, seed_):
    history = train.train(model, tag_batches(examples, True, seed_), tag_batches(valid_lines),
                          recipe(size["tag_steps"]), setup.device)
    counts = tasks.confusion_matrix(model, tag_batches(test_lines), len(LABELS))
    return metrics.macro_f1(counts, exclude=(0,)), history.seconds

# %%
macro, seconds, keep = {}, {}, {}
for fraction in size["fractions"]:
    for s in size["seeds"]:
        examples = punctuation.subset(label_pool, fraction, seed=s)
        for kind in KINDS:
            model = tagger(kind, s)
            macro[kind, fraction, s], seconds[kind, fraction, s] = fit_and_score(model, examples,
                                                                                 s)
            if (fraction, s) == (max(size["fractions"]), size["seeds"][0]):
                keep[kind] = model
    print(f"{fraction:.0%} of the labels ({len(examples)} lines): done")

# %%
def spread(kind, fraction):
    runs = [macro[kind, fraction, s] for s in size["seeds"]]
    return float(np.mean(runs)), min(runs), max(runs)


print(f"{'labels':>8s}" + "".join(f"{kind:>26s}" for kind in KINDS))
for fraction in size["fractions"]:
    print(f"{fraction:>8.0%}" + "".join("{:>12.3f} [{:.3f}, {:.3f}]".format(*spread(kind, fraction))
                                        for kind in KINDS))
fig, ax = plt.subplots(figsize=(6.5, 4))
for kind, marker in zip(KINDS, "osD"):
    means, lows, highs = zip(*(spread(kind, f) for f in size["fractions"]))
    bars = [np.subtract(means, lows), np.subtract(highs, means)]
    ax.errorbar(size["fractions"], means, yerr=bars, marker=marker, capsize=3, label=kind)
ax.set(xscale="log", xlabel="fraction of the labelled lines",
       ylabel="test macro F1 (mean; bars: lowest to highest seed)",
       title="Punctuation restoration: pretrained inputs and scarce labels")
ax.legend()
plt.show()

# %% [markdown]
# ELMo beats learned embeddings at every fraction of the labels: the frozen biLM,
# trained on text nobody labelled, knows things about the plays' lines that a few
# thousand labelled lines do not teach. The token layer alone is pretrained but
# blind to context; the table shows where it lands.
#
# Peters et al. also found ELMo's gain *largest* with the least data (with ELMo,
# their SRL model matched the baseline's full-data score with 10 % of the data).
# Whether ours shows that depends on the budget: every run here takes the same
# number of steps, which is many passes over 1 % of the lines but few over 100 %,
# where the learned embeddings (a vector per vocabulary word, from scratch) have
# had the least training per word; the paper's models were each trained to
# convergence. The printout says where our gain is largest; we assert only that
# there is one at every fraction.

# %%
gain = {f: spread("elmo", f)[0] - spread("learned", f)[0] for f in size["fractions"]}
print("ELMo's gain in macro F1: " + ", ".join(f"{f:.0%} {g:+.3f}" for f, g in gain.items()))
largest = max(gain, key=gain.get)
print(f"largest at {largest:.0%} of the labels: "
      f"{'as' if largest == min(size['fractions']) else 'unlike'} the paper's finding")
if setup.profile != "smoke":
    assert all(g > 0 for g in gain.values()), "ELMo beats learned embeddings at every fraction"

# %% [markdown]
# **The same three inputs on "which kind of play?"**, Chapter 8's biLSTM classifier
# (final states) over speeches, with all the labels and one seed:

# %%
kind_data = {split: plays.evenly_spaced(plays.speeches(split), size["kind_speeches"])
             for split in ("train", "valid", "test")}


def kind_batches(split, shuffle=False):
    return plays.kind_batches(kind_data[split], table, size["batch_size"] if shuffle else 128,
                              size["max_speech_tokens"], shuffle, seed)


kind_scores, kind_models = {}, {}
for kind in KINDS:
    torch.manual_seed(seed)
    inputs = elmo.ElmoInput(kind, table, size["embed_size"], frozen)
    encoder = bilstm.Encoder(inputs, size["hidden_size"], table.pad_id, dropout=size["dropout"])
    model = bilstm.Classifier(encoder, len(plays.KINDS))
    train.train(model, kind_batches("train", True), kind_batches("valid"),
                recipe(size["kind_steps"]), setup.device)
    counts = tasks.confusion_matrix(model, kind_batches("test"), len(plays.KINDS))
    kind_scores[kind] = (np.trace(counts) / counts.sum(), metrics.macro_f1(counts))
    kind_models[kind] = model
    accuracy, f1 = kind_scores[kind]
    print(f"{kind:8s}: test accuracy {accuracy:.3f}, macro F1 {f1:.3f}")

# %% [markdown]
# The play-kind task is a different matter: whole speeches, three labels, and test
# plays unlike any in training (Chapter 8). Whatever the printout shows, it is one
# seed on one split; we claim nothing from it beyond what it says.

# %% [markdown]
# ## 9.6 What the layers hold
#
# **The mixing weights** $s_j$ each task learned (tagger: 100 % of the labels,
# first seed):

# %%
for task, model in (("punctuation", keep["elmo"]), ("play kind", kind_models["elmo"])):
    weights = model.encoder.embedder.mix.weights().detach().cpu().numpy()
    print(f"{task:12s}: s = " + ", ".join(f"layer {j} {w:.2f}" for j, w in enumerate(weights))
          + f";  γ = {model.encoder.embedder.mix.gamma.item():.2f}")

# %% [markdown]
# **Each layer alone.** The tagger again, with 10 % of the labels, reading one of
# the biLM's layers instead of the mixture:

# %%
single = {}
middle = sorted(size["fractions"])[len(size["fractions"]) // 2]
examples = punctuation.subset(label_pool, middle, seed=seed)
for j in range(bilm.num_layers + 1):
    single[j], _ = fit_and_score(tagger("elmo", seed, layer=j), examples, seed)
print(f"{middle:.0%} of the labels, macro F1 by input layer: "
      + ", ".join(f"layer {j} {value:.3f}" for j, value in single.items())
      + f"; the mix (seed {seed}) {macro['elmo', middle, seed]:.3f}")

# %% [markdown]
# Peters et al. found the lower LSTM layer best for syntax (parts of speech) and
# the top one for word sense. Punctuation depends on a line's structure, so a
# contextual layer should beat the context-free token layer; the printout says by
# how much here. Compare the mix with the best single layer too: a mix learned from
# a thousand labelled lines starts from equal weights and need not find the best
# layer.

# %%
if setup.profile != "smoke":
    contextual = max(single[j] for j in range(1, bilm.num_layers + 1))
    assert contextual > single[0], "a contextual layer beats the token layer"

# %% [markdown]
# **One word, several senses.** Shakespeare's "will" is a wish, a testament and
# an auxiliary; "bear" carries, endures, or growls; "fair" is beautiful or just;
# "kind" is gentle or a sort. A type-based vector is one point for all of them. We
# run the biLM over a few thousand training lines, keep every token's top-layer
# vector $[\overrightarrow{h}_{k,2} ; \overleftarrow{h}_{k,2}]$, and for two
# occurrences of each word (the first, and the one least like it) list the
# nearest tokens by cosine similarity, each with its line.

# %%
pool = punctuation.lines("train")[:size["neighbour_lines"]]
top, static, where = [], [], []
for i, (x, _) in enumerate(tag_batches(pool, keep_order=True)()):
    x = x.to(setup.device)
    layers = frozen.layers(x)
    real = x != table.pad_id
    top.append(layers[-1][real].cpu())
    static.append(layers[0][real].cpu())
    where += [(256 * i + r, t) for r, t in real.nonzero().tolist()]
top = torch.nn.functional.normalize(torch.cat(top), dim=-1)
static = torch.nn.functional.normalize(torch.cat(static), dim=-1)
words = [pool[line].words[t] for line, t in where]


def context(k, width=4):
    line, t = where[k]
    ws = list(pool[line].words)
    return " ".join(ws[max(0, t - width):t] + [f"[{ws[t]}]"] + ws[t + 1:t + 1 + width])

# %%
contrast = {}
for word in ("will", "bear", "fair", "kind"):
    found = [k for k, w in enumerate(words) if w == word]
    if len(found) < 2:
        print(f"{word}: fewer than two occurrences in these lines")
        continue
    first = found[0]
    other = min(found[1:], key=lambda k: (top[k] @ top[first]).item())
    contrast[word] = (top[other] @ top[first]).item()
    for k in (first, other):
        near = (top @ top[k]).argsort(descending=True)
        near = [j for j in near.tolist() if where[j][0] != where[k][0]][:3]
        print(f"{context(k):45s} → " + " | ".join(context(j, 2) for j in near))
    similar = (static @ static[first]).argsort(descending=True).tolist()
    types = list(dict.fromkeys(words[j] for j in similar if words[j] != word))[:6]
    print(f"{'':45s}   static neighbours of '{word}': {', '.join(types)}\n")

# %% [markdown]
# The static neighbours are words that *look* alike, which is all a spelling-based,
# context-free layer can know. The contextual neighbours are tokens in similar
# surroundings, often the same word in the same use; read the lines to judge the
# senses yourself (our biLM is tiny next to ELMo's, and trained on one author).
# What the check below guarantees is only the mechanism: the same word gets
# different vectors in different lines.

# %%
print("cosine between a word's two occurrences, top layer: "
      + ", ".join(f"{w} {c:.2f}" for w, c in contrast.items()) + " (static layer: 1.00)")
assert contrast and all(c < 0.99 for c in contrast.values())

# %% [markdown]
# ## 9.7 Where it led
#
# The lectures' table of ELMo's gains {cite:p}`peters2018deep`: on six
# benchmarks, a strong baseline model of the time against the same model with ELMo
# added (each beat the previous state of the art).
#
# | task | benchmark | baseline | with ELMo | relative error reduction |
# | --- | --- | ---: | ---: | ---: |
# | question answering | SQuAD (F1) | 81.1 | 85.8 | 24.9 % |
# | textual entailment | SNLI (accuracy) | 88.0 | 88.7 | 5.8 % |
# | semantic role labelling | SRL (F1) | 81.4 | 84.6 | 17.2 % |
# | coreference | OntoNotes (average F1) | 67.2 | 70.4 | 9.8 % |
# | named entities | CoNLL 2003 (F1) | 90.15 | 92.22 | 21 % |
# | sentiment | SST-5 (accuracy) | 51.4 | 54.7 | 6.8 % |
#
# One pretrained model improved every task it was added to, with a few extra
# parameters per task. That was the turn the rest of the field took.
#
# **What followed**, as the lectures tell it. Recurrent networks also *generate*
# sequences from sequences: the **encoder–decoder** {cite:p}`sutskever2014sequence`
# reads a sentence into one vector and writes its translation from it. That single
# vector is a bottleneck (long sentences lose detail), which **attention**
# {cite:p}`bahdanau2015neural` removed by letting the decoder look back at every
# encoder state. The **Transformer** {cite:p}`vaswani2017attention` kept attention
# and dropped recurrence, so every position is computed at once and training
# parallelises over the sequence. **BERT** {cite:p}`devlin2019bert` then did
# ELMo's job with a Transformer: instead of two one-way language models it
# predicts masked words from both sides at once, and it is fine-tuned whole
# rather than frozen. The ideas of this course (language models as
# pretraining, gates and residual paths that let gradients travel, bidirectional
# context) are all still inside.

# %% [markdown]
# ## 9.8 Results

# %%
headline = {"word test perplexity, ELMo biLM, forward direction": math.exp(ahead),
            "backward test perplexity, ELMo biLM": math.exp(behind),
            "biLM pretraining seconds": bilm_seconds}
for kind in KINDS:
    for fraction in size["fractions"]:
        headline[f"punctuation test macro F1, {kind}, {fraction:.0%} of labels"] = \
            spread(kind, fraction)[0]
    headline[f"play kind test accuracy, {kind}"] = kind_scores[kind][0]
    headline[f"play kind test macro F1, {kind}"] = kind_scores[kind][1]
headline |= {f"punctuation test macro F1, layer {j} alone, {middle:.0%} of labels": value
             for j, value in single.items()}
path = results.save(setup, headline, timer.seconds)
print(f"{len(headline)} numbers written to {path.name} after {timer.seconds:.1f} s")

# %% [markdown]
# ## Exercises
#
# 1. **Fine-tune instead of freezing.** Let the tagger's gradient reach the biLM
#    (BERT's way). Does it help at 100 % of the labels? At 1 %?
# 2. **Layer normalisation.** Train with `ScalarMix(layer_norm=True)`. Do the
#    learned weights change?
# 3. **Unseen words.** Find test lines with words outside the vocabulary. Is the
#    ELMo tagger's accuracy on the words next to them better than the learned
#    tagger's?
# 4. **Graded assignment.** `ScalarMix` and the biLM's joint loss (assignment
#    `09_elmo`).
