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
# teaches it nothing about *queen* in that place (only the shared "is dead" is
# of any help to it), because "king" and "queen" share no more than "king" and
# "spoon". {cite:t}`bengio2003neural` proposed to
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
# (The paper puts the newest word first, $[C(w_{t-1}); \dots; C(w_{t-n+1})]$; we
# keep the words in reading order. Which block comes first changes nothing the
# network can compute.) A hidden layer of $n_h$ tanh units, an output score per
# vocabulary word, and a softmax give the distribution of the next word:
#
# $$y = b + W x + U \tanh(d + H x), \qquad p(w_t = w \mid \text{context}) = \frac{e^{y_w}}{\sum_{w'} e^{y_{w'}}}.$$
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
# A network this size has more parameters than there are training tokens
# (about 2.1 million in the `cpu` profile, printed above, for 950 000 tokens),
# enough to memorise much of its training text: trained for many passes with
# nothing to hold it back, a network like this one eventually sees its validation
# perplexity stop falling and rise again while its training loss keeps dropping.
# The `cpu` profile stops long before that (see below; Exercise 5 lets you provoke
# it). The `full` profile, which trains a wider network with direct connections for
# much longer on a GPU, holds it back in three ways:
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
measured = min(size["train"].eval_batches or len(valid_batches), len(valid_batches))
print(f"(valid perplexity during training: the first {measured} of the {len(valid_batches)} "
      f"batches of 2,048 validation windows)")

# %%
viz.learning_curves({f"n={n}": hist for n, hist in histories.items()}, "Learning curves")
plt.show()


# %% [markdown]
# Validation perplexity (solid) is measured at each evaluation; the training
# perplexity (dashed) is the running mean over the steps since the evaluation
# before, and a faint vertical line marks the evaluation whose weights are kept.
# With dropout on (the `full` profile) the dashed curve is measured with units
# dropped and the solid one without, so the training curve can sit *above* the
# validation curve: it is not the training loss of the network we keep.
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
# {cite:t}`bengio2003neural` report (their Table 1) a test perplexity of 252 for
# their best network against 312 for the best n-gram model they tried (a
# class-based back-off model): the n-gram's perplexity is about 24 % higher. That
# best network's probabilities were averaged, half and half, with those of an
# interpolated trigram model, and the paper notes that this averaging always
# helped. Their networks alone were still ahead of every n-gram model: 268 and 276
# for the two best unmixed ones, against 312 for the class-based model and 321 for
# modified Kneser-Ney back-off. Here are our numbers, for the same context sizes,
# on the same test plays and vocabulary as Chapter 1, with add-k's $k$ tuned on
# valid as there.

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
add_k = {n: ngram.best_add_k(n, train_ids, valid_ids, V, EOS).perplexity(test_ids)
         for n in size["orders"]}
unigram = ngram.KneserNey(1).fit(train_ids, V, EOS).perplexity(test_ids)
for n in size["orders"]:
    change = neural[n] / kneser_ney[n] - 1
    print(f"n={n}: neural LM {neural[n]:7.1f}   modified Kneser-Ney {kneser_ney[n]:7.1f} "
          f"({change:+.0%})   add-k {add_k[n]:8.1f}")
print(f"unigram: {unigram:.1f}")

