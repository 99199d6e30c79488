"""Punctuation restoration, a tagging task from the plays (Chapters 8 and 9).

One example is one line of dialogue. The input is its words, lower-cased, with every
punctuation token removed; the label of each word is the punctuation that followed it:

    "Frailty, thy name is woman!"  ->  frailty  thy   name  is    woman
                                        comma   none  none  none  exclamation

The first of the marks , ; : . ? ! after a word (before the next word) labels it
(``, ; :`` are one class); other marks (dashes, quotes, brackets) are dropped and
label nothing. A line with no word (empty, or punctuation only) is no example.
The plays and their split are the book's (:mod:`seqlm.data`); every kind of play is
used here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from seqlm import data, plays

LABELS = ("none", "comma", "period", "question", "exclamation")
MARK_LABEL = {",": 1, ";": 1, ":": 1, ".": 2, "?": 3, "!": 4}


@dataclass(frozen=True)
class TaggedLine:
    """The words of one line and the label (an index into LABELS) of each."""

    words: tuple[str, ...]
    labels: tuple[int, ...]

    def text(self) -> str:
        """The line with its punctuation written back: ``frailty, thy name is woman!``."""
        marks = {1: ",", 2: ".", 3: "?", 4: "!"}
        return " ".join(w + marks.get(y, "") for w, y in zip(self.words, self.labels))


def is_word(token: str) -> bool:
    """A word token (letters or digits), as opposed to a punctuation mark."""
    return token[:1].isalnum()


def unpunctuated(tokens: list[str]) -> list[str]:
    """A token stream as a punctuation tagger reads it: the words and the line ends
    (``<eos>``), every punctuation mark left out."""
    return [t for t in tokens if is_word(t) or t == data.EOS]


def tag_line(line: str) -> TaggedLine:
    """The words of a line of text and the punctuation after each; a ValueError for a
    line without words (there is nothing to tag)."""
    words, labels = [], []
    for token in data.tokenize(line):
        if is_word(token):
            words.append(token)
            labels.append(0)
        elif words and labels[-1] == 0 and token in MARK_LABEL:
            labels[-1] = MARK_LABEL[token]
    if not words:
        raise ValueError(f"a line with no words has nothing to tag: {line!r}")
    return TaggedLine(tuple(words), tuple(labels))


def words_of(line: str) -> list[str]:
    """The model's input for any text: its lower-cased words, punctuation dropped."""
    return [t for t in data.tokenize(line) if is_word(t)]


@lru_cache(maxsize=None)
def _lines(split: str) -> tuple[TaggedLine, ...]:
    out = []
    for speech in plays.speeches(split, kinds=None):
        for line in speech.lines:
            if any(is_word(t) for t in data.tokenize(line)):
                out.append(tag_line(line))
    return tuple(out)


def lines(split: str) -> list[TaggedLine]:
    """Every line of the split's plays that has a word, in play order."""
    if split not in data.SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(data.SPLITS)}")
    return list(_lines(split))


def label_counts(examples: list[TaggedLine]) -> dict[str, int]:
    """How many words carry each label."""
    counts = Counter(y for line in examples for y in line.labels)
    return {name: counts[i] for i, name in enumerate(LABELS)}


def line_ends(examples: list[TaggedLine]) -> tuple[dict[str, float], dict[str, float]]:
    """Where the marks fall: the share of lines whose last word carries each label, and the
    share of each label's occurrences that fall on a line's last word."""
    last = Counter(LABELS[line.labels[-1]] for line in examples)
    every = label_counts(examples)
    ending = {name: last[name] / len(examples) for name in LABELS}
    on_last = {name: last[name] / every[name] if every[name] else 0.0 for name in LABELS}
    return ending, on_last


def words_after(examples: list[TaggedLine], label: str, top: int = 5) -> list[tuple[str, float]]:
    """The words that most often follow a word tagged ``label`` on the same line, with their
    share of those cases."""
    index = LABELS.index(label)
    following = Counter(line.words[i + 1] for line in examples
                        for i, y in enumerate(line.labels[:-1]) if y == index)
    total = sum(following.values())
    return [(word, count / total) for word, count in following.most_common(top)]


def subset(examples: list, fraction: float, seed: int = 0) -> list:
    """A random ``fraction`` of the examples (at least one), the same for the same seed;
    a fraction outside (0, 1] is an error."""
    if not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
        raise ValueError(f"a label fraction lies in (0, 1], got {fraction!r}")
    count = max(1, round(fraction * len(examples)))
    keep = np.sort(np.random.default_rng(seed).permutation(len(examples))[:count])
    return [examples[i] for i in keep]


def batches(examples: list[TaggedLine], table, batch_size: int, shuffle: bool = False,
            seed: int = 0, keep_order: bool = False):
    """Padded batches of lines: x (B, T) ids of ``table`` (a
    :class:`seqlm.tokens.TokenTable`), y (B, T) labels, padding ignored. Unshuffled
    batches hold lines of similar length, or with ``keep_order`` the lines in order
    (:class:`seqlm.batches.PaddedBatches`)."""
    from seqlm.batches import PaddedBatches

    return PaddedBatches([table.encode(line.words) for line in examples],
                         [np.asarray(line.labels) for line in examples], batch_size,
                         table.pad_id, shuffle=shuffle, seed=seed, keep_order=keep_order)
