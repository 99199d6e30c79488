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
# With a few hundred labelled lines that would be very little to learn from, while the
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
# - pretrain it with a sampled softmax on the text a tagger will read;
# - mix its layers with `ScalarMix` and feed them to Chapter 8's tagger, with 1 %,
#   10 % and 100 % of the labels, each trained to convergence over several seeds;
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

from seqlm import (batches, bilstm, config, data, diagrams, elmo, metrics, plays,
                   punctuation, results, tasks, tokens, train, viz)

setup = config.setup("09_elmo", profile, device, seed, results_dir, quiet)
size, timer = setup.size, results.Timer()
print(f"profile {setup.profile}, device {setup.device}")

# %% [markdown]
# ## 9.1 Type-based and token-based representations
#
# The embeddings of Chapters 2 to 8 are **type-based**: a table with one row per
# word type, the same vector for "will" in *thy will be done* and in *I will go*.
# A **token-based** representation gives every occurrence its own vector,
# computed from the whole sentence it stands in. The recurrent states of Chapters
# 3 to 8 are already token-based in that sense; what ELMo adds is where they come
# from: a network pretrained as a language model on unlabelled text, frozen, and
# offered to a task whole, every layer of it, to mix as the task sees fit. The
# lectures ask two questions of any representation; ELMo's answers:
#
# - *How many vectors does a word get?* One per occurrence, and for each,
#   $2 n_L + 1$ of them: the context-free token layer $e_t$ and, for each of the
#   $n_L$ LSTM layers $j$, a forward $\overrightarrow{h}_{t,j}$ and a backward
#   $\overleftarrow{h}_{t,j}$.
# - *Which parameters does a task add?* Very few: $n_L + 1$ mixing weights and a
#   scale. The biLM itself stays frozen; the task model (here, Chapter 8's
#   tagger) reads the mixture beside its own embeddings.
#
# (The lecture decks call ELMo type-based in places; it is the token-based one.
# Peters et al. write $t_k$ for the tokens, $x_k$ for the token layer, $L$ for the
# number of layers, $s_j$ for the mixing weights and $\Theta_e$ for ELMo's own
# parameters; this book's notation page gives most of those letters other jobs, so
# we write $x_t$, $e_t$, $n_L$ and $\lambda_j$, and keep their $\Theta_x$ for the
# token layer's parameters.)
#
# The idea of pretraining a language model on unlabelled text and reusing it for a
# labelled task is older than ELMo: {cite:t}`dai2015semi` pretrained an LSTM as a
# language model (or as a sequence autoencoder) and then trained the whole network
# further on the task. ELMo instead keeps the pretrained network frozen and lets
# each task learn how much of each layer to use.

# %% [markdown]
# ## 9.2 The bidirectional language model
#
# A forward LM factorises a sequence's probability left to right, a backward LM
# right to left:
#
# $$\begin{aligned}
# p(x_1, \dots, x_N) &= \prod_{t=1}^N p(x_t \mid x_1, \dots, x_{t-1}) \\
#   &= \prod_{t=1}^N p(x_t \mid x_{t+1}, \dots, x_N).
# \end{aligned}$$
#
# ELMo's biLM trains one of each, sharing the token layer's parameters
# $\Theta_x$ and the softmax's $\Theta_s$ but not the LSTMs, on the sum of both
# log-likelihoods:
#
# $$\begin{aligned}
# \sum_{t=1}^N \Big[&\log p(x_t \mid x_1, \dots, x_{t-1};
#   \Theta_x, \overrightarrow{\Theta}_{\text{LSTM}}, \Theta_s) \\
#   + &\log p(x_t \mid x_{t+1}, \dots, x_N;
#   \Theta_x, \overleftarrow{\Theta}_{\text{LSTM}}, \Theta_s)\Big].
# \end{aligned}$$
#
# Unlike Chapter 8's stacked bidirectional layers, the two directions never see
# each other's states, at any depth: each is a proper language model, so neither
# may peek at the word it predicts. On a window of tokens, the loss (`seqlm.elmo.joint_loss`):

# %%
viz.show_source(elmo.joint_loss)

# %% [markdown]
# The whole model, from a token's characters up to the mixture a task reads (the
# mixture is 9.6's):

# %%
diagrams.bilm_scalar_mix()
plt.show()

# %% [markdown]
# ## 9.3 The token layer: characters, a CNN and a highway
#
# The token layer reads characters {cite:p}`kim2016character`. Each word is spelt
# as character ids between begin- and end-of-word marks; filters of widths 1 to 5
# slide over the character embeddings, and each keeps its largest response over
# the positions:

