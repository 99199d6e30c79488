"""The token table of Chapters 8 and 9: every word type of the plays, with its id in the
book's vocabulary and its spelling.

A tagger with learned embeddings can only tell apart the words of the vocabulary (train
types seen 3 times or more; the rest are ``<unk>``). ELMo's token layer reads spellings,
so a rare or unseen word still gets its own vector. One table serves both: a batch holds
table ids, and each model looks up what it reads::

    id 0 … V-1      the vocabulary, in its order (0 is <unk>)
    id V            padding
    id V+1 …        the other word types of the plays (any split), in sorted order

``vocab_ids[id]`` is the vocabulary id (``<unk>`` outside it, V for padding) and
``spellings[id]`` the character ids ``<w> c_1 … c_n </w>`` padded with 0, cut to
``max_chars`` characters.
"""

from __future__ import annotations

import numpy as np
import torch

from seqlm import data

CHAR_PAD, WORD_START, WORD_END, CHAR_UNK = 0, 1, 2, 3


class TokenTable:
    """See the module docstring. ``words``: every word type to give an id beyond the
    vocabulary; ``alphabet``: the characters spellings may use (others become CHAR_UNK)."""

    def __init__(self, vocab: data.Vocab, words, max_chars: int = 20):
        if max_chars < 1:
            raise ValueError("max_chars must be ≥ 1")
        V = len(vocab)
        self.vocab, self.pad_id, self.max_chars = vocab, V, max_chars
        extra = sorted(set(words) - set(vocab.itos))
        self.itos = vocab.itos + ["<pad>"] + extra
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        alphabet = sorted({c for t in self.itos for c in t})
        self.char_ids = {c: i + 4 for i, c in enumerate(alphabet)}
        self.vocab_ids = torch.zeros(len(self.itos), dtype=torch.long)  # the rest: <unk> (0)
        self.vocab_ids[:V + 1] = torch.arange(V + 1)                   # the vocabulary, padding
        self.spellings = torch.tensor(np.stack([self.spell(t) for t in self.itos]))
        self.spellings[V] = CHAR_PAD                                  # padding has no spelling

    def __len__(self) -> int:
        return len(self.itos)

    @property
    def alphabet_size(self) -> int:
        return len(self.char_ids) + 4

    def spell(self, word: str) -> np.ndarray:
        """``<w>`` + the word's character ids + ``</w>``, padded: (max_chars + 2,)."""
        chars = [self.char_ids.get(c, CHAR_UNK) for c in word[:self.max_chars]]
        out = np.zeros(self.max_chars + 2, dtype=np.int64)
        out[:len(chars) + 2] = [WORD_START, *chars, WORD_END]
        return out

    def encode(self, words) -> np.ndarray:
        """Table ids of a list of words; a word the table does not hold is ``<unk>`` (0)."""
        return np.array([self.stoi.get(w, 0) for w in words], dtype=np.int64)

    def decode(self, ids) -> list[str]:
        return [self.itos[i] for i in np.asarray(ids).ravel()]


def plays_table(max_chars: int = 20) -> TokenTable:
    """The table of the book's word corpus: its vocabulary and every word type of every split."""
    corpus = data.load_shakespeare("word")
    words = {t for split in data.SPLITS for t in corpus.tokens(split)}
    return TokenTable(corpus.vocab, words, max_chars)