# %% [markdown]
# Far ahead of every n-gram model that does not back off cleverly (add-k, the
# unigram), and, with the longer window, within 5 % of modified Kneser-Ney or
# better (asserted; the shorter window's gap is printed above), against a model that
# needs no training at all. Unlike Kneser-Ney, which gained almost nothing beyond
# trigrams in Chapter 1, the network does better with the longer window.
#
# Compare our networks alone with modified Kneser-Ney in the printout above: the
# best n-gram's perplexity was 13 to 16 % above that of Bengio et al.'s unmixed
# networks. Three things differ. Training:
# theirs ran 10 to 20 passes over Brown, stopped early on validation, while the
# `cpu` profile stops within the first pass (section 2.3) and `full` runs about
# ten. The baseline: ours is *interpolated* modified Kneser-Ney (Chapter 1), which
# {cite:t}`chen1998empirical` found better than the back-off version that Bengio
# et al. compared with. And the text: Brown is varied prose, ours is verse and
# dialogue by one author, whose exact phrases recur and suit a counting model.

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
# with one weight $\lambda$ fitted on the validation plays by
# expectation-maximisation, as the interpolation weights of Chapter 1 (with two
# models that are both defined everywhere, the update is simply: set $\lambda$ to the
# network's average share of each validation token's probability), gives a model
# that is better than either. That is where {cite:t}`bengio2003neural` got their
# best numbers too: their best networks are averaged with an interpolated trigram
# model (with a fixed weight of one half in their Table 1).

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
# Every feature vector starts small and random, and a word's vector gets a
# gradient only from the windows that contain the word. Under plain stochastic
# gradient descent, Bengio et al.'s optimiser, each of those gradients moves it by
# the learning rate times the gradient, so the frequent words would travel much
# further than the rare ones. We train with AdamW, and Adam {cite}`kingma2015adam`
# changes that: it divides each parameter's step by the root of a running mean of
# that parameter's squared gradients, a mean that forgets only 0.1 % of itself per
# step. A row that has had a single gradient $g$ has, once training is under way, a
# running mean of about $0.001\,g^2$, so that one gradient, however small, becomes a step of about $0.1 / \sqrt{0.001}
# \approx 3$ times the learning rate in each coordinate, and momentum keeps the row
# moving for a few dozen steps more: in all, about $\eta / \sqrt{0.001} \approx 32\,\eta$
# per coordinate, $32\,\eta \sqrt{m}$ for the whole row. A word seen a handful of
# times should then travel nearly as far as one seen thousands of times. The
# distances, by how often each word occurs in training (the model was built from a
# seed, so building it again gives back its starting features):

# %%
torch.manual_seed(seed)
start = ffnn.NeuralLM(V, n_best - 1, **size["model"]).C.weight.detach()
features = models[n_best].C.weight.detach().cpu()
moved = (features - start).norm(dim=1)
seen = torch.bincount(torch.as_tensor(train_ids), minlength=V)  # training count of each word
bands = {"3 or 4": (3, 5), "5 to 99": (5, 100), "100 to 999": (100, 1000),
         "1,000 or more": (1000, len(train_ids) + 1)}
travelled = {}
for name, (low, high) in bands.items():
    band = (seen >= low) & (seen < high)
    if band.any():
        travelled[name] = moved[band].mean().item()
        print(f"words seen {name:>13s} times ({band.sum():5,} words): moved {travelled[name]:.3f}")
forgetting = 1 - torch.optim.AdamW([torch.zeros(1)]).defaults["betas"][1]   # 0.001
one_gradient = size["train"].lr * math.sqrt(m / forgetting)
print(f"a feature vector starts with length about {start.norm(dim=1).mean():.2f}; "
      f"one gradient alone moves it about {one_gradient:.2f} (at the peak learning rate)")
if setup.profile == "cpu":  # AdamW: a rare word travels nearly as far as a frequent one
    rare_moved, frequent_moved = travelled["3 or 4"], travelled["1,000 or more"]
    assert rare_moved > 0.5 * frequent_moved
    assert rare_moved > one_gradient

# %% [markdown]
# In the `cpu` run the words seen only 3 or 4 times travel more than half as far
# as those seen a thousand times or more, and further than one gradient alone
# would carry them (both asserted). The `full` profile, which trains about ten
# passes with weight decay pulling every row back towards zero, prints its own
# distances above.
#
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
# more weaknesses. The feature table $C$ is shared by every position, so what
# the model learns about a *word* (that *queen* is used like *king*) holds
# wherever it stands; but the hidden layer reads each position with its own
# columns of $H$, so what it learns about a *pattern* in one position ("a number
# word just before predicts a plural noun") must be learnt again, from other
# examples, for every other position ("two good men"), and every extra word of
# context adds $m\,n_h$ parameters to $H$. And nothing in the layer says that
# position 2 follows position 1: the positions are separate inputs, related
# only by what training teaches $H$. The next chapter's recurrent network
# removes all three limits by reading one word at a time with the same weights
# and carrying a state along the sequence.

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
#    perplexity, and to the neighbours of "three"? Compare how far the features
#    travel (section 2.5) with the length they start at: how much of the starting
#    noise is left, and whose features can least afford it?
# 5. **Memorising.** Train the $n = 3$ model of the `cpu` profile on the first
#    20 000 training tokens only, for 20 passes, evaluating every pass. When does
#    the validation perplexity stop falling, and what does the training loss do
#    after that? Add dropout (`dropout=0.4`): what changes?
# 6. **Graded assignment.** Implement the forward pass $y = b + Wx + U\tanh(d + Hx)$
#    from the weights of a trained `NeuralLM` (assignment `02_ffnn`).
