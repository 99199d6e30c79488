"""What the graded assignments give students, and the kernel's side of grading.

This module runs in two places. In a student's kernel it gives the notebooks
their data (:func:`shakespeare_bigrams`, :func:`bigram_counts`, the BPTT
problem of Assignment 4), the one visible-test helper :func:`check_close`, and
the plumbing of the hidden tests: :func:`answer` calls the student's function
on the cases the grader drew for this run and hands back what it returned,
serialised, as a display output of type :data:`ANSWERS_MIME`. In the grader's
own process (``assignments/grading``) it builds the same data for the reference
answers.

Nothing here decides a grade. A student can rewrite anything in their kernel,
this module included; the grader compares the answers with its reference in
its own process, so rewriting changes nothing but the student's own answers.
"""

from __future__ import annotations

import functools
import json
import math
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

from seqlm import config, data, ngram

ANSWERS_MIME = "application/vnd.seqlm.answers+json"
CASES_ENV = config.GRADING_CASES    # the grader's cases file, in a graded kernel only
MAX_NUMBERS = 1_000_000             # numbers one answer bundle may hold


# --------------------------------------------------------------------------- Assignment 1

@dataclass(frozen=True)
class BigramCounts:
    """Bigram statistics of a token list that starts after an ``<eos>``.

    ``pairs[(h, w)]`` is c(h w), ``histories[h]`` is c(h) = Σ_w c(h w), and
    ``vocab`` lists every word a model must give a probability to (|V| = len).
    """

    pairs: Counter
    histories: Counter
    vocab: tuple[str, ...]

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @cached_property
    def index(self) -> dict[str, int]:
        """Word -> position in ``vocab`` (the id :mod:`seqlm.ngram` models use)."""
        return {w: i for i, w in enumerate(self.vocab)}


def bigram_counts(tokens: list[str], vocab: list[str]) -> BigramCounts:
    """Count the bigrams of ``tokens``, padded on the left with one ``<eos>``."""
    padded = [data.EOS] + list(tokens)
    pairs = Counter(zip(padded[:-1], padded[1:]))
    histories = Counter(padded[:-1])
    return BigramCounts(pairs, histories, tuple(vocab))


