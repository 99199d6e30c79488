"""One results format for the whole book: ``_build/results/<chapter>.json``.

``{"chapter", "profile", "device", "metrics": {name: value}, "seconds"}``;
the book's results page is rendered from these files.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from seqlm.config import Setup, resolve_results_dir
from seqlm.files import write_text_atomically


def _number(value):
    value = float(value)
    return None if math.isnan(value) else ("inf" if math.isinf(value) else value)


def save(setup: Setup, metrics: dict, seconds: float) -> Path:
    """Write a chapter's headline numbers to ``setup.results_dir/<chapter>.json``;
    infinities are stored as the string ``"inf"``."""
    if not metrics:
        raise ValueError("a results file needs at least one metric")
    record = {"chapter": setup.chapter, "profile": setup.profile, "device": str(setup.device),
              "metrics": {str(k): _number(v) for k, v in metrics.items()},
              "seconds": round(float(seconds), 2)}
    return write_text_atomically(Path(setup.results_dir) / f"{setup.chapter}.json",
                                 json.dumps(record, indent=2) + "\n")


def load_all(directory: Path | None = None) -> list[dict]:
    """Every results file, sorted by chapter."""
    directory = resolve_results_dir(directory)
    return [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]


class Timer:
    """Wall-clock seconds since creation: ``timer = Timer(); …; timer.seconds``."""

    def __init__(self):
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start


def _cell(value) -> str:
    if value is None:
        return "—"
    if value == "inf":
        return "∞"
    return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"


LEADERBOARD_PREFIX = "word test perplexity, "


def leaderboard(records: list[dict]) -> list[tuple[float, str, str, str]]:
    """Every word-level test perplexity of every chapter, best first:
    (perplexity, model, chapter, profile); infinite ones last."""
    rows = []
    for r in records:
        for name, value in r["metrics"].items():
            if name.startswith(LEADERBOARD_PREFIX) and value is not None:
                number = math.inf if value == "inf" else float(value)
                rows.append((number, name[len(LEADERBOARD_PREFIX):], r["chapter"], r["profile"]))
    return sorted(rows)


def render_markdown(records: list[dict]) -> str:
    """The results page: the word-level leaderboard, then one section per chapter."""
    if not records:
        return "No chapter has been run yet: `make book` writes the results.\n"
    parts = ["## Word-level test perplexity, every model\n",
             "| rank | model | perplexity | chapter | profile |", "| ---: | --- | ---: | --- | --- |"]
    parts += [f"| {i} | {model} | {_cell('inf' if math.isinf(v) else v)} | {chapter} | `{profile}` |"
              for i, (v, model, chapter, profile) in enumerate(leaderboard(records), start=1)]
    parts.append("")
    for r in records:
        parts.append(f"## {r['chapter']}\n\nprofile `{r['profile']}` on `{r['device']}`, "
                     f"{r['seconds']:.0f} s\n\n| metric | value |\n| --- | ---: |")
        parts.extend(f"| {name} | {_cell(v)} |" for name, v in r["metrics"].items())
        parts.append("")
    return "\n".join(parts) + "\n"
