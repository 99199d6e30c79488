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
#
# **In this chapter you will**
#
# - build the neural language model of Bengio et al. (2003): word feature vectors,
#   a hidden layer, a softmax over the vocabulary;
# - count its parameters against an n-gram model's tables;
# - train it with the book's training loop, and regularise it when it overfits;
# - compare it with Kneser-Ney, and mix the two;
# - look at what the word features learn, and at the limit of a fixed window.

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
import torch

from seqlm import batches, config, data, ffnn, metrics, ngram, results, train, viz

setup = config.setup("02_ffnn", profile, device, seed, results_dir, quiet)
size, timer = setup.size, results.Timer()
print(f"profile {setup.profile}, device {setup.device}")

# %% [markdown]
# ## 2.1 The model
#
# With a context of $n-1$ words, look up each word's feature vector in a table
# $C$ ($|V|$ rows of $m$ numbers) and concatenate them,
#
# $$x = [C(w_{t-n+1}); \dots; C(w_{t-1})] \in \mathbb{R}^{(n-1)m}.$$
#
# A hidden layer of $n_h$ tanh units, an output score per vocabulary word, and a
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
# The model has $|V|m + ((n-1)m + 1)n_h + (n_h+1)|V|$ parameters, plus
# $(n-1)m|V|$ with direct connections. A longer context adds only $m n_h$
# parameters per word (and $m|V|$ with $W$), while the number of distinct
# n-grams an n-gram model must store grows with every order until it nearly
# equals the number of training tokens (Chapter 1).

# %%
corpus = data.load_shakespeare("word")
V, EOS = len(corpus.vocab), corpus.vocab.stoi[data.EOS]
m, n_h = size["model"]["embed_size"], size["model"]["hidden_size"]
for n in range(2, 8):
    plain, direct = (ffnn.parameter_count(V, n - 1, m, n_h, d) for d in (False, True))
    print(f"n={n}: {plain:>10,} parameters, {direct:>11,} with direct connections")
model = ffnn.NeuralLM(V, 2, m, n_h, direct=True)
assert sum(p.numel() for p in model.parameters()) == ffnn.parameter_count(V, 2, m, n_h, True)

# %% [markdown]
# ## 2.3 Training
#
# Every position of the training split is one example: its $n-1$ previous words
# (padded with `<eos>` at the start, as in Chapter 1) and the word itself.
# `seqlm.batches.WindowBatches` shuffles them each epoch, and `seqlm.train.train`
# runs AdamW with gradient clipping, measures validation perplexity as it goes
# and keeps the best weights.
#
# A network this size can memorise 950 000 tokens: trained long enough,
# its validation perplexity stops falling and rises again while the training
# loss keeps dropping. The `full` profile, which trains a wider network with
# direct connections for much longer on a GPU, holds that back in three ways:
# **dropout** {cite}`srivastava2014dropout` (each feature and hidden unit is
# zeroed with probability 0.4 at every training step, so no unit can rely on
# another being there), **weight decay** (every weight shrinks a little at every
# step unless the gradient keeps it), and a **learning rate that decays** along
# half a cosine to zero. Whatever the profile, the weights we keep are those of
# the evaluation with the best validation perplexity.

# %%
train_ids = corpus.ids("train")[:size["train_tokens"]]
valid_ids = corpus.ids("valid")[:size["eval_tokens"]]
test_ids = corpus.ids("test")[:size["eval_tokens"]]
models, histories = {}, {}
for n in size["orders"]:
    torch.manual_seed(seed)
    models[n] = ffnn.NeuralLM(V, n - 1, **size["model"])
    train_batches = batches.WindowBatches(train_ids, n - 1, size["batch_size"], EOS, seed=seed)
    valid_batches = batches.WindowBatches(valid_ids, n - 1, 2048, EOS, shuffle=False)
    histories[n] = train.train(models[n], train_batches, valid_batches, size["train"],
                               setup.device)
    print(f"n={n}: best valid perplexity {histories[n].best_valid_ppl:.1f} "
          f"after {histories[n].best_step} steps ({histories[n].seconds:.0f} s)")

# %%
viz.learning_curves({f"n={n}": hist for n, hist in histories.items()}, "Learning curves")
plt.show()


# %% [markdown]
# Validation perplexity (solid) is measured at each evaluation; the training
# perplexity (dashed) is the running mean over the steps since the evaluation
# before, and a faint vertical line marks the evaluation whose weights are kept.
# How far each model got through the data, and what that means for the claim
# above:

# %%
windows = len(train_ids)
for n, hist in histories.items():
    passes = hist.step[-1] * size["batch_size"] / windows
    rising = hist.valid_loss[-1] > min(hist.valid_loss)
    print(f"n={n}: {hist.step[-1]:,} steps of {size['batch_size']} windows = {passes:.2f} passes "
          f"over the {windows:,} training windows; validation "
          f"{'rose again before the end' if rising else 'was still falling at the end'}")