@functools.lru_cache(maxsize=4)
def _shakespeare_tokens(n_tokens: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    corpus = data.load_shakespeare("word")
    return tuple(corpus.vocab.decode(corpus.ids("train")[:n_tokens])), tuple(corpus.vocab.itos)


def shakespeare_bigrams(n_tokens: int = 30_000) -> tuple[list[str], BigramCounts]:
    """The first ``n_tokens`` training tokens of the word corpus (rare words as ``<unk>``)
    and their bigram counts over the book's full vocabulary (fresh counts every call)."""
    tokens, vocab = _shakespeare_tokens(n_tokens)
    return list(tokens), bigram_counts(tokens, vocab)


def counts_of(case: dict) -> BigramCounts:
    """The counts a grading case names: ``{"shakespeare": n}`` or ``{"tokens", "vocab"}``."""
    if "shakespeare" in case:
        return shakespeare_bigrams(case["shakespeare"])[1]
    return bigram_counts(case["tokens"], case["vocab"])


def reference_probability(model: ngram.NgramLM, counts: BigramCounts, word: str,
                          history: str) -> float:
    """p(word | history) from a fitted :mod:`seqlm.ngram` bigram model."""
    return float(model.distribution([counts.index[history]])[counts.index[word]])


def fit_reference(model: ngram.NgramLM, tokens: list[str], counts: BigramCounts) -> ngram.NgramLM:
    """Fit a :mod:`seqlm.ngram` model on the same tokens and vocabulary as ``counts``."""
    ids = [counts.index[t] for t in tokens]
    return model.fit(ids, counts.vocab_size, counts.index[data.EOS])


# --------------------------------------------------------------------------- Assignment 4

def forward_last_step(params: dict, x, y):
    """Loss, all states h (B, T+1, H) with h[:, 0] = 0, and softmax(ℓ) (B, C), for the
    network of Assignment 4 whose loss is on the last step only."""
    import torch

    B, T, _ = x.shape
    h = [x.new_zeros(B, params["W_hh"].shape[0])]
    for t in range(T):
        h.append(torch.tanh(x[:, t] @ params["W_ih"].T + h[-1] @ params["W_hh"].T + params["b_h"]))
    h = torch.stack(h, dim=1)
    log_p = torch.log_softmax(h[:, -1] @ params["W_hy"].T + params["b_y"], dim=-1)
    return -log_p.gather(1, y.unsqueeze(1)).mean(), h, log_p.exp()


def random_problem(B: int, T: int, D: int, H: int, C: int, seed: int):
    """Weights (float64, std 0.5), inputs x (B, T, D) and labels y (B,) for Assignment 4."""
    import torch

    g = torch.Generator().manual_seed(seed)
    shapes = {"W_ih": (H, D), "W_hh": (H, H), "b_h": (H,), "W_hy": (C, H), "b_y": (C,)}
    params = {k: torch.randn(s, dtype=torch.float64, generator=g) * 0.5 for k, s in shapes.items()}
    x = torch.randn(B, T, D, dtype=torch.float64, generator=g)
    return params, x, torch.randint(0, C, (B,), generator=g)


def torch_layer(kind: str, weights: dict):
    """A one-layer, batch-first ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU`` (``kind`` "rnn",
    "lstm", "gru") with the given ``weight_ih_l0`` … ``bias_hh_l0``."""
    import torch
    from torch import nn

    gates = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    rows, inputs = weights["weight_ih_l0"].shape
    layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind](
        inputs, rows // gates, batch_first=True).to(weights["weight_ih_l0"].dtype)
    with torch.no_grad():
        for name, value in weights.items():
            getattr(layer, name).copy_(value)
    return layer


def elman_rnn(weights: dict):
    """A one-layer, batch-first ``nn.RNN`` with the given ``weight_ih_l0`` … ``bias_hh_l0``."""
    return torch_layer("rnn", weights)


# --------------------------------------------------------------------------- Assignments 5, 6

def adding_problem(batch_size: int, length: int, generator):
    """A batch of the adding problem in Le et al.'s (2015) variant: x (B, T, 2) holds a
    value drawn from U[0, 1] and a marker that is 1 at one step of each half of the
    sequence; y (B,) is the sum of the two marked values. Predicting 1 scores an MSE
    of 1/6. Drawn from the torch ``generator``: the same generator state, the same batch."""
    import torch

    B, T = batch_size, length
    values = torch.rand(B, T, generator=generator)
    first = torch.randint(0, T // 2, (B,), generator=generator)
    second = torch.randint(T // 2, T, (B,), generator=generator)
    rows = torch.arange(B)
    markers = torch.zeros(B, T)
    markers[rows, first] = markers[rows, second] = 1.0
    return torch.stack([values, markers], dim=-1), values[rows, first] + values[rows, second]


def irnn_start(hidden_size: int, seed: int, input_size: int = 2) -> dict:
    """Where Assignment 5's ReLU network starts: W_hh = I (Le et al.'s IRNN), W_ih drawn
    from N(0, 0.1²), W_hy from N(0, 1/H), zero biases (float32, drawn from ``seed``)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    H = hidden_size
    return {"W_ih": torch.randn(H, input_size, generator=g) * 0.1, "W_hh": torch.eye(H),
            "b_h": torch.zeros(H), "W_hy": torch.randn(1, H, generator=g) / math.sqrt(H),
            "b_y": torch.zeros(1)}


def relu_rnn_predictions(weights: dict, x):
    """ŷ = W_hy h_T + b_y of the ReLU network h_t = relu(W_ih x_t + W_hh h_{t-1} + b_h),
    h_0 = 0, in float64: x (B, T, D) -> (B,)."""
    import torch

    w = {k: torch.as_tensor(v, dtype=torch.float64) for k, v in weights.items()}
    h = x.new_zeros(x.shape[0], w["W_hh"].shape[0], dtype=torch.float64)
    for t in range(x.shape[1]):
        h = torch.relu(x[:, t].double() @ w["W_ih"].T + h @ w["W_hh"].T + w["b_h"])
    return (h @ w["W_hy"].T + w["b_y"])[:, 0]


def lstm_predictions(weights: dict, x):
    """ŷ = W_hy h_T + b_y of a one-layer ``nn.LSTM`` with the weights W_ih (4H, D), W_hh,
    b_ih, b_hh (torch's layout), from zero states, in float64: x (B, T, D) -> (B,)."""
    import torch

    layer = torch_layer("lstm", {f"{name}_l0": torch.as_tensor(weights[key], dtype=torch.float64)
                                 for key, name in LSTM_NAMES.items()})
    with torch.no_grad():
        states, _ = layer(x.double())
        return (states[:, -1] @ torch.as_tensor(weights["W_hy"], dtype=torch.float64).T
                + torch.as_tensor(weights["b_y"], dtype=torch.float64))[:, 0]


LSTM_NAMES = {"W_ih": "weight_ih", "W_hh": "weight_hh", "b_ih": "bias_ih", "b_hh": "bias_hh"}


def mean_squared_error(predictions, targets) -> float:
    return float(((predictions.double() - targets.double()) ** 2).mean())


# --------------------------------------------------------------------------- Assignment 7

@functools.lru_cache(maxsize=2)
def _char_ids(split: str):
    import torch

    corpus = data.load_shakespeare("char")
    return torch.from_numpy(corpus.ids(split).astype("int64")), len(corpus.vocab)


def shakespeare_chars(split: str = "train"):
    """The book's character corpus: the ids of a split (a LongTensor) and |V|."""
    return _char_ids(split)


def char_batch(batch_size: int, length: int, generator):
    """B windows of T + 1 characters from random places of the training split: inputs
    x (B, T) and next characters y (B, T). Drawn from the torch ``generator``."""
    import torch

    ids, _ = _char_ids("train")
    starts = torch.randint(0, len(ids) - length - 1, (batch_size,), generator=generator)
    windows = torch.stack([ids[s:s + length + 1] for s in starts.tolist()])
    return windows[:, :-1], windows[:, 1:]


def cho_gru_bits(weights: dict, n_chars: int = 20_000, length: int = 100) -> float:
    """Bits per character of a character LM whose GRU is written in Cho et al.'s (2014)
    form, the reset gate acting on h before the recurrent product, with the weights in
    torch's layout (rows r, z, n)::

        r = σ(W_ir x + b_ir + W_hr h + b_hr),   z = σ(W_iz x + b_iz + W_hz h + b_hz)
        h̃ = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn),   h' = z ⊙ h + (1 - z) ⊙ h̃

    then logits W_hy h' + b_y; ``embedding`` (|V|, m) gives the inputs. Measured on the
    first ``n_chars`` characters of the validation split, read in windows of ``length``
    from zero states, in float64."""
    import torch
    import torch.nn.functional as F

    ids, vocab_size = _char_ids("valid")
    w = {k: torch.as_tensor(v, dtype=torch.float64) for k, v in weights.items()}
    W_hr, W_hz, W_hn = w["W_hh"].chunk(3)
    b_hr, b_hz, b_hn = w["b_hh"].chunk(3)
    rows = n_chars // length
    x = ids[:rows * length].reshape(rows, length)
    y = ids[1:rows * length + 1].reshape(rows, length)
    with torch.no_grad():
        inputs = w["embedding"][x] @ w["W_ih"].T + w["b_ih"]           # (rows, T, 3H)
        h, states = inputs.new_zeros(rows, w["W_hh"].shape[1]), []
        for t in range(length):
            x_r, x_z, x_n = inputs[:, t].chunk(3, dim=-1)
            r = torch.sigmoid(x_r + h @ W_hr.T + b_hr)
            z = torch.sigmoid(x_z + h @ W_hz.T + b_hz)
            h = z * h + (1 - z) * torch.tanh(x_n + (r * h) @ W_hn.T + b_hn)
            states.append(h)
        logits = torch.stack(states, dim=1) @ w["W_hy"].T + w["b_y"]
        nats = F.cross_entropy(logits.reshape(-1, vocab_size), y.reshape(-1))
    return float(nats) / math.log(2)



# --------------------------------------------------------------------------- Assignment 8

def padded_lengths(rng, batch_size: int, length: int):
    """Lengths (B,) in 1 … ``length`` for a padded batch the grader draws (``rng`` a
    :class:`random.Random`): once B ≥ 2, one row of length 1 and one of full length, so that
    the padding is never all or nothing (Assignments 8 and 10)."""
    import torch

    lengths = [rng.randint(1, length) for _ in range(batch_size)]
    if batch_size >= 2:
        short, full = rng.sample(range(batch_size), 2)
        lengths[short], lengths[full] = 1, length
    return torch.tensor(lengths)


def order_task(batch_size: int, length: int, vocab_size: int, generator):
    """Padded batches of a task that needs order: each row holds a real part of 2 … T
    tokens from 3 … |V|-1 with one token 1 and one token 2 among them, then padding
    that holds any token of 1 … |V|-1 (1s and 2s too). The label is 1 when the 1
    comes before the 2. Returns tokens x (B, T), lengths (B,) and labels (B,)."""
    import torch

    B, T = batch_size, length
    lengths = torch.randint(2, T + 1, (B,), generator=generator)
    x = torch.randint(1, vocab_size, (B, T), generator=generator)       # the padding: junk
    real = torch.randint(3, vocab_size, (B, T), generator=generator)
    keys = torch.rand(B, T, generator=generator)
    keys = keys.masked_fill(torch.arange(T)[None, :] >= lengths[:, None], 2.0)
    first, second = keys.argsort(dim=1)[:, :2].unbind(1)                # two real positions
    is_real = torch.arange(T)[None, :] < lengths[:, None]
    x = torch.where(is_real, real, x)
    rows = torch.arange(B)
    x[rows, first], x[rows, second] = 1, 2
    return x, lengths, (first < second).long()


def order_logits(weights: dict, x, lengths):
    """Scores (B, 2) of the classifier of Assignment 8: embedding (|V|, m), a bidirectional
    ``nn.LSTM`` (its state dict under ``"lstm"``) run on the packed batch, the mean and
    the maximum of its outputs over each row's real steps, side by side (B, 4H), and
    a linear layer W_hy (2, 4H), b_y."""
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    w = {k: v for k, v in weights.items() if k != "lstm"}
    w = {k: torch.as_tensor(v, dtype=torch.float64) for k, v in w.items()}
    lstm_weights = {k: torch.as_tensor(v, dtype=torch.float64)
                    for k, v in weights["lstm"].items()}
    H = lstm_weights["weight_hh_l0"].shape[1]
    layer = torch.nn.LSTM(w["embedding"].shape[1], H, batch_first=True,
                          bidirectional=True).double()
    layer.load_state_dict(lstm_weights)
    with torch.no_grad():
        packed = pack_padded_sequence(w["embedding"][x], lengths, batch_first=True,
                                      enforce_sorted=False)
        outputs, _ = layer(packed)
        total, _ = pad_packed_sequence(outputs, batch_first=True, total_length=x.shape[1])
        largest, _ = pad_packed_sequence(outputs, batch_first=True, total_length=x.shape[1],
                                         padding_value=-math.inf)
        pooled = torch.cat([total.sum(1) / lengths[:, None].double(), largest.amax(1)], -1)
        return pooled @ w["W_hy"].T + w["b_y"]


# --------------------------------------------------------------------------- Assignment 9

@functools.lru_cache(maxsize=4)
def _word_ids(split: str, vocab_size: int):
    import torch

    corpus = data.load_shakespeare("word")
    ids = torch.from_numpy(corpus.ids(split).astype("int64"))
    return torch.where(ids < vocab_size, ids, torch.zeros_like(ids))   # 0 is <unk>


def shakespeare_words(split: str, vocab_size: int):
    """The ids of a split of the book's word corpus, with only its first ``vocab_size``
    types kept (``<unk>``, ``<eos>``, then the most frequent words; id 0, ``<unk>``,
    stands for the rest): a LongTensor."""
    return _word_ids(split, vocab_size)


def word_unigram(vocab_size: int):
    """The unigram distribution of the training split over ``vocab_size`` types (float64)."""
    import torch

    counts = torch.bincount(_word_ids("train", vocab_size), minlength=vocab_size).double()
    return counts / counts.sum()


def bigram_nats(weights: dict, vocab_size: int, n_pairs: int = 20_000) -> float:
    """The full-softmax cross-entropy (nats) of the bigram model softmax(W e_u + b) on the
    first ``n_pairs`` token pairs of the validation split: embedding e (|V|, m), weight
    W (|V|, m), bias b (|V|,)."""
    import torch
    import torch.nn.functional as F

    ids = _word_ids("valid", vocab_size)[:n_pairs + 1]
    w = {k: torch.as_tensor(v, dtype=torch.float64) for k, v in weights.items()}
    with torch.no_grad():
        logits = w["embedding"][ids[:-1]] @ w["weight"].T + w["bias"]
        return float(F.cross_entropy(logits, ids[1:]))


# --------------------------------------------------------------------------- Assignment 10

EOS = 0      # Assignment 10's end of output, ``</s>``, as in :mod:`seqlm.seq2seq`


class TinyDecoder:
    """A language model of outputs small enough to search exhaustively (Assignment 10's
    beam search). Outputs are 0 … O-1, 0 being ``</s>``; it reads ``<s>`` (id O,
    ``bos``) first. An Elman step in float64 with the weights E (O+1, H), W_hh (H, H),
    b_h (H,), W_hy (O, H), b_y (O,), from the decoder state d after y_1 … y::

        d' = tanh(E[y] + W_hh d + b_h),   log p(· | y_1 … y) = log_softmax(W_hy d' + b_y)

    ``start()`` is the state before ``<s>``, zeros (1, H). ``step(previous, states)``
    takes the previous outputs (N,) and the states (N, H) of N hypotheses and returns
    the log-probabilities of each one's next output (N, O) and their new states (N, H),
    row n for hypothesis n."""

    SHAPES = {"E": ("O+1", "H"), "W_hh": ("H", "H"), "b_h": ("H",), "W_hy": ("O", "H"),
              "b_y": ("O",)}

    def __init__(self, weights: dict):
        import torch

        missing = sorted(set(self.SHAPES) - set(weights))
        if missing:
            raise ValueError(f"TinyDecoder needs the weights {', '.join(self.SHAPES)}; "
                             f"missing {', '.join(missing)}")
        self.w = {k: torch.as_tensor(weights[k], dtype=torch.float64) for k in self.SHAPES}
        self.outputs, self.hidden_size = self.w["W_hy"].shape[0], self.w["W_hh"].shape[0]
        self.bos = self.outputs
        sizes = {"O": self.outputs, "O+1": self.outputs + 1, "H": self.hidden_size}
        for name, dims in self.SHAPES.items():
            want = tuple(sizes[d] for d in dims)
            if tuple(self.w[name].shape) != want:
                raise ValueError(f"TinyDecoder: {name} has shape {tuple(self.w[name].shape)}, "
                                 f"expected {want} (O = {self.outputs} outputs, "
                                 f"H = {self.hidden_size} units)")
        if self.outputs < 2:
            raise ValueError("TinyDecoder needs at least two outputs: </s> and one more")

    def start(self):
        import torch

        return torch.zeros(1, self.hidden_size, dtype=torch.float64)

    def step(self, previous, states):
        import torch

        previous = torch.as_tensor(previous, dtype=torch.long).reshape(-1)      # (N,)
        states = torch.as_tensor(states, dtype=torch.float64)                   # (N, H)
        if states.shape != (len(previous), self.hidden_size):
            raise ValueError(f"step: {len(previous)} previous outputs need states "
                             f"({len(previous)}, {self.hidden_size}), got {tuple(states.shape)}")
        if len(previous) and not 0 <= int(previous.min()) <= int(previous.max()) <= self.bos:
            raise ValueError(f"step: previous outputs are ids 0 … {self.bos} (<s> is "
                             f"{self.bos}), got {previous.tolist()}")
        states = torch.tanh(self.w["E"][previous] + states @ self.w["W_hh"].T + self.w["b_h"])
        return torch.log_softmax(states @ self.w["W_hy"].T + self.w["b_y"], dim=-1), states

    def log_prob(self, outputs, ended: bool) -> float:
        """log p of ``outputs`` (ids 1 … O-1, without ``</s>``), then ``</s>`` if
        ``ended``: the sum of each output's log-probability after those before it."""
        outputs = [int(y) for y in outputs]
        if any(not 1 <= y < self.outputs for y in outputs):
            raise ValueError(f"log_prob: outputs are ids 1 … {self.outputs - 1} (</s> is "
                             f"said by ended), got {outputs}")
        states, previous, total = self.start(), self.bos, 0.0
        for y in outputs + ([EOS] if ended else []):
            log_probs, states = self.step([previous], states)
            total += float(log_probs[0, y])
            previous = y
        return total


def tiny_beam_search(decoder: TinyDecoder, beam_step, beam: int, max_length: int) -> list:
    """Beam search on a :class:`TinyDecoder` with a given step: the beam starts as one
    empty hypothesis ``{"outputs": [], "score": 0.0, "ended": False}``; at each step the
    decoder reads every hypothesis's last output (``<s>`` first, ``</s>`` once it ended)
    and ``beam_step(hypotheses, log_probs, beam)`` returns the kept ones, each with the
    index of its ``"parent"``, whose decoder state it takes. Stops when every kept
    hypothesis has ended or after ``max_length`` outputs (``</s>`` counted). Returns the
    final beam, best first, without the parents."""
    if isinstance(beam, bool) or not isinstance(beam, int) or beam < 1:
        raise ValueError(f"beam must be an integer ≥ 1, got {beam!r}")
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        raise ValueError(f"max_length must be an integer ≥ 1, got {max_length!r}")
    hypotheses, states = [{"outputs": [], "score": 0.0, "ended": False}], decoder.start()
    for _ in range(max_length):
        if all(h["ended"] for h in hypotheses):
            break
        previous = [EOS if h["ended"] else h["outputs"][-1] if h["outputs"] else decoder.bos
                    for h in hypotheses]
        log_probs, states = decoder.step(previous, states)
        kept = beam_step(hypotheses, log_probs, beam)
        states = states[[int(k["parent"]) for k in kept]]
        hypotheses = [{"outputs": [int(y) for y in k["outputs"]], "score": float(k["score"]),
                       "ended": bool(k["ended"])} for k in kept]
    return sorted(hypotheses, key=lambda h: -h["score"])


def exhaustive_search(decoder: TinyDecoder, max_length: int) -> list:
    """Every output of at most ``max_length`` outputs (``</s>`` counted): those that end
    with ``</s>``, and those cut at the limit, as hypotheses ``{"outputs", "score",
    "ended"}`` scored by log p, best first."""
    import itertools

    symbols = range(1, decoder.outputs)
    found = [(list(c), True) for n in range(max_length)
             for c in itertools.product(symbols, repeat=n)]
    found += [(list(c), False) for c in itertools.product(symbols, repeat=max_length)]
    hypotheses = [{"outputs": c, "score": decoder.log_prob(c, e), "ended": e} for c, e in found]
    return sorted(hypotheses, key=lambda h: -h["score"])


def recall_task(batch_size: int, length: int, keys: int, values: int, generator):
    """Associative recall, padded: row b holds n_b (key, value) pairs (2 ≤ n_b ≤ T =
    ``length``; its keys distinct among 0 … ``keys``-1, values among 0 … ``values``-1),
    then padding to T; the query is one of the row's real keys and the target its value.
    The padding holds junk pairs (any key, any value), and where a row has any, one of
    them (the decoy) holds the query's key with another value: attention that reads the
    padding is torn between the two. Drawn from the torch ``generator``. Returns key ids
    (B, T), value ids (B, T), lengths (B,), queries (B,), targets (B,)."""
    import torch

    B, T = batch_size, length
    if B < 1 or T < 2:
        raise ValueError(f"recall needs a batch of at least one row and length ≥ 2, "
                         f"got {B} and {T}")
    if keys < T or values < 2:
        raise ValueError(f"recall needs at least as many keys as positions ({T}) and two "
                         f"values, got {keys} keys and {values} values")
    lengths = torch.randint(2, T + 1, (B,), generator=generator)
    key_ids = torch.rand(B, keys, generator=generator).argsort(dim=1)[:, :T]  # distinct
    value_ids = torch.randint(0, values, (B, T), generator=generator)
    rows = torch.arange(B)
    chosen = (torch.rand(B, generator=generator) * lengths).long()      # a real position
    query, target = key_ids[rows, chosen], value_ids[rows, chosen]
    real = torch.arange(T)[None, :] < lengths[:, None]
    key_ids = torch.where(real, key_ids, torch.randint(0, keys, (B, T), generator=generator))
    decoy = lengths + (torch.rand(B, generator=generator) * (T - lengths)).long()
    other = (target + torch.randint(1, values, (B,), generator=generator)) % values
    padded = lengths < T
    key_ids[rows[padded], decoy[padded]] = query[padded]
    value_ids[rows[padded], decoy[padded]] = other[padded]
    return key_ids, value_ids, lengths, query, target


def recall_memory(key_ids, value_ids, query, keys: int, values: int):
    """What Assignment 10's recall model attends with, one-hot, in float32: the query
    d = onehot(query) (B, keys) and the memory h_j = [onehot(key_j) ; onehot(value_j)]
    (B, T, keys + values)."""
    import torch
    import torch.nn.functional as F

    h = torch.cat([F.one_hot(key_ids, keys), F.one_hot(value_ids, values)], dim=-1)
    return F.one_hot(query, keys).float(), h.float()


RECALL = {"length": 10, "keys": 20, "values": 20}      # Assignment 10's task
RECALL_WEIGHTS = ("W_q", "W_k", "b_k", "v", "W_hy", "b_y")


def recall_logits(weights: dict, key_ids, value_ids, lengths, query, masked: bool = True):
    """Logits (B, values) of Assignment 10's recall model, in float64: the chapter's
    additive attention (:class:`seqlm.attention.AdditiveScore`) of the query d to the
    memory h_j (:func:`recall_memory`), then the output layer::

        score(d, h_j) = v · tanh(W_q d + W_k h_j + b_k),   α = softmax over the real j
        h̄ = Σ_j α_j h_j,   ℓ = W_hy h̄ + b_y

    weights W_q (n_a, keys), W_k (n_a, keys + values), b_k (n_a,), v (n_a,), W_hy
    (values, keys + values), b_y (values,). ``masked=False`` lets the attention read the
    padding too."""
    import torch

    from seqlm import attention

    w = {k: torch.as_tensor(weights[k], dtype=torch.float64) for k in RECALL_WEIGHTS}
    n_a, keys = w["W_q"].shape
    d, h = recall_memory(key_ids, value_ids, query, keys, w["W_hy"].shape[0])
    with torch.random.fork_rng(), torch.no_grad():         # the layers' init draws nothing
        score = attention.AdditiveScore(keys, h.shape[-1], n_a).double()    # of the caller's
        score.W_q.weight.copy_(w["W_q"])
        score.W_k.weight.copy_(w["W_k"])
        score.W_k.bias.copy_(w["b_k"])
        score.v.weight.copy_(w["v"][None, :])
        mask = torch.arange(h.shape[1])[None, :] < lengths[:, None]
        h_bar, _ = attention.attend(score, d.double()[:, None, :], h.double(), h.double(),
                                    mask if masked else None)
        return h_bar[:, 0] @ w["W_hy"].T + w["b_y"]


def recall_accuracy(weights: dict, seed: int, rows: int = 4000, masked: bool = True) -> float:
    """The share of ``rows`` fresh rows of Assignment 10's recall task (:data:`RECALL`,
    drawn from ``seed``) whose target the recall model with ``weights`` scores highest."""
    import torch

    key_ids, value_ids, lengths, query, target = recall_task(
        rows, RECALL["length"], RECALL["keys"], RECALL["values"],
        torch.Generator().manual_seed(seed))
    logits = recall_logits(weights, key_ids, value_ids, lengths, query, masked)
    return float((logits.argmax(-1) == target).double().mean())


def grading() -> bool:
    """Whether this kernel is being graded (the grader's cases are there)."""
    return config.grading_cases() is not None


# --------------------------------------------------------------------------- visible tests

def _is_tensor(value) -> bool:
    return type(value).__module__.split(".")[0] == "torch" and hasattr(value, "shape")


def check_close(got, want, what: str, *, atol: float | None = None, rel: float | None = None):
    """The visible tests' one helper: ``got`` must be close to ``want``, else AssertionError.

    A number must be a float (Python or numpy) within ``rel`` (default 1e-9) of
    ``want``, relative, or ``atol`` (default 0) absolute. A tensor must be a tensor
    of ``want``'s shape whose every element is within ``atol`` (default 1e-6) +
    ``rel`` (default 0) × |want|.
    """
    if _is_tensor(want):
        import torch

        atol = 1e-6 if atol is None else atol
        rel = 0.0 if rel is None else rel
        assert isinstance(got, torch.Tensor), f"{what}: return a tensor, not {type(got).__name__}"
        assert got.shape == want.shape, \
            f"{what}: shape {tuple(got.shape)}, expected {tuple(want.shape)}"
        assert torch.allclose(got.to(want.dtype), want, atol=atol, rtol=rel), \
            f"{what}: values differ"
        return
    import numpy as np

    atol = 0.0 if atol is None else atol
    rel = 1e-9 if rel is None else rel
    assert isinstance(got, (float, np.floating)), \
        f"{what}: return a float, not {type(got).__name__}"
    assert math.isclose(got, want, rel_tol=rel, abs_tol=atol), f"{what}: got {got}, expected {want}"


# --------------------------------------------------------------------------- hidden tests

def encode(value, budget: list[int] | None = None):
    """A JSON-ready copy of an answer: numbers, strings, lists, str-keyed dicts, and
    tensors or arrays as ``{"__tensor__": {"dtype", "shape", "data"}}``."""
    budget = [MAX_NUMBERS] if budget is None else budget

    def spend(n):
        budget[0] -= n
        if budget[0] < 0:
            raise ValueError(f"the answer holds more than {MAX_NUMBERS:,} numbers")

    if value is None or isinstance(value, (bool, str)):
        spend(1)
        return value if not isinstance(value, str) else value[:1000]
    if isinstance(value, int):
        spend(1)
        return value if abs(value) < 2 ** 63 else float(value)
    if isinstance(value, float):
        spend(1)
        return float(value)
    kind = type(value).__module__.split(".")[0]
    if kind in ("torch", "numpy") and hasattr(value, "shape") and hasattr(value, "dtype"):
        if kind == "torch":
            value = value.detach().cpu()
            if value.dtype.is_complex:
                return {"__unsupported__": f"a complex tensor ({value.dtype})"}
        shape = [int(n) for n in value.shape]
        spend(max(1, math.prod(shape)))
        flat = value.reshape(-1).tolist()
        if not all(isinstance(v, (bool, int, float)) for v in flat):
            return {"__unsupported__": f"an array of {value.dtype}"}
        return {"__tensor__": {"dtype": str(value.dtype).replace("torch.", ""), "shape": shape,
                               "data": flat}}
    if kind == "numpy" and hasattr(value, "item"):  # a numpy scalar
        return encode(value.item(), budget)
    if isinstance(value, (list, tuple)):
        spend(1)
        return [encode(v, budget) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        spend(1)
        return {k[:100]: encode(v, budget) for k, v in value.items()}
    return {"__unsupported__": type(value).__name__[:100]}


def decode(value):
    """The inverse of :func:`encode` for the grader's cases: tensors become torch tensors."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__tensor__"}:
            import torch

            spec = value["__tensor__"]
            dtype = getattr(torch, spec["dtype"])
            return torch.tensor(spec["data"], dtype=dtype).reshape(spec["shape"])
        return {k: decode(v) for k, v in value.items()}
    return value


def cases(part: str) -> list[dict] | None:
    """The grader's cases for ``part`` in this run, or None when nothing is being graded."""
    path = config.grading_cases()
    if path is None or not path.exists():
        return None
    with open(path) as f:
        return [decode(case) for case in json.load(f)["parts"].get(part, [])]


def answer(part: str, function) -> None:
    """Call ``function(case)`` on each of the grader's cases for ``part`` and display the
    results, raw, for the grader to compare. An exception becomes that case's answer."""
    todo = cases(part)
    if todo is None:
        return
    results = []
    for case in todo:
        try:
            results.append({"value": encode(function(case))})
        except Exception as error:  # noqa: BLE001 - the student's error is the answer
            try:
                message = str(error)[:500]
            except Exception:  # noqa: BLE001
                message = "(an error whose message could not be shown)"
            results.append({"error": {"types": [t.__name__ for t in type(error).__mro__][:20],
                                      "message": message}})
    from IPython.display import display

    display({ANSWERS_MIME: json.dumps({"part": part, "results": results})}, raw=True)
