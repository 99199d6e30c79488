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
import torch

from seqlm import batches, config, data, ffnn, ngram, results, train, viz

setup = config.setup("02_ffnn", profile, device, seed, results_dir, quiet)
size, timer = setup.size, results.Timer()
print(f"profile {setup.profile}, device {setup.device}")

# %% [markdown]
# # 2. The neural probabilistic language model
#
# To an n-gram model every word is an atom: having seen "the king is dead"
# teaches it nothing about "the queen is dead", because "king" and "queen"
# share no more than "king" and "spoon". {cite:t}`bengio2003neural` proposed to
# give every word a learned **feature vector** and to compute the next-word
# probability with a neural network that is smooth in those features. Words
# that appear in similar contexts get similar vectors, and what is learnt about
# one then carries over to the others. This is the first neural language model
# of the book, and the first place where words become vectors.

# %% [markdown]
# ## 2.1 The model
#
# With a context of $n-1$ words, look up each word's feature vector in a table
# $C$ ($|V|$ rows of $m$ numbers) and concatenate them,
#
# $$x = [C(w_{t-n+1}); \dots; C(w_{t-1})] \in \mathbb{R}^{(n-1)m}.$$
#
# A hidden layer of $h$ tanh units, an output score per vocabulary word, and a
# softmax give the distribution of the next word:
#
# $$y = b + W x + U \tanh(d + H x), \qquad p(w_t = i \mid \text{context}) = \frac{e^{y_i}}{\sum_j e^{y_j}}.$$
#
# $W$ is the paper's optional **direct connection** from the features to the
# output. Everything, $C$ included, is trained together by gradient descent on
# the cross-entropy, so the features are whatever helps prediction.
# `seqlm.ffnn.NeuralLM` uses the paper's names for its parameters, and its
# forward pass is the equation above (a unit test checks it against the
# equation written out by hand):

# %%
viz.show_source(ffnn.NeuralLM.forward)

# %% [markdown]
# ## 2.2 Parameters grow linearly with n
#
# The model has $|V|m + ((n-1)m + 1)h + (h+1)|V|$ parameters, plus
# $(n-1)m|V|$ with direct connections. A longer context adds only $m h$
# parameters per word (and $m|V|$ with $W$), while the number of distinct
# n-grams an n-gram model must store grows with every order until it nearly
# equals the number of training tokens (Chapter 1).

# %%
corpus = data.load_shakespeare("word")
V, EOS = len(corpus.vocab), corpus.vocab.stoi[data.EOS]
m, h = size["embed_size"], size["hidden_size"]
for n in range(2, 8):
    plain, direct = (ffnn.parameter_count(V, n - 1, m, h, d) for d in (False, True))
    print(f"n={n}: {plain:>10,} parameters, {direct:>11,} with direct connections")
model = ffnn.NeuralLM(V, 2, m, h, direct=True)
assert sum(p.numel() for p in model.parameters()) == ffnn.parameter_count(V, 2, m, h, True)

# %% [markdown]
# ## 2.3 Training
#
# Every position of the training split is one example: its $n-1$ previous words
# (padded with `<eos>` at the start, as in Chapter 1) and the word itself.
# `seqlm.batches.WindowBatches` shuffles them each epoch, and `seqlm.train.train`
# runs AdamW with gradient clipping, measures validation perplexity as it goes
# and keeps the best weights.

# %%
train_ids = corpus.ids("train")[:size["train_tokens"]]
valid_ids = corpus.ids("valid")[:size["eval_tokens"]]
test_ids = corpus.ids("test")[:size["eval_tokens"]]
models, histories = {}, {}
for n in size["orders"]:
    torch.manual_seed(seed)
    models[n] = ffnn.NeuralLM(V, n - 1, m, h, direct=size["direct"])
    train_batches = batches.WindowBatches(train_ids, n - 1, size["batch_size"], EOS, seed=seed)
    valid_batches = batches.WindowBatches(valid_ids, n - 1, 2048, EOS, shuffle=False)
    histories[n] = train.train(models[n], train_batches, valid_batches, size["train"],
                               setup.device)
    print(f"n={n}: best valid perplexity {histories[n].best_valid_ppl:.1f} "
          f"after {histories[n].best_step} steps ({histories[n].seconds:.0f} s)")

# %%
viz.learning_curves({f"n={n}": hist for n, hist in histories.items()}, "Learning curves")
plt.show()
assert all(hist.valid_loss[-1] < hist.valid_loss[0] or len(hist.valid_loss) == 1
           for hist in histories.values())
assert all(hist.train_loss[-1] < math.log(V) for hist in histories.values())

# %% [markdown]
# ## 2.4 Against Kneser-Ney
#
# {cite:t}`bengio2003neural` report test perplexities on the Brown corpus
# (800 000 training words) about 24 % below the best smoothed n-gram model,
# and better still when the two are mixed. Our training text is about the
# same size. Here are our numbers for the same context size, on the same test
# plays and vocabulary as Chapter 1, whatever they turn out to be. The
# `cpu` profile trains each network for about a minute; the `full` profile,
# on a GPU, trains ten times longer and larger.

# %%
def test_perplexity(model, n):
    test_batches = batches.WindowBatches(test_ids, n - 1, 2048, EOS, shuffle=False)
    return math.exp(train.evaluate(model, test_batches, setup.device))