# %%
viz.show_source(elmo.CharCNN.words)
corpus = data.load_shakespeare("word")
table = tokens.plays_table()
print(f"{len(corpus.vocab):,} vocabulary words; the token table adds "
      f"{len(table) - len(corpus.vocab) - 1:,} rarer types that only the character CNN can tell "
      f"apart; {table.alphabet_size} character ids")

# %% [markdown]
# Between the filters and the projection sits a **highway layer**
# {cite:p}`srivastava2015highway`. From the filters' features $\phi$ it computes a
# transform and a gate $\kappa$, and lets the gate choose, feature by feature,
# between the transform and $\phi$ itself:
#
# $$\kappa = \sigma(W_T \phi + b_T), \qquad \mathrm{highway}(\phi) = \kappa \odot \mathrm{relu}(W_H \phi + b_H) + (1 - \kappa) \odot \phi.$$
#
# (Kim et al. write $t$ for the gate and $g$ for the nonlinearity; those letters
# are time and a gradient here.) Where the gate is shut ($\kappa = 0$) the layer
# carries $\phi$ through untouched; where it is open ($\kappa = 1$) it is an
# ordinary layer. Like the LSTM's cell path, the carry is a route along which the
# gradient passes unchanged; Kim et al. start $b_T$ negative (about $-2$; ours at
# $-1$) so that the layer begins by carrying. The two limits, checked on the token
# layer's own highway with its gate forced shut and then open:

# %%
highway = elmo.CharCNN(table, 8).highway
features = torch.randn(5, highway.layers[0].in_features)
with torch.no_grad():
    gate_bias = highway.layers[0].bias[features.shape[1]:]
    gate_bias.fill_(-50.0)
    shut = highway(features)
    gate_bias.fill_(50.0)
    opened = highway(features)
    transform = torch.relu(highway.layers[0](features)[:, :features.shape[1]])
print(f"gate shut: largest change of φ {(shut - features).abs().max():.1e}; gate open: "
      f"largest difference from relu(W_H φ + b_H) {(opened - transform).abs().max():.1e}")
assert torch.allclose(shut, features) and torch.allclose(opened, transform, atol=1e-6)

# %% [markdown]
# A projection and layer normalisation give the token vector $e_t$. Because it
# reads spelling, a word the vocabulary never saw (a rare name, an odd spelling)
# still gets a vector of its own; the vocabulary only matters for the softmax.
# Above it, two LSTM layers per direction, the second with a residual connection
# ($\overrightarrow{h}_{t,2} = \mathrm{LSTM}_\rightarrow(\overrightarrow{h}_{t,1}) +
# \overrightarrow{h}_{t,1}$, and the same backwards), as in ELMo and as Chapter 8's
# stacks.
#
# ELMo's own biLM is far larger: it is {cite:t}`jozefowicz2016exploring`'s
# character-CNN LSTM language model with every size halved, and it read the One
# Billion Word Benchmark's training text (about 0.8 billion words) for ten passes.
# Ours, in the profile of this run:

# %%
ours = {"character filters": sum(n for _, n in elmo.FILTERS), "highway layers": 1,
        "token vector": size["bilm_size"], "LSTM units per direction and layer": size["bilm_size"],
        "LSTM layers per direction": 2}
theirs = {"character filters": 2048, "highway layers": 2, "token vector": 512,
          "LSTM units per direction and layer": "4096, projected to 512",
          "LSTM layers per direction": 2}
print(f"{'':36s}{'ELMo (Peters et al.)':>24s}{'ours':>10s}")
for name in ours:
    print(f"{name:36s}{theirs[name]!s:>24s}{ours[name]!s:>10s}")

# %% [markdown]
# ## 9.4 The softmax: sampled, and corrected
#
# Scoring all 10.8 k words at every position dominates the cost of a training step
# (about 95 % of a word LM's step on a CPU). ELMo's biLM, like
# {cite:t}`jozefowicz2016exploring`'s language models it was built from, was trained
# with a **sampled softmax** {cite:p}`jean2015using`, and so is ours
# (`seqlm.elmo.SampledSoftmax`).
# With scores $\ell_w = W_w \cdot h + b_w$, the cross-entropy of the target $y$ is
# $-\ell_y + \log \sum_w e^{\ell_w}$, and the sum runs over every word. Instead, each
# step draws $S$ words $w_1 \dots w_S$ (hundreds, shared by the whole batch)
# from a proposal $Q$, the unigram distribution flattened by a power of 0.75 (the
# proposal word2vec used for its negatives, {cite:t}`mikolov2013distributed`), and
# estimates the sum from them:
#
# $$\sum_w e^{\ell_w} = \mathbb{E}_{w \sim Q}\Big[\frac{e^{\ell_w}}{Q(w)}\Big]
# \approx \frac{1}{S} \sum_{i=1}^{S} \frac{e^{\ell_{w_i}}}{Q(w_i)}
# = \sum_{i=1}^{S} e^{\ell_{w_i} - \log(S\,Q(w_i))}.$$
#
# So each sampled score is corrected by $\log(S\,Q(w_i))$ before it enters the
# softmax {cite:p}`bengio2008adaptive`; the target keeps its own exact score (and a
# draw that happens to be the target is left out, since its score is in already). A
# step then scores $S + 1$ words instead of $|V|$, and its loss estimates the full
# cross-entropy. Perplexity is always measured with the full softmax. The bias
# $b$ starts at the log unigram frequencies, so the untrained biLM is already a
# unigram model. The estimate is checked once the biLM is trained (9.5).

