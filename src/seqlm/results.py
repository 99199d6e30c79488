"""One results format for the whole book: ``_build/results/<chapter>.json``.

``{"chapter", "profile", "device", "metrics": {name: value}, "seconds"}``;
the book's results page is rendered from these files.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

from seqlm.config import project_root


def results_dir() -> Path:
    """``$SEQLM_RESULTS``, else ``_build/results`` under the repository (or working directory)."""
    env = os.environ.get("SEQLM_RESULTS")
    return Path(env) if env else project_root() / "_build" / "results"


def _number(value):
    value = float(value)
    return None if math.isnan(value) else ("inf" if math.isinf(value) else value)


def save(chapter: str, profile: str, device, metrics: dict, seconds: float,
         directory: Path | None = None) -> Path:
    """Write a chapter's headline numbers; infinities are stored as the string ``"inf"``."""
    if not metrics:
        raise ValueError("a results file needs at least one metric")
    record = {"chapter": chapter, "profile": profile, "device": str(device),
              "metrics": {str(k): _number(v) for k, v in metrics.items()},
              "seconds": round(float(seconds), 2)}
    directory = Path(directory) if directory else results_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{chapter}.json"
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(path)
    return path


def load_all(directory: Path | None = None) -> list[dict]:
    """Every results file, sorted by chapter."""
    directory = Path(directory) if directory else results_dir()
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