neural = {n: test_perplexity(models[n], n) for n in size["orders"]}
kneser_ney = {n: ngram.KneserNey(n, modified=True).fit(train_ids, V, EOS).perplexity(test_ids)
              for n in size["orders"]}
add_k = {n: ngram.AddK(n, 0.01).fit(train_ids, V, EOS).perplexity(test_ids) for n in size["orders"]}
unigram = ngram.KneserNey(1).fit(train_ids, V, EOS).perplexity(test_ids)
for n in size["orders"]:
    change = neural[n] / kneser_ney[n] - 1
    print(f"n={n}: neural LM {neural[n]:7.1f}   modified Kneser-Ney {kneser_ney[n]:7.1f} "
          f"({change:+.0%})   add-k {add_k[n]:8.1f}")
print(f"unigram: {unigram:.1f}")

# %% [markdown]
# On the `cpu` profile, a minute of training per network on two cores is far
# ahead of every n-gram model that does not back off cleverly (add-k, the
# unigram) and within a few per cent of modified Kneser-Ney, which needs no
# training at all. Unlike Kneser-Ney, which gained almost nothing beyond
# trigrams in Chapter 1, the network does better with the longer window. The
# checks below hold on the `cpu` and `full` profiles; the comparison with
# Kneser-Ney is printed, not asserted, because it is what the chapter
# measures rather than what it claims.

# %%
if setup.profile != "smoke":
    assert all(neural[n] < add_k[n] for n in size["orders"])
    assert all(neural[n] < unigram for n in size["orders"])
    assert neural[5] < neural[3]  # the longer window helps the network

# %% [markdown]
# ## 2.5 What the features learn
#
# Words whose feature vectors point the same way are used alike. Every vector
# starts small and random, and a word's vector only moves when that word is in
# a context, so after a short training only the frequent words have travelled
# far from their start. (Start the features at `nn.Embedding`'s default scale,
# ten times larger, and the random start drowns what is learnt: the neighbours
# below become noise and test perplexity gets worse.) We look among the 2 000
# most frequent words: the nearest neighbours of a few of them by cosine
# similarity, and the 300 most frequent words on the two principal directions
# of the feature table.

# %%
n_best = max(size["orders"])
features = models[n_best].C.weight.detach().cpu()
for word in ("king", "lord", "love", "night", "thou", "three"):
    near = ffnn.nearest_words(features, corpus.vocab.stoi[word], k=6, among=2000)
    print(f"{word:>6s}: " + ", ".join(f"{corpus.vocab.itos[i]} {s:.2f}" for i, s in near))

# %%
points = ffnn.project_2d(features)
frequent = list(range(2, 302))  # after <unk> and <eos>, the vocabulary is sorted by count
fig, ax = plt.subplots(figsize=(9, 9))
ax.scatter(points[frequent, 0], points[frequent, 1], s=4, color="lightgrey")
for i in frequent[::3]:
    ax.annotate(corpus.vocab.itos[i], points[i].tolist(), fontsize=7)
ax.set(title="Word features, first two principal components", xticks=[], yticks=[])
plt.show()

# %% [markdown]
# ## 2.6 The limit: a fixed window
#
# The network sees exactly $n-1$ words. Change a word further back and the
# prediction cannot change: its gradient with respect to anything outside
# the window is zero because it is not an input at all. The next chapter's
# recurrent network removes this limit by carrying a state along the sequence.

# %%
n_small = min(size["orders"])
line = corpus.vocab.encode("i know not , my good lord , what you".split())
far_changed = line.copy()
far_changed[-n_small] = corpus.vocab.stoi["king"]       # one word outside the window
near_changed = line.copy()
near_changed[-1] = corpus.vocab.stoi["king"]             # the last word, inside it
window = lambda ids: torch.tensor(ids[-(n_small - 1):]).unsqueeze(0).to(setup.device)
with torch.no_grad():
    base, far, near = (models[n_small](window(x))[0] for x in (line, far_changed, near_changed))
print("outside the window:", torch.equal(base, far), "  inside:", torch.equal(base, near))
assert torch.equal(base, far) and not torch.equal(base, near)

# %% [markdown]
# ## 2.7 Results

# %%
headline = {f"word test perplexity, neural LM, n={n}": neural[n] for n in size["orders"]}
headline |= {f"training seconds, n={n}": histories[n].seconds for n in size["orders"]}
path = results.save(setup, headline, timer.seconds)
print(f"{len(headline)} numbers written to {path} after {timer.seconds:.1f} s")

# %% [markdown]
# ## Exercises
#
# 1. **Direct connections.** Train the $n = 3$ model with and without $W$
#    for the same number of steps. Which is better, and what does $W$ cost in
#    parameters?
# 2. **Mixing.** Bengio et al. also average the network's probabilities with
#    the n-gram model's. Compute the test perplexity of
#    $\tfrac12 p_{\text{neural}} + \tfrac12 p_{\text{KN}}$ for $n = 3$.
#    Why can a mixture beat both of its parts?
# 3. **Features.** Find two words whose feature vectors are close but which
#    mean different things. What do their contexts have in common?
# 4. **Graded assignment.** Implement the forward pass $y = b + Wx + U\tanh(d + Hx)$
#    from the weights of a trained `NeuralLM` (assignment `02_ffnn`).