# %% [markdown]
# ## 9.5 Pretraining, on the text the tagger reads
#
# The tagger of 9.7 reads lines with their punctuation taken out: the marks are
# what it must restore. A biLM pretrained on the plays as Chapter 6's LM read them
# would have seen a punctuation mark in about one token of six (printed below),
# and would meet every tagger line as a text with a sixth of its tokens missing.
# So we pretrain
# it on the text as the tagger reads it: the words and the line ends, every mark
# left out (the vocabulary and its ids are the book's; the marks are simply never
# seen). Its perplexities are on that text too, which is harder to predict than
# text with punctuation (a mark after a word is often easy to guess), so they are
# not to be compared with Chapter 6's.
#
# On the training plays only, in windows of a few dozen tokens: every window's
# forward LM predicts each next token, its backward LM each previous one. The run
# is checkpointed at every evaluation; interrupted, it resumes exactly where it
# stopped (a unit test stops one at step 8 of 12, resumes it, and compares it with
# an uninterrupted run). The checkpoint stays
# beside the results, under a name that says which profile, sizes and code made
# it, so running the chapter again reuses the trained biLM.

# %%
def aligned(split, rows, length, limit=None):
    """Streams of the split's words and line ends, no punctuation: table ids in,
    vocabulary ids out (the same tokens)."""
    words = punctuation.unpunctuated(corpus.tokens(split))[:limit]
    return batches.AlignedStreams(table.encode(words), corpus.vocab.encode(words), rows, length)


train_stream = aligned("train", size["bilm_batch_size"], size["bilm_bptt"], size["bilm_tokens"])
counts = torch.from_numpy(np.bincount(train_stream.y.ravel(), minlength=len(corpus.vocab)))
all_tokens = len(corpus.tokens("train"))
print(f"{all_tokens:,} training tokens; the biLM reads {counts.sum():,} of them (words and "
      f"line ends); the other {1 - counts.sum() / all_tokens:.0%} are punctuation marks")
torch.manual_seed(seed)
bilm = elmo.BiLM(table, counts, size["bilm_size"], samples=size["samples"])
run_key = results.fingerprint(setup.chapter, setup.profile, setup.seed)  # profile, sizes, code
checkpoint = Path(setup.results_dir) / f"09_elmo.bilm.{run_key}.checkpoint.pt"
history = train.train(bilm, train_stream, aligned("valid", 16, 100, size["eval_tokens"]),
                      size["bilm_train"].replace(checkpoint=checkpoint), setup.device)
bilm_seconds = history.seconds
print(f"{history.step[-1]} steps, {bilm_seconds:.0f} s; valid loss (forward + backward, "
      f"nats): {history.valid_loss[0]:.2f} at step {history.step[0]} → "
      f"{history.best_valid_loss:.2f}")

# %%
test_stream = aligned("test", 16, 100, size["eval_tokens"])
ahead, behind = bilm.direction_losses(test_stream, setup.device)
unigram = torch.distributions.Categorical(probs=counts.double() / counts.sum())
unigram_ppl = math.exp(-unigram.log_prob(torch.from_numpy(test_stream.y.ravel())).mean().item())
print(f"test perplexity on the unpunctuated test plays: forward {math.exp(ahead):.1f}, "
      f"backward {math.exp(behind):.1f}; unigram {unigram_ppl:.1f}")
if setup.profile != "smoke":
    assert max(ahead, behind) < math.log(unigram_ppl) - 0.5, "both directions learned context"
    assert abs(ahead - behind) < 0.15, "the two directions are about equally good"

# %% [markdown]
# Both directions are far better than the unigram model they started as, and land
# close to each other: predicting a word from what follows it is about as hard as
# from what precedes it. Each reads windows of 100 tokens from a fresh state (it
# carries no state across windows).
#
# Now the sampled softmax's estimate, on the trained biLM's own states for a test
# batch: the full cross-entropy, the sampled loss with the correction (averaged
# over draws of the sample), and the same without it.

