"""What reading each line once buys Chapter 9: a tagger's inputs from the frozen biLM,
looked up (``seqlm.elmo.FrozenBiLM``'s kept layers) against computed afresh every time.

    python bench/bench_elmo_features.py [--lines 2000] [--epochs 3] [--size 128]

Builds the cpu profile's biLM (untrained: the cost does not depend on the weights) and
feeds ``--epochs`` passes over ``--lines`` labelled lines, in the tagger's batches, to the
ELMo input of a tagger, once with a FrozenBiLM that keeps every line's layers and once
with one that keeps nothing (``cache_bytes=0``). The two must give the same vectors;
prints the seconds of each and their ratio.
"""

import argparse
import time

import torch

from seqlm import data, elmo, punctuation, tokens


def feed(inputs, source, epochs):
    """Seconds to compute the inputs of every batch of `epochs` passes; the last output."""
    start = time.perf_counter()
    with torch.no_grad():
        for epoch in range(epochs):
            for x, _ in source(epoch):
                out = inputs(x)
    return time.perf_counter() - start, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--size", type=int, default=128)
    args = parser.parse_args()
    corpus, table = data.load_shakespeare("word"), tokens.plays_table()
    torch.manual_seed(0)
    bilm = elmo.BiLM(table, torch.ones(len(corpus.vocab)), args.size)
    eos = corpus.vocab.stoi[data.EOS]
    source = punctuation.batches(punctuation.lines("train")[:args.lines], table, 32, shuffle=True)
    seconds = {}
    for name, cache_bytes in (("kept", 2 << 30), ("recomputed", 0)):
        torch.manual_seed(0)
        inputs = elmo.ElmoInput("elmo", table, 64, elmo.FrozenBiLM(bilm, eos, cache_bytes))
        seconds[name], out = feed(inputs.eval(), source, args.epochs)
        if name == "kept":
            kept = out
    assert torch.allclose(out, kept, atol=1e-5), "kept and recomputed layers differ"
    print(f"ELMo inputs for {args.epochs} passes over {args.lines} lines: layers kept "
          f"{seconds['kept']:.2f} s, recomputed {seconds['recomputed']:.2f} s; "
          f"{seconds['recomputed'] / seconds['kept']:.1f}× faster kept")


if __name__ == "__main__":
    main()