for hist in histories.values():
    assert hist.best_valid_loss < hist.valid_loss[0] or len(hist.valid_loss) == 1  # it learnt
    assert hist.train_loss[-1] < math.log(V)  # better than a uniform guess
if setup.profile == "cpu":  # less than one pass: nothing memorised yet
    assert all(h.step[-1] * size["batch_size"] < windows for h in histories.values())
    assert all(h.best_step == h.step[-1] for h in histories.values())

# %% [markdown]
# In the `cpu` profile each model sees each training window less than once, so
# it cannot have memorised them: its validation perplexity is still falling when
# training stops, and the weights kept are the last ones. This profile shows the
# start of training, not memorising. The `full` profile trains for about ten
# passes, with dropout, weight decay and the decaying rate against memorising; its
# printout above says whether validation rose again anyway.

# %% [markdown]
# ## 2.4 Against Kneser-Ney
#
# On the Brown corpus (800 000 training words, about our size),
# {cite:t}`bengio2003neural` report a test perplexity of 252 for their best
# network against 312 for the best n-gram model they tried (a class-based
# back-off model): the n-gram's perplexity is about 24 % higher. That best
# network's probabilities were already averaged with those of an interpolated
# trigram model, and the paper notes that this averaging always helped; the
# networks alone came closer to the n-grams. Here are our numbers, for the same
# context sizes, on the same test plays and vocabulary as Chapter 1.

# %%
def token_probs(model, n, ids):
    """The network's probability of every token of ids, in order."""
    windows = batches.WindowBatches(ids, n - 1, 2048, EOS, shuffle=False)
    return torch.exp(-train.token_losses(model, windows, setup.device)).double().numpy()


kn_models = {n: ngram.KneserNey(n, modified=True).fit(train_ids, V, EOS) for n in size["orders"]}
test_probs = {n: (token_probs(models[n], n, test_ids), kn_models[n].prob(test_ids))
              for n in size["orders"]}  # each test token scored once, by both models
neural = {n: metrics.perplexity(p_neural) for n, (p_neural, _) in test_probs.items()}
kneser_ney = {n: metrics.perplexity(p_kn) for n, (_, p_kn) in test_probs.items()}
add_k = {n: ngram.AddK(n, 0.01).fit(train_ids, V, EOS).perplexity(test_ids) for n in size["orders"]}
unigram = ngram.KneserNey(1).fit(train_ids, V, EOS).perplexity(test_ids)
for n in size["orders"]:
    change = neural[n] / kneser_ney[n] - 1
    print(f"n={n}: neural LM {neural[n]:7.1f}   modified Kneser-Ney {kneser_ney[n]:7.1f} "
          f"({change:+.0%})   add-k {add_k[n]:8.1f}")
print(f"unigram: {unigram:.1f}")

# %% [markdown]
# Far ahead of every n-gram model that does not back off cleverly (add-k, the
# unigram), and within a few per cent of modified Kneser-Ney, which needs no
# training at all. Unlike Kneser-Ney, which gained almost nothing beyond
# trigrams in Chapter 1, the network does better with the longer window.

# %%
n_best = max(size["orders"])
if setup.profile != "smoke":
    assert all(neural[n] < add_k[n] for n in size["orders"])
    assert all(neural[n] < unigram for n in size["orders"])
    assert neural[5] < neural[3]  # the longer window helps the network
    assert neural[n_best] < 1.05 * kneser_ney[n_best]  # within 5 % of Kneser-Ney, or better

# %% [markdown]
# ### Mixing the two
#
# The two models make different mistakes. Kneser-Ney is sure of what it has
# counted and knows nothing of similar words; the network generalises across
# similar words and is vaguer about exact phrases it has seen. Averaging their
# probabilities,
#
# $$p_{\text{mix}}(w \mid u) = \lambda\, p_{\text{neural}}(w \mid u) + (1-\lambda)\, p_{\text{KN}}(w \mid u),$$
#
# with one weight $\lambda$ fitted on the validation plays (by the same
# expectation-maximisation step as interpolation in Chapter 1), gives a model
# that is better than either. That is where {cite:t}`bengio2003neural` got their
# best numbers too: their best networks are averaged with a trigram model.

# %%
mixed = {}
for n in size["orders"]:
    weight = metrics.tune_mixture(token_probs(models[n], n, valid_ids),
                                  kn_models[n].prob(valid_ids))
    p_neural, p_kn = test_probs[n]
    p_mix = weight * p_neural + (1 - weight) * p_kn
    mixed[n] = metrics.perplexity(p_mix)
    print(f"n={n}: λ = {weight:.2f}   mixture {mixed[n]:6.1f}   neural LM {neural[n]:6.1f}   "
          f"modified Kneser-Ney {kneser_ney[n]:6.1f}")