# %%
x, y = next(test_stream())
with train.evaluating(bilm) as where:
    _, forward_states, _ = bilm.directions(x.to(where))
h = forward_states[-1][:, :-1].reshape(-1, bilm.size)
targets = y[:, 1:].reshape(-1).to(h.device)
softmax = bilm.softmax
with torch.no_grad():
    full_loss = softmax.loss(h, targets, full=True).item()
    softmax.train()
    draws = {corrected: np.mean([softmax.loss(h, targets, corrected=corrected).item()
                                 for _ in range(20)]) for corrected in (True, False)}
    softmax.eval()
print(f"full cross-entropy {full_loss:.3f} nats; sampled ({softmax.samples} words): corrected "
      f"{draws[True]:.3f}, uncorrected {draws[False]:.3f}")
assert abs(draws[True] - full_loss) < abs(draws[False] - full_loss)
if setup.profile != "smoke":
    assert draws[False] > full_loss and abs(draws[True] - full_loss) < 0.05

# %% [markdown]
# Without the correction the sampled loss is too high. The draws are made with
# replacement from a proposal that favours frequent words, and frequent words are
# the ones with large scores: among 512 draws the line end comes up about 16 times
# and "the" about 5, and each time adds its whole $e^{\ell_w}$, so the sum over the
# draws exceeds the sum over the vocabulary, which counts each word once. The correction
# divides each draw by how often it is expected to come up, $S\,Q(w_i)$, which makes
# the sum an unbiased estimate of $\sum_w e^{\ell_w}$. Its logarithm is then
# slightly low on average (the logarithm is concave), so the corrected loss sits a
# little under the full cross-entropy; with hundreds of draws the difference is
# small (asserted: within 0.05 nats). A step costs $S$ rows of the output layer
# instead of 10 835.
#
# ## 9.6 Mixing the layers: `ScalarMix`
#
# A task does not pick one layer; it learns how much of each to take. For token
# $t$, with the biLM's layers $h_{t,0} = [e_t ; e_t]$ and
# $h_{t,j} = [\overrightarrow{h}_{t,j} ; \overleftarrow{h}_{t,j}]$:
#
# $$\mathrm{ELMo}_t = \gamma \sum_{j=0}^{n_L} \lambda_j\, h_{t,j}, \qquad \lambda = \mathrm{softmax}(\omega),$$
#
# with $\omega$ and $\gamma$ trained with the task. The layers differ in scale: the
# token layer comes out of a layer normalisation, the LSTM layers do not, so an
# equal start ($\omega = 0$) would in effect start mostly from the token layer.
# Peters et al. found that normalising each layer first sometimes helps.
# `ScalarMix(layer_norm=True)` normalises each token's vector of each layer to mean
# 0 and variance 1 over its features, a layer normalisation {cite:p}`ba2016layer`
# without a learned scale ($\gamma$ plays that part), so a token's mixture does not
# depend on the rest of its batch. (AllenNLP's `ScalarMix` normalises over all the
# real tokens of a batch instead.) The taggers below use it.

# %%
viz.show_source(elmo.ScalarMix)
mix = elmo.ScalarMix(3)
with torch.no_grad():
    mix.omega.copy_(torch.tensor([1.0, 0.0, -1.0]))
    mix.gamma.fill_(2.0)
layers = [torch.full((1, 2), float(j + 1)) for j in range(3)]          # h_j = j + 1
lam = np.exp([1.0, 0.0, -1.0]) / np.exp([1.0, 0.0, -1.0]).sum()
by_hand = 2.0 * (lam[0] * 1 + lam[1] * 2 + lam[2] * 3)
print(f"ScalarMix: {mix(layers)[0, 0].item():.6f}; by hand: {by_hand:.6f}")
assert abs(mix(layers)[0, 0].item() - by_hand) < 1e-6

# %%
frozen = elmo.FrozenBiLM(bilm.to(setup.device), corpus.vocab.stoi[data.EOS])
sample = punctuation.batches(punctuation.lines("valid")[:512], table, 512)
x, _ = next(sample())
with torch.no_grad():
    spreads = [h[x != table.pad_id].std().item() for h in frozen.layers(x.to(setup.device))]
print("standard deviation of each layer over real tokens: "
      + ", ".join(f"layer {j} {v:.2f}" for j, v in enumerate(spreads))
      + f"; the token layer's is {spreads[0] / max(spreads[1:]):.1f}× the larger LSTM layer's")
if setup.profile != "smoke":
    assert spreads[0] > 1.5 * max(spreads[1:]), "the token layer is the widest"

