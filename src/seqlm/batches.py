"""Batch sources: what the training loop reads. One contract, :class:`BatchSource`.

- :class:`WindowBatches`: fixed contexts for a feed-forward LM (Chapter 2);
- :class:`StreamBatches`: contiguous streams for truncated BPTT (Chapters 3 on);
- :class:`EchoBatches`: the echo task, a synthetic stream (Chapter 4);
- :class:`AddingBatches`: the adding problem (Chapters 5 to 7);
- :class:`AlignedStreams`: streams with a target for every input token (ELMo's biLM);
- :class:`PaddedBatches`: labelled sequences of different lengths, padded (Chapters 8, 9).
"""

from __future__ import annotations

from typing import Iterator, Protocol, runtime_checkable

import numpy as np
import torch

from seqlm.train import IGNORE_INDEX


@runtime_checkable
class BatchSource(Protocol):
    """A source of ``(x, y)`` batches that can start anywhere in any epoch.

    ``len(source)`` is the number of batches in one epoch; ``source(epoch, start)``
    yields the batches of that epoch from number ``start`` on, exactly as a run from
    ``start = 0`` would have seen them. That is what lets :func:`seqlm.train.train`
    resume a run mid-epoch and end with the same numbers as one never interrupted.
    ``x`` and ``y`` are CPU tensors of token ids; the model's input and its targets.
    Where consecutive batches continue each other row by row (streams), the loop
    carries the recurrent state across them and restarts it at each epoch.
    """

    def __len__(self) -> int: ...

    def __call__(self, epoch: int = 0, start: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]: ...


def _tensors(x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))


