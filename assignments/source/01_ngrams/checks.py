"""Assignment 1's checks: cases drawn per grading run, references from seqlm.ngram.

Each part asks about small random corpora (some words never seen, some
histories never seen) and about the first 30 000 Shakespeare tokens that the
notebook uses, with smoothing constants drawn per run.
"""

from functools import lru_cache

from grading.checks import Case, Raises, part
from seqlm import exercises, metrics, ngram

SHAKESPEARE = 30_000
WORDS = "a b c d e f g h".split()


@lru_cache(maxsize=1)
def shakespeare():
    return exercises.shakespeare_bigrams(SHAKESPEARE)


def corpora(rng):
    """Two random toy corpora and the Shakespeare one: (args naming it, tokens, counts, name)."""
    out = []
    for _ in range(2):
        words = rng.sample(WORDS, rng.randint(3, 6))
        tokens = [rng.choice(words[:-1] + ["<eos>"]) for _ in range(rng.randint(8, 25))]
        vocab = ["<unk>", "<eos>"] + words        # <unk> and words[-1] never occur
        name = f"counts of {' '.join(tokens[:6])} … ({len(tokens)} tokens, |V| = {len(vocab)})"
        out.append(({"tokens": tokens, "vocab": vocab}, tokens,
                    exercises.bigram_counts(tokens, vocab), name))
    tokens, counts = shakespeare()
    out.append(({"shakespeare": SHAKESPEARE}, tokens, counts, "the Shakespeare counts"))
    return out


def questions(rng, tokens, counts, n=5):
    """(word, history) pairs: seen bigrams, unseen words, a history never seen."""
    i = [rng.randrange(len(tokens) - 1) for _ in range(2)]
    seen = [(tokens[j + 1], tokens[j]) for j in i]
    unseen_history = rng.choice([w for w in counts.vocab if counts.histories[w] == 0])
    pairs = seen + [(rng.choice(counts.vocab), rng.choice(tokens)),
                    (rng.choice(tokens), unseen_history),
                    (rng.choice(counts.vocab), rng.choice(counts.vocab))]
    return pairs[:n]


def kn_cases(rng, model_of, call):
    cases = []
    for spec, tokens, counts, what in corpora(rng):
        for _ in range(2):
            d = round(rng.uniform(0.05, 0.95), 3)
            model = exercises.fit_reference(model_of(d), tokens, counts)
            for word, history in questions(rng, tokens, counts):
                want = exercises.reference_probability(model, counts, word, history)
                cases.append(Case({**spec, "word": word, "history": history, "discount": d}, want,
                                  call(word, history, what, d)))
    return cases


@part("test_add_k", rtol=1e-9, atol=1e-15)
def add_k(rng):
    cases = []
    for spec, tokens, counts, what in corpora(rng):
        for _ in range(2):
            k = round(10 ** rng.uniform(-3, 0.3), 4)
            model = exercises.fit_reference(ngram.AddK(2, k), tokens, counts)
            for word, history in questions(rng, tokens, counts):
                want = exercises.reference_probability(model, counts, word, history)
                cases.append(Case({**spec, "word": word, "history": history, "k": k}, want,
                                  f"add_k({word!r}, {history!r}, {what}, k={k})"))
    return cases


@part("test_continuation", rtol=1e-9, atol=1e-15)
def continuation(rng):
    """p_cont is what Kneser-Ney gives after a history never seen (no bigram discount)."""
    cases = []
    for spec, tokens, counts, what in corpora(rng):
        d = round(rng.uniform(0.05, 0.95), 3)
        model = exercises.fit_reference(ngram.KneserNey(2, discount=[d, 0.0]), tokens, counts)
        unseen = next(w for w in counts.vocab if counts.histories[w] == 0)
        for word, _ in questions(rng, tokens, counts):
            want = exercises.reference_probability(model, counts, word, unseen)
            cases.append(Case({**spec, "word": word, "discount": d}, want,
                              f"continuation({word!r}, {what}, D={d})"))
    return cases


@part("test_kneser_ney", rtol=1e-9, atol=1e-15)
def kneser_ney(rng):
    return kn_cases(rng, lambda d: ngram.KneserNey(2, discount=d),
                    lambda w, h, what, d: f"kneser_ney({w!r}, {h!r}, {what}, D={d})")


@part("test_perplexity", rtol=1e-9)
def perplexity(rng):
    lists = [[round(rng.uniform(0.001, 1), 6) for _ in range(rng.randint(1, 30))] for _ in range(4)]
    tiny = [10 ** -rng.uniform(4, 8)] * rng.randint(100, 200)      # a product that underflows
    with_zero = [rng.uniform(0.1, 1) for _ in range(5)] + [0.0]
    cases = [Case({"probabilities": p}, metrics.perplexity(p), f"perplexity({_show(p)})")
             for p in lists + [tiny, with_zero]]
    return cases + [Case({"probabilities": []}, Raises(ValueError), "perplexity([])")]


def _show(p):
    return repr(p) if len(p) <= 4 else f"[{p[0]:.3g}, {p[1]:.3g}, … {len(p)} probabilities]"