# %% [markdown]
# The token layer's spread is several times the LSTM layers' (printed above): without
# the normalisation, the "equal" start would be mostly the token layer.
#
# ## 9.7 What pretraining buys: the headline experiment
#
# Chapter 8's bidirectional punctuation tagger, with three kinds of input
# (`seqlm.elmo.ElmoInput`):
#
# - **learned**: word vectors learned from the labelled lines, as in Chapter 8;
# - **token**: those, beside the frozen biLM's token layer $e_t$ (type-based:
#   pretrained, but blind to context);
# - **ELMo**: those, beside $\mathrm{ELMo}_t$ mixed from all the frozen layers
#   (token-based), as Peters et al. add ELMo to a task model's own input.
#
# Each is trained on 1 %, 10 % and 100 % of a pool of labelled training lines taken
# evenly from every training play (the profile says how many lines make 100 %),
# with several seeds, more where the variance is largest; each seed draws its own
# subset and initialisation, and the three inputs of a seed see the same lines.
# Peters et al. measured sample efficiency by training each model on each share of
# the data to convergence; so do we. Each run has a budget in passes over *its*
# lines (hundreds over 1 %, a dozen over 100 %), is evaluated on the validation
# lines as it goes, keeps the weights with the best validation macro F1 (the score
# we report) and stops once that has not improved for three evaluations; every run
# must stop so, before its budget ends (asserted), or it was not trained to
# convergence. The recipe is Chapter 8's (batches of 64 lines, the same rate and
# patience, two evaluations a pass), except that a tiny training set is evaluated
# at most every few dozen steps rather than twice in each of its two-batch passes.
# The validation lines are many more than the smallest share's training lines
# (printed below), so the choice of weights is not itself starved of labels. The
# frozen biLM reads every line once (`seqlm.elmo.FrozenBiLM` keeps its layers), so
# that the many runs cost little more than the taggers themselves.

# %%
LABELS, KINDS = punctuation.LABELS, elmo.ElmoInput.KINDS
label_pool = plays.evenly_spaced(punctuation.lines("train"), size["train_lines"])
valid_lines = plays.evenly_spaced(punctuation.lines("valid"), size["valid_lines"])
test_lines = punctuation.lines("test")[:size["eval_lines"]]
print(f"a pool of {len(label_pool):,} labelled lines; 1 % of it is "
      f"{len(punctuation.subset(label_pool, min(size['fractions']))):,} lines, the validation "
      f"set {len(valid_lines):,}, the test set {len(test_lines):,}")


def tag_batches(examples, shuffle=False, seed_=0, keep_order=False):
    return punctuation.batches(examples, table, size["batch_size"] if shuffle else 256, shuffle,
                               seed_, keep_order)


valid_batches, test_batches = tag_batches(valid_lines), tag_batches(test_lines)

# %% [markdown]
# What the smallest share holds. A 1 % draw has only a handful of question and
# exclamation marks, so two of the four classes the macro F1 averages are learned
# from a few examples; and a large share of the test tokens (printed) are of words
# it never saw, whose learned vectors stay where they started (the token and ELMo
# inputs still describe them):

# %%
smallest = min(size["fractions"])
test_words = [w for line in test_lines for w in line.words]
for s in range(size["seeds"][smallest]):
    lines = punctuation.subset(label_pool, smallest, seed=s)
    seen = {w for line in lines for w in line.words}
    marks = punctuation.label_counts(lines)
    print(f"seed {s}: {len(lines)} lines; " + ", ".join(f"{k} {v}" for k, v in marks.items()
                                                       if k != "none")
          + f"; {np.mean([w not in seen for w in test_words]):.0%} of test tokens unseen")


def macro_f1(model, batches_=valid_batches):
    """Macro F1 over the four marks: what models are chosen on and scored by."""
    return metrics.macro_f1(tasks.confusion_matrix(model, batches_, len(LABELS)), exclude=(0,))

# %%
def tagger_run(kind, fraction, s, layer=None):
    """A tagger from seed s on its seed's share of the pool, and how to train it."""
    torch.manual_seed(s)
    inputs = elmo.ElmoInput(kind, table, size["embed_size"], frozen if kind != "learned" else None,
                            layer_norm=True, layer=layer)
    encoder = bilstm.Encoder(inputs, size["hidden_size"], table.pad_id, dropout=size["dropout"])
    model = bilstm.Tagger(encoder, len(LABELS))
    source = tag_batches(punctuation.subset(label_pool, fraction, seed=s), True, s)
    recipe = size["tag_train"].in_passes(len(source), size["passes"][fraction],
                                         min_eval_every=size["min_eval_every"])
    return model, source, valid_batches, recipe.replace(progress=False)