if setup.profile != "smoke":
    for n in size["orders"]:  # better than both parts, by at least 5 %
        assert mixed[n] < 0.95 * min(neural[n], kneser_ney[n])

# %% [markdown]
# ## 2.5 What the features learn
#
# Every feature vector starts small and random, and a word's vector only moves
# when that word is in a context, so after training the frequent words have
# travelled much further from their start than the rare ones. (The model was
# built from a seed, so building it again gives back its starting features.)

# %%
torch.manual_seed(seed)
start = ffnn.NeuralLM(V, n_best - 1, **size["model"]).C.weight.detach()
features = models[n_best].C.weight.detach().cpu()
moved = (features - start).norm(dim=1)  # the vocabulary is sorted by count after <unk>, <eos>
frequent_moved, rare_moved = moved[2:1002].mean().item(), moved[-3000:].mean().item()
print(f"distance travelled: 1,000 most frequent words {frequent_moved:.3f}, "
      f"3,000 rarest {rare_moved:.3f} (a feature vector starts with length about "
      f"{start.norm(dim=1).mean():.2f})")
if setup.profile != "smoke":
    assert frequent_moved > 2 * rare_moved

# %% [markdown]
# Words whose feature vectors point the same way are used alike. Here are the
# nearest neighbours by cosine similarity of a few words, among the 2 000 most
# frequent; the number words find each other.

# %%
for word in ("king", "lord", "love", "night", "thou", "three"):
    near = ffnn.nearest_words(features, corpus.vocab.stoi[word], k=6, among=2000)
    print(f"{word:>6s}: " + ", ".join(f"{corpus.vocab.itos[i]} {s:.2f}" for i, s in near))
numbers = {"one", "two", "four", "five", "six", "seven", "eight", "nine", "ten", "twenty",
           "hundred", "thousand", "twelve", "eleven"}
near_three = {corpus.vocab.itos[i] for i, _ in
              ffnn.nearest_words(features, corpus.vocab.stoi["three"], k=6, among=2000)}
print("number words among the neighbours of 'three':", sorted(near_three & numbers))
if setup.profile != "smoke":
    assert len(near_three & numbers) >= 2

# %% [markdown]
# The same table seen from afar: chosen words of five kinds placed by the two
# principal directions of the feature table (the 2 000 most frequent words in
# grey behind them).

# %%
groups = {"numbers": ["two", "three", "four", "five", "ten", "hundred"],
          "people": ["king", "queen", "lord", "lady", "duke", "prince", "father", "mother"],
          "pronouns": ["i", "you", "he", "she", "we", "they", "thou", "thee"],
          "verbs": ["is", "was", "be", "are", "have", "hath", "doth", "did"],
          "time": ["night", "day", "morning", "hour", "time", "year"]}
points = ffnn.project_2d(features)
viz.word_map(points, corpus.vocab, groups, background=range(2, 2002),
             title="Word features, first two principal components")
plt.show()

# %% [markdown]
# ## 2.6 The limit: a fixed window
#
# The network sees exactly $n-1$ words. Change a word further back and the
# prediction cannot change: its gradient with respect to anything outside
# the window is zero because it is not an input at all. The window has two
# more weaknesses. Each position has its own weights (the columns of $H$ that
# read position 1 are not those that read position 2), so what the model learns
# about a word in one position does not carry over to another, and every extra
# word of context adds $m\,n_h$ parameters. And nothing in it knows that the
# positions follow each other in time: it is a bag of slots. The next chapter's
# recurrent network removes all three limits by reading one word at a time with
# the same weights and carrying a state along the sequence.

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
# The feature vectors are also the first **word embeddings** of the book, and
# they are *type-based*: one vector per word type, whatever the sentence. The
# *will* of "I will go" and the *will* of "his last will" share one vector, which
# has to serve both. Chapters 3 to 8 keep such a table as the first layer of
# every model; Chapter 9 replaces it by vectors computed for each token from its
# whole sentence (ELMo's *contextual*, token-based representations).

# %% [markdown]
# ## 2.7 Results

# %%
headline = {f"word test perplexity, neural LM, n={n}": neural[n] for n in size["orders"]}
headline |= {f"word test perplexity, neural LM mixed with modified Kneser-Ney, n={n}": mixed[n]
             for n in size["orders"]}
headline |= {f"training seconds, n={n}": histories[n].seconds for n in size["orders"]}
path = results.save(setup, headline, timer.seconds)
print(f"{len(headline)} numbers written to {path.name} after {timer.seconds:.1f} s")

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
# 4. **The starting scale.** Start the features at `nn.Embedding`'s default
#    N(0, 1) instead of N(0, 0.05²) and train again. What happens to the test
#    perplexity, and to the neighbours of "three"? Why does a word that is seen
#    rarely keep most of its starting vector?
# 5. **Graded assignment.** Implement the forward pass $y = b + Wx + U\tanh(d + Hx)$
#    from the weights of a trained `NeuralLM` (assignment `02_ffnn`).
