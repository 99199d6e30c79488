"""One results format for the whole book: ``_build/results/<chapter>.json``.

``{"chapter", "profile", "device", "key", "metrics": {name: value}, "seconds"}``;
the book's results page is rendered from these files. A later chapter that needs an
earlier one's number or trained weights reads them from here (:func:`reuse`,
:func:`load_weights`), and only when their ``key`` (:func:`fingerprint`) says they
were made by the same profile and the same code; otherwise it computes them itself,
and says so.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from functools import lru_cache
from pathlib import Path

from seqlm import config
from seqlm.config import Setup, resolve_results_dir
from seqlm.files import write_atomically, write_text_atomically


@lru_cache(maxsize=None)
def fingerprint(chapter: str, profile: str, seed: int = 0) -> str:
    """A short digest of what a chapter's numbers and weights depend on: its sizes in this
    profile, its seed, the code of the package, and the code cells of its notebook when
    the repository is at hand. Two runs with the same fingerprint compute the same things."""
    sizes = config.sizes(chapter, profile)
    digest = hashlib.sha256(f"{chapter}|{profile}|{seed}|{sizes!r}".encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    notebook = config.project_root() / "notebooks" / f"{chapter}.ipynb"
    if notebook.is_file():
        cells = json.loads(notebook.read_text())["cells"]
        digest.update("".join("".join(c["source"]) for c in cells
                              if c["cell_type"] == "code").encode())
    return digest.hexdigest()[:16]


def _current(record: dict, chapter: str, setup: Setup) -> bool:
    """Whether a saved record (results or weights) was made by this profile and this code."""
    return (record.get("profile") == setup.profile
            and record.get("key") == fingerprint(chapter, setup.profile, setup.seed))


def _number(value):
    value = float(value)
    return None if math.isnan(value) else ("inf" if math.isinf(value) else value)


def save(setup: Setup, metrics: dict, seconds: float) -> Path:
    """Write a chapter's headline numbers to ``setup.results_dir/<chapter>.json``;
    infinities are stored as the string ``"inf"``."""
    if not metrics:
        raise ValueError("a results file needs at least one metric")
    record = {"chapter": setup.chapter, "profile": setup.profile, "device": str(setup.device),
              "key": fingerprint(setup.chapter, setup.profile, setup.seed),
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


def timed(fn, device=None, warmup: int = 1, repeats: int = 3):
    """Call ``fn()`` ``warmup`` times untimed, then ``repeats`` times timed; return the last
    result and the fastest call's seconds. On CUDA the clock stops only once the GPU has
    finished (``torch.cuda.synchronize``), and the warm-up keeps start-up costs out."""
    import torch

    def sync():
        if device is not None and torch.device(device).type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(warmup):
        fn()
    best, out = float("inf"), None
    for _ in range(max(1, repeats)):
        sync()
        started = time.perf_counter()
        out = fn()
        sync()
        best = min(best, time.perf_counter() - started)
    return out, best


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


# Trained models land a little differently with every seed. Chapter 7's cpu run trains
# each word LM with seeds 0 and 1 (a short budget): their test perplexities differed by
# 1.3 % (RNN, 355.1 and 359.6), 3.0 % (GRU, 156.6 and 161.4) and 3.5 % (LSTM, 167.9 and
# 173.9). Numbers closer than this share a rank on the results page rather than being
# ordered by noise.
TIE_TOLERANCE = 0.03


def ranks(values: list[float], tolerance: float = TIE_TOLERANCE) -> list[str]:
    """Ranks for sorted ``values``: a value within ``tolerance`` (relative) of the one
    before it shares that one's rank, marked "=" (so 1, =1, 3 …)."""
    out, rank = [], 0
    for i, value in enumerate(values):
        tied = i > 0 and value <= values[i - 1] * (1 + tolerance)
        if not tied:
            rank = i + 1
        out.append(f"={rank}" if tied or (i + 1 < len(values) and values[i + 1]
                                           <= value * (1 + tolerance)) else str(rank))
    return out


TASK_PREFIX = "punctuation test macro F1, "
LABELS_SUFFIX = re.compile(r", (?P<share>[\d.]+)% of labels$")


def task_table(records: list[dict]) -> list[tuple[str, str, float, str]]:
    """Every punctuation tagger's test macro F1 (Chapters 8 and 9): (label share, model,
    macro F1, chapter), by share of the labels and then best first. A model trained on
    all of its chapter's labelled lines has share "all"."""
    rows = []
    for r in records:
        for name, value in r["metrics"].items():
            if name.startswith(TASK_PREFIX) and value is not None:
                model = name[len(TASK_PREFIX):]
                match = LABELS_SUFFIX.search(model)
                share = f"{match['share']} %" if match else "all"
                rows.append((share, LABELS_SUFFIX.sub("", model), float(value), r["chapter"]))
    order = lambda row: (math.inf if row[0] == "all" else float(row[0][:-2]), -row[2])
    return sorted(rows, key=order)


G2P_WER_PREFIX, G2P_PER_PREFIX = "g2p test WER, ", "g2p test PER, "


def g2p_table(records: list[dict]) -> list[tuple[str, str, float, float | None, str]]:
    """Every spelling-to-pronunciation model's test error rates (Chapter 10), best WER
    first: (model, decoding, WER, PER or None, chapter), from metrics named
    ``g2p test WER, <model>, <decoding>`` and ``g2p test PER, <model>, <decoding>``."""
    rows = []
    for r in records:
        for name, value in r["metrics"].items():
            if name.startswith(G2P_WER_PREFIX) and value is not None:
                key = name[len(G2P_WER_PREFIX):]
                model, _, decoding = key.rpartition(", ")
                per = r["metrics"].get(G2P_PER_PREFIX + key)
                rows.append((model, decoding, float(value),
                             None if per is None else float(per), r["chapter"]))
    return sorted(rows, key=lambda row: (row[2], row[0], row[1]))