def train_taggers(keys):
    """Train the taggers of `keys` ((kind, fraction, seed[, layer]) each) two at a time;
    their test macro F1 and histories."""
    runs = [tagger_run(*key) for key in keys]
    histories = train.train_all(runs, setup.device, workers=2, score=macro_f1)
    return ({key: macro_f1(run[0], test_batches) for key, run in zip(keys, runs)},
            dict(zip(keys, histories)), {key: run[0] for key, run in zip(keys, runs)})

# %%
keys = [(kind, fraction, s) for fraction in size["fractions"]
        for s in range(size["seeds"][fraction]) for kind in KINDS]
macro, tag_histories, taggers = train_taggers(keys)
for (kind, fraction, s), h in tag_histories.items():
    print(f"{fraction:4.0%} {kind:8s} seed {s}: test {macro[kind, fraction, s]:.3f}, best valid "
          f"{h.best_valid_score:.3f} after {h.best_step} of {h.step[-1]} steps"
          f"{' (stopped early)' if h.stopped_early else ' (budget spent)'}")
if setup.profile != "smoke":
    assert all(h.stopped_early for h in tag_histories.values()), "every run converged"

# %% [markdown]
# Two references a tagger must beat: tagging every word "none" (macro F1 0), and a
# rule anyone could write down, *the last word of every line gets a period*
# (Chapter 8 showed where the stops fall):

# %%
gold = np.concatenate([np.asarray(line.labels) for line in test_lines])
guess = np.concatenate([[0] * (len(line.labels) - 1) + [LABELS.index("period")]
                        for line in test_lines])
rule = metrics.macro_f1(metrics.confusion(gold, guess, len(LABELS)), exclude=(0,))
print(f"the rule 'a period at the end of every line': test macro F1 {rule:.3f}")


def spread(kind, fraction):
    runs = [macro[kind, fraction, s] for s in range(size["seeds"][fraction])]
    return float(np.mean(runs)), min(runs), max(runs)


print(f"{'labels':>14s}" + "".join(f"{kind:>26s}" for kind in KINDS))
for fraction in size["fractions"]:
    lines = len(punctuation.subset(label_pool, fraction))
    print(f"{fraction:>6.0%} ({lines:>5d})" + "".join(
        "{:>12.3f} [{:.3f}, {:.3f}]".format(*spread(kind, fraction)) for kind in KINDS))

# %%
fig, ax = plt.subplots(figsize=(6.5, 4))
for kind, marker in zip(KINDS, "osD"):
    means, lows, highs = zip(*(spread(kind, f) for f in size["fractions"]))
    bars = [np.subtract(means, lows), np.subtract(highs, means)]
    ax.errorbar(size["fractions"], means, yerr=bars, marker=marker, capsize=3, label=kind)