class WindowBatches:
    """Fixed windows for a feed-forward LM: x = the n-1 tokens before y (padded with
    ``pad_id`` at the start), shuffled anew each epoch. x: (B, n-1), y: (B,)."""

    def __init__(self, ids, context: int, batch_size: int, pad_id: int, shuffle: bool = True,
                 seed: int = 0):
        if context < 1 or batch_size < 1:
            raise ValueError("context and batch_size must be ≥ 1")
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size == 0:
            raise ValueError("no tokens to batch")
        padded = np.concatenate([np.full(context, pad_id, dtype=np.int64), ids])
        self.x = np.lib.stride_tricks.sliding_window_view(padded[:-1], context)  # (N, n-1)
        self.y = ids
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed

    def __len__(self) -> int:
        return -(-len(self.y) // self.batch_size)

    def __call__(self, epoch: int = 0, start: int = 0):
        order = (np.random.default_rng((self.seed, epoch)).permutation(len(self.y))
                 if self.shuffle else np.arange(len(self.y)))
        for b in range(start, len(self)):
            rows = order[b * self.batch_size:(b + 1) * self.batch_size]
            yield _tensors(self.x[rows], self.y[rows])


class StreamBatches:
    """Contiguous streams for truncated backpropagation through time.

    The ids are cut into ``batch_size`` equal rows; batch t holds columns
    [t·bptt, (t+1)·bptt) of every row, so row b of one batch continues row b of
    the one before and a recurrent state can be carried across. x, y: (B, bptt),
    y being x shifted by one token (the last batch may be shorter)."""

    def __init__(self, ids, batch_size: int, bptt: int):
        if batch_size < 1 or bptt < 1:
            raise ValueError("batch_size and bptt must be ≥ 1")
        ids = np.asarray(ids, dtype=np.int64)
        length = len(ids) // batch_size
        if length < 2:
            raise ValueError(f"{len(ids)} tokens are too few for {batch_size} rows")
        self.rows = ids[:length * batch_size].reshape(batch_size, length)  # (B, L)
        self.bptt = bptt

    def __len__(self) -> int:
        return -(-(self.rows.shape[1] - 1) // self.bptt)

    def __call__(self, epoch: int = 0, start: int = 0):
        for b in range(start, len(self)):
            t = b * self.bptt
            end = min(t + self.bptt, self.rows.shape[1] - 1)
            yield _tensors(self.rows[:, t:end], self.rows[:, t + 1:end + 1])


class EchoBatches:
    """The echo task: read random symbols and output, at every step, the symbol seen
    ``delay`` steps earlier, y_t = x_{t-delay}. A network can only learn it if its
    gradient reaches ``delay`` steps back.

    Like :class:`StreamBatches` the rows are contiguous across batches, so truncated
    BPTT can carry the state while cutting the gradient every ``bptt`` steps.
    x, y: (B, bptt) symbol ids."""

    def __init__(self, symbols: int, delay: int, batch_size: int, bptt: int, batches: int,
                 seed: int = 0):
        if symbols < 2 or delay < 1 or min(batch_size, bptt, batches) < 1:
            raise ValueError("need symbols ≥ 2, delay ≥ 1, and batch_size, bptt, batches ≥ 1")
        rng = np.random.default_rng(seed)
        stream = rng.integers(0, symbols, (batch_size, batches * bptt + delay))
        self.x, self.y = stream[:, delay:], stream[:, :-delay]  # y_t = x_{t-delay}
        self.bptt, self.batches = bptt, batches

    def __len__(self) -> int:
        return self.batches

    def __call__(self, epoch: int = 0, start: int = 0):
        for b in range(start, self.batches):
            cols = slice(b * self.bptt, (b + 1) * self.bptt)
            yield _tensors(self.x[:, cols], self.y[:, cols])


class AddingBatches:
    """The adding problem of Hochreiter and Schmidhuber (1997), in the variant of Le et al.
    (2015): each sequence has T steps of two inputs, a random value in [0, 1] and a
    marker that is 1 at exactly two steps (one in each half) and 0 elsewhere; the target
    is the sum of the two marked values.
    Predicting the constant 1 scores a mean squared error of 1/6.

    Independent sequences, drawn anew for every (epoch, batch) from ``seed``, so a run
    that resumes sees the batches it would have seen. x: (B, T, 2) floats, y: (B,) floats.
    """

    def __init__(self, length: int, batch_size: int, batches: int, seed: int = 0):
        if isinstance(length, bool) or not isinstance(length, int) or length < 2:
            raise ValueError(f"an adding problem needs a length T ≥ 2 (two marked steps), "
                             f"got {length!r}")
        if batch_size < 1 or batches < 1:
            raise ValueError("batch_size and batches must be ≥ 1")
        self.length, self.batch_size, self.batches, self.seed = length, batch_size, batches, seed

    def __len__(self) -> int:
        return self.batches

    def batch(self, epoch: int, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng((self.seed, epoch, index))
        B, T = self.batch_size, self.length
        values = rng.uniform(0.0, 1.0, (B, T))
        first = rng.integers(0, T // 2, B)               # one marker in the first half,
        second = rng.integers(T // 2, T, B)              # one in the second
        markers = np.zeros((B, T))
        markers[np.arange(B), first] = markers[np.arange(B), second] = 1.0
        x = np.stack([values, markers], axis=-1).astype(np.float32)        # (B, T, 2)
        y = (values[np.arange(B), first] + values[np.arange(B), second]).astype(np.float32)
        return _tensors(x, y)

    def __call__(self, epoch: int = 0, start: int = 0):
        for b in range(start, self.batches):
            yield self.batch(epoch, b)


class AlignedStreams:
    """Contiguous streams like :class:`StreamBatches`, but each input token comes with a
    target of its own position (not the next one): x = ``inputs`` (B, T), y = ``targets``
    (B, T). For a bidirectional LM, which predicts both neighbours of a token and so
    needs the window's own tokens as targets. Windows do not overlap; the last short one
    is dropped."""

    def __init__(self, inputs, targets, batch_size: int, length: int):
        inputs, targets = np.asarray(inputs, dtype=np.int64), np.asarray(targets, dtype=np.int64)
        if inputs.shape != targets.shape or inputs.ndim != 1:
            raise ValueError("inputs and targets are two 1-D arrays of the same length")
        if batch_size < 1 or length < 2:
            raise ValueError("batch_size must be ≥ 1 and length ≥ 2")
        columns = len(inputs) // batch_size
        if columns < length:
            raise ValueError(f"{len(inputs)} tokens are too few for {batch_size} rows of {length}")
        self.x = inputs[:columns * batch_size].reshape(batch_size, columns)
        self.y = targets[:columns * batch_size].reshape(batch_size, columns)
        self.length = length

    def __len__(self) -> int:
        return self.x.shape[1] // self.length

    def __call__(self, epoch: int = 0, start: int = 0):
        for b in range(start, len(self)):
            cols = slice(b * self.length, (b + 1) * self.length)
            yield _tensors(self.x[:, cols], self.y[:, cols])


class PaddedBatches:
    """Labelled sequences of different lengths, in padded batches.

    ``sequences``: a list of 1-D id arrays; ``labels``: per sequence either one class (a
    sequence label, y (B,)) or an array with one class per id (tags, y (B, T)). x (B, T)
    is padded with ``pad_id`` after each sequence's end, tags with ``IGNORE_INDEX`` (so
    neither the loss nor the metrics count them); T is the longest sequence of the batch.

    With ``shuffle`` each epoch draws a new order from ``seed`` (the same for the same
    epoch, so a resumed run sees the same batches); sequences of similar length are put
    together (sorted within chunks of 20 batches) so that little of a batch is padding.
    Without it, for evaluation, the batches hold sequences sorted by length (the same every
    time), or with ``keep_order`` the sequences in their given order, for code that maps
    outputs back to examples by position. ``max_length`` cuts longer sequences (None: never)."""

    CHUNK = 20

    def __init__(self, sequences, labels, batch_size: int, pad_id: int, shuffle: bool = False,
                 seed: int = 0, max_length: int | None = None, keep_order: bool = False):
        if len(sequences) != len(labels) or not sequences:
            raise ValueError("give one label (or label array) per sequence, and at least one")
        if batch_size < 1:
            raise ValueError("batch_size must be ≥ 1")
        self.sequences = [np.asarray(s, dtype=np.int64)[:max_length] for s in sequences]
        if any(len(s) == 0 for s in self.sequences):
            raise ValueError("an empty sequence cannot be padded into a batch: drop it first")
        self.tags = np.ndim(labels[0]) == 1
        self.labels = [np.asarray(y, dtype=np.int64)[:max_length] if self.tags else int(y)
                       for y in labels]
        if self.tags and any(len(y) != len(s) for y, s in zip(self.labels, self.sequences)):
            raise ValueError("a tag sequence must be as long as its input")
        self.batch_size, self.pad_id, self.shuffle, self.seed = batch_size, pad_id, shuffle, seed
        self.keep_order = keep_order

    def __len__(self) -> int:
        return -(-len(self.sequences) // self.batch_size)

    def order(self, epoch: int) -> list[np.ndarray]:
        """The sequence indices of each batch of an epoch."""
        n, B = len(self.sequences), self.batch_size
        lengths = np.array([len(s) for s in self.sequences])
        if not self.shuffle:
            order = np.arange(n) if self.keep_order else np.argsort(lengths, kind="stable")
            return [order[i:i + B] for i in range(0, n, B)]
        rng = np.random.default_rng((self.seed, epoch))
        order = rng.permutation(n)
        for i in range(0, n, B * self.CHUNK):
            chunk = order[i:i + B * self.CHUNK]
            order[i:i + B * self.CHUNK] = chunk[np.argsort(lengths[chunk], kind="stable")]
        groups = [order[i:i + B] for i in range(0, n, B)]
        return [groups[j] for j in rng.permutation(len(groups))]

    def __call__(self, epoch: int = 0, start: int = 0):
        for rows in self.order(epoch)[start:]:
            T = max(len(self.sequences[i]) for i in rows)
            x = np.full((len(rows), T), self.pad_id, dtype=np.int64)
            y = np.full((len(rows), T), IGNORE_INDEX, dtype=np.int64) if self.tags else \
                np.array([self.labels[i] for i in rows], dtype=np.int64)
            for r, i in enumerate(rows):
                x[r, :len(self.sequences[i])] = self.sequences[i]
                if self.tags:
                    y[r, :len(self.labels[i])] = self.labels[i]
            yield _tensors(x, y)