def _percent(value) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def _provenance(record: dict) -> str:
    return f"profile `{record['profile']}` on `{record['device']}`, {record['seconds']:.0f} s"


def render_markdown(records: list[dict], titles: dict[str, str] | None = None) -> str:
    """The results page: one word-level leaderboard per profile (numbers from runs of
    different sizes are never ranked together; numbers within ``TIE_TOLERANCE`` share a
    rank; infinite perplexities go to a note), then one section per chapter saying which
    run produced its numbers. ``titles`` maps a chapter to its page title."""
    if not records:
        return "No chapter has been run yet: `make book` writes the results.\n"
    titles = titles or {}
    parts = []
    profiles = [p for p in ("full", "cpu", "smoke") if any(r["profile"] == p for r in records)]
    for profile in profiles:
        board = leaderboard([r for r in records if r["profile"] == profile])
        if board:
            parts += _perplexity_board(board, profile, titles)
        tasks = task_table([r for r in records if r["profile"] == profile])
        if tasks:
            parts += [f"## Punctuation restoration, test macro F1, profile `{profile}`\n",
                      "Higher is better; the share of the labelled training lines each "
                      "tagger learned from (\"all\": every line its chapter uses).\n",
                      "| labels | model | macro F1 | chapter |", "| ---: | --- | ---: | --- |"]
            parts += [f"| {share} | {model} | {_cell(v)} | {titles.get(chapter, chapter)} |"
                      for share, model, v, chapter in tasks]
            parts.append("")
        g2p = g2p_table([r for r in records if r["profile"] == profile])
        if g2p:
            parts += [f"## Spelling to pronunciation (CMUdict), test error rates, profile "
                      f"`{profile}`\n",
                      "Lower is better: the share of words whose pronunciation is wrong (WER), "
                      "and edit distance per reference phoneme (PER).\n",
                      "| model | decoding | WER | PER | chapter |",
                      "| --- | --- | ---: | ---: | --- |"]
            parts += [f"| {model} | {decoding} | {_percent(wer)} | {_percent(per)} | "
                      f"{titles.get(chapter, chapter)} |"
                      for model, decoding, wer, per, chapter in g2p]
            parts.append("")
    for r in records:
        parts.append(f"## {titles.get(r['chapter'], r['chapter'])}\n\n{_provenance(r)}\n\n"
                     "| metric | value |\n| --- | ---: |")
        parts.extend(f"| {name} | {_cell(v)} |" for name, v in r["metrics"].items())
        parts.append("")
    return "\n".join(parts) + "\n"


def _perplexity_board(board: list, profile: str, titles: dict[str, str]) -> list[str]:
    """The lines of one profile's word-level leaderboard (finite ranks, infinite in a note)."""
    finite = [row for row in board if math.isfinite(row[0])]
    parts = [f"## Word-level test perplexity, profile `{profile}`\n",
              "| rank | model | perplexity | chapter |", "| ---: | --- | ---: | --- |"]
    parts += [f"| {rank} | {model} | {_cell(v)} | {titles.get(chapter, chapter)} |"
              for rank, (v, model, chapter, _) in zip(ranks([r[0] for r in finite]), finite)]
    infinite = [f"{model} ({titles.get(chapter, chapter)})"
                for v, model, chapter, _ in board if math.isinf(v)]
    if infinite:
        parts.append(f"\nInfinite perplexity (a test token got probability 0): "
                     f"{', '.join(infinite)}.")
    parts.append(f"\nRanks marked = are within {TIE_TOLERANCE:.0%} of each other, about the "
                 "spread between runs of one model with different seeds (measured in "
                 "Chapter 7).\n")
    return parts


def save_weights(setup: Setup, name: str, model) -> Path:
    """Keep a trained model's weights beside the chapter's results, for a later chapter:
    ``<results_dir>/<chapter>.<name>.pt`` (with the profile that trained them)."""
    import torch

    path = Path(setup.results_dir) / f"{setup.chapter}.{name}.pt"
    payload = {"profile": setup.profile,
               "key": fingerprint(setup.chapter, setup.profile, setup.seed),
               "state": model.state_dict()}
    return write_atomically(path, lambda tmp: torch.save(payload, tmp))


def load_weights(setup: Setup, chapter: str, name: str, model) -> bool:
    """Load the weights another chapter saved with :func:`save_weights` into ``model`` when
    they exist and were trained by this profile and this code; whether they were."""
    import torch

    path = Path(setup.results_dir) / f"{chapter}.{name}.pt"
    if not path.is_file():
        return False
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not _current(payload, chapter, setup):
        return False
    model.load_state_dict(payload["state"])
    return True


def metric(setup: Setup, chapter: str, name: str) -> float | None:
    """A number another chapter wrote with this profile and this code, or None when it has
    not run with them (a chapter then computes the number itself, :func:`reuse`)."""
    path = Path(setup.results_dir) / f"{chapter}.json"
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    value = record["metrics"].get(name) if _current(record, chapter, setup) else None
    return math.inf if value == "inf" else value


def reuse(setup: Setup, chapter: str, name: str, compute):
    """Another chapter's number (:func:`metric`) when it ran with this profile and this code,
    else ``compute()``, saying so: nothing is computed twice in a book run, and a chapter
    run on its own still has every number it needs."""
    value = metric(setup, chapter, name)
    if value is None:
        print(f"[{name}: not in the results of {chapter} for profile {setup.profile} and this "
              "code, so computed here]")
        value = compute()
    return value