ax.axhline(rule, color="grey", ls=":", label="rule: a period at each line's end")
ax.set(xscale="log", xlabel="fraction of the labelled lines",
       ylabel="test macro F1 (mean; bars: lowest to highest seed)",
       title="Punctuation restoration: pretrained inputs and scarce labels")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The gains, seed by seed (each seed's ELMo tagger against the learned one that
# saw the same lines), in absolute macro F1 and relative to the learned tagger:

# %%
def gains(kind, fraction):
    """Absolute and relative gain of `kind` over learned embeddings, one per seed."""
    pairs = [(macro[kind, fraction, s], macro["learned", fraction, s])
             for s in range(size["seeds"][fraction])]
    return [a - b for a, b in pairs], [a / b - 1 if b > 0 else math.nan for a, b in pairs]


for kind in ("token", "elmo"):
    for fraction in size["fractions"]:
        absolute, relative = gains(kind, fraction)
        print(f"{kind:6s} {fraction:4.0%}: {np.mean(absolute):+.3f} [{min(absolute):+.3f}, "
              f"{max(absolute):+.3f}] absolute, {np.mean(relative):+.0%} [{min(relative):+.0%}, "
              f"{max(relative):+.0%}] relative")

# %% [markdown]
# What the seeds show. ELMo beats the learned embeddings for every seed at every
# share of the labels (asserted). *Relative* to the learned tagger, the gain shrinks
# as labels grow (printed above; asserted: the mean relative gain falls from each
# share to the next). In *absolute* macro F1 it does not shrink: the gains at 1 %
# and at 100 % are within each other's seed ranges (asserted). So "pretraining helps most
# when labels are scarce" holds here in the relative sense, and not in the absolute
# one. The token layer, pretrained but blind to context, adds less than ELMo at
# every share (asserted, on the means): what ELMo adds beyond it is context.
#
# {cite:t}`peters2018deep` put it more strongly (their §5.4): with ELMo, their
# semantic role labeller trained on 1 % of its training set about matched the
# baseline trained on 10 %. Ours does not come near that: the table shows ELMo with
# a tenth of the labels still well below learned embeddings with all of them. Our
# biLM is small and was pretrained for minutes on one author (its sizes are in 9.3);
# ELMo's LSTMs have 4,096 units and read a billion words. The learned tagger at
# 100 % is Chapter 8's bidirectional tagger with the same recipe, trained on fewer
# lines:

# %%
chapter8 = results.metric(setup, "08_bilstm", "punctuation test macro F1, bidirectional × 1")
full_pool = len(plays.evenly_spaced(punctuation.lines("train"),
                                    config.SIZES["08_bilstm"][setup.profile]["train_lines"]))
learned_all = spread("learned", max(size["fractions"]))[0]
print(f"learned, 100 % ({len(label_pool):,} lines): {learned_all:.3f}; "
      + (f"Chapter 8's bidirectional tagger ({full_pool:,} lines): {chapter8:.3f}" if chapter8
         else "Chapter 8's results for this profile are not in _build/results (run it to compare)"))

# %%
fractions = sorted(size["fractions"])
if setup.profile != "smoke":
    for fraction in fractions:
        assert min(gains("elmo", fraction)[0]) > 0, "ELMo ahead for every seed"
    relative = [np.mean(gains("elmo", f)[1]) for f in fractions]
    assert all(a > b for a, b in zip(relative, relative[1:])), "relative gain shrinks"
    low, high = gains("elmo", fractions[0])[0], gains("elmo", fractions[-1])[0]
    assert min(low) <= max(high) and min(high) <= max(low), "absolute gains overlap"
    for fraction in fractions:
        assert spread("elmo", fraction)[0] > spread("token", fraction)[0], "context adds"

# %% [markdown]
# ## 9.8 What the layers hold
#
# **The mixing weights** $\lambda_j$ the ELMo taggers learned with all the labels,
# for each seed:

# %%
top = max(size["fractions"])
for s in range(size["seeds"][top]):
    mix = taggers["elmo", top, s].encoder.embedder.mix
    print(f"seed {s}: " + ", ".join(f"λ_{j} = {w:.2f}" for j, w in enumerate(
        mix.weights().detach().cpu().numpy())) + f";  γ = {mix.gamma.item():.2f}")

# %% [markdown]
# With all the labels every seed's mix leans on the top layer (asserted); $\gamma$,
# printed beside the weights, scales the normalised mixture to what the tagger
# found best.

# %%
if setup.profile != "smoke":
    for s in range(size["seeds"][top]):
        weights = taggers["elmo", top, s].encoder.embedder.mix.weights()
        assert weights.argmax().item() == bilm.num_layers, "the top layer weighs most"

# %% [markdown]
# **Each layer alone.** The tagger again, with 10 % of the labels and the same
# seeds, reading one of the biLM's layers instead of the mixture. Layer 0 alone is
# the token input of 9.7 (the same model, seeds and lines), so only the LSTM layers
# are trained here:

# %%
middle = sorted(size["fractions"])[len(size["fractions"]) // 2]
middle_seeds = range(size["seeds"][middle])
layer_keys = [("elmo", middle, s, j) for s in middle_seeds for j in range(1, bilm.num_layers + 1)]
single = train_taggers(layer_keys)[0]
single |= {("elmo", middle, s, 0): macro["token", middle, s] for s in middle_seeds}
alone = {j: [single["elmo", middle, s, j] for s in middle_seeds]
         for j in range(bilm.num_layers + 1)}
for j, runs in alone.items():
    print(f"{middle:.0%} of the labels, layer {j} alone: macro F1 {np.mean(runs):.3f} "
          f"[{min(runs):.3f}, {max(runs):.3f}]")
print(f"the mix, same seeds: {spread('elmo', middle)[0]:.3f}")

# %% [markdown]
# Peters et al. found the lower LSTM layer best for syntax (parts of speech) and
# the top one for word sense. Punctuation depends on a line's structure, so a
# contextual layer should beat the context-free token layer, and it does for
# every seed (asserted). The mix, which starts from equal weights and learns them
# from the same lines, ends close to the best single layer (printed above).

# %%
if setup.profile != "smoke":
    for s in range(size["seeds"][middle]):
        contextual = max(single["elmo", middle, s, j] for j in range(1, bilm.num_layers + 1))
        assert contextual > single["elmo", middle, s, 0], "a contextual layer beats the token one"

# %% [markdown]
# **One word, several senses.** Shakespeare's "will" is a wish, a testament and
# an auxiliary; "bear" carries, endures, or is the animal; "fair" is beautiful or just;
# "kind" is gentle or a sort. A type-based vector is one point for all of them. We
# run the biLM over a few thousand training lines, keep every token's top-layer
# vector $h_{t,2} = [\overrightarrow{h}_{t,2} ; \overleftarrow{h}_{t,2}]$, and for
# two occurrences of each word (the first, and the one least like it) list the
# nearest tokens by cosine similarity, each with its line.

# %%
pool = punctuation.lines("train")[:size["neighbour_lines"]]
top_layer, static, where = [], [], []
for i, (x, _) in enumerate(tag_batches(pool, keep_order=True)()):
    x = x.to(setup.device)
    layers = frozen.layers(x)
    real = x != table.pad_id
    top_layer.append(layers[-1][real].cpu())
    static.append(layers[0][real].cpu())
    where += [(256 * i + r, t) for r, t in real.nonzero().tolist()]
top_layer = torch.nn.functional.normalize(torch.cat(top_layer), dim=-1)
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
    other = min(found[1:], key=lambda k: (top_layer[k] @ top_layer[first]).item())
    contrast[word] = (top_layer[other] @ top_layer[first]).item()
    for k in (first, other):
        near = (top_layer @ top_layer[k]).argsort(descending=True)
        near = [j for j in near.tolist() if where[j][0] != where[k][0]][:3]
        print(f"{context(k):45s} → " + " | ".join(context(j, 2) for j in near))
    similar = (static @ static[first]).argsort(descending=True).tolist()
    types = list(dict.fromkeys(words[j] for j in similar if words[j] != word))[:6]
    print(f"{'':45s}   static neighbours of '{word}': {', '.join(types)}\n")

# %% [markdown]
# The static neighbours are mostly words that *look* alike: the token layer was
# built from spelling alone, and what it learned beyond spelling (that "will",
# "shall" and "would" do the same job, say) it learned without context, one vector
# per word. The contextual neighbours are tokens in similar
# surroundings, often the same word in the same use; read the lines to judge the
# senses yourself (our biLM is tiny next to ELMo's, and trained on one author).
# What the check below guarantees is only the mechanism: the same word gets
# different vectors in different lines.

# %%
same = [(static[k] @ static[found[0]]).item() for word in contrast
        for found in [[k for k, w in enumerate(words) if w == word]] for k in found[1:]]
print("cosine between a word's two occurrences, top layer: "
      + ", ".join(f"{w} {c:.2f}" for w, c in contrast.items())
      + f"; token layer: {min(same):.2f} at the least")
assert contrast and all(c < 0.99 for c in contrast.values()) and min(same) > 0.9999

# %% [markdown]
# ## 9.9 Where it led
#
# The lectures' table of ELMo's gains {cite:p}`peters2018deep`: on six
# benchmarks, a strong baseline model of the time against the same model with ELMo
# added; with ELMo, each set a new state of the art.
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
# encoder state. Chapter 10 builds both. The **Transformer**
# {cite:p}`vaswani2017attention` kept attention and dropped recurrence, so every
# position is computed at once and training parallelises over the sequence.
# **BERT** {cite:p}`devlin2019bert` then did ELMo's job with a Transformer: instead
# of two one-way language models it predicts masked words from both sides at once,
# and it is fine-tuned whole rather than frozen. The ideas of this course (language
# models as pretraining, gates and residual paths that let gradients travel,
# bidirectional context) are all still inside.

# %% [markdown]
# ## 9.10 Results

# %%
headline = {"unpunctuated test perplexity, ELMo biLM, forward direction": math.exp(ahead),
            "unpunctuated test perplexity, ELMo biLM, backward direction": math.exp(behind),
            "biLM pretraining seconds": bilm_seconds,
            "punctuation test macro F1, rule: a period at each line's end": rule}
for kind in KINDS:
    for fraction in size["fractions"]:
        headline[f"punctuation test macro F1, {kind}, {fraction:.0%} of labels"] = \
            spread(kind, fraction)[0]
headline |= {f"punctuation test macro F1, layer {j} alone, {middle:.0%} of labels": np.mean(runs)
             for j, runs in alone.items()}
path = results.save(setup, headline, timer.seconds)
print(f"{len(headline)} numbers written to {path.name} after {timer.seconds:.1f} s")

# %% [markdown]
# ## Exercises
#
# 1. **Fine-tune instead of freezing.** Let the tagger's gradient reach the biLM
#    (BERT's way, and Dai and Le's). Does it help at 100 % of the labels? At 1 %?
# 2. **Without the layer norm.** Train the ELMo taggers with
#    `ScalarMix(layer_norm=False)`. Which layer do the learned weights favour now?
# 3. **Unseen words.** Find test lines with words outside the vocabulary. Is the
#    ELMo tagger's accuracy on the words next to them better than the learned
#    tagger's?
# 4. **Graded assignment.** Assignment `09_elmo`.
