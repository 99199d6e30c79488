"""The encoder-decoder, with and without attention, and how it writes its output:
greedy decoding and beam search (Chapter 10).

The input x_1 … x_T is read by Chapter 8's bidirectional encoder; the decoder is a
language model of the output y_1 … y_T' that starts from a summary of the input
(Sutskever et al. 2014, Cho et al. 2014) and, with attention, also looks back at every
encoder state at every step (Bahdanau et al. 2015, Luong et al. 2015)::

    h_1 … h_T = BiLSTM(x_1 … x_T)                       encoder states, h_j = [→h_j ; ←h_j]
    d_0       = tanh(W_0 [→h_T ; ←h_1] + b_0)            the input in one vector
    d_i       = LSTM(d_{i-1}, E y_{i-1}),  y_0 = <s>     decoder states
    without attention:  ℓ_i = W_hy d_i + b_y
    with attention:     α_ij = softmax_j score(d_i, h_j),  h̄_i = Σ_j α_ij h_j
                        d̃_i = tanh(W_d̃ [d_i ; h̄_i] + b_d̃),  ℓ_i = W_hy d̃_i + b_y
    p(y_i | y_<i, x) = softmax(ℓ_i)

(the decoder's cell state starts from the same summary through its own weights.) Output
ids: ``</s>`` is 0, the other outputs 1 … outputs-1; the decoder also reads ``<s>``
(id ``outputs``) and padding (``outputs + 1``). Training is teacher forcing: the decoder
reads the reference y_1 … y_{i-1}, not its own guesses (:meth:`Seq2Seq.loss`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from seqlm import attention, bilstm, layers
from seqlm.train import IGNORE_INDEX, evaluating

EOS = 0


class SymbolEmbedding(nn.Module):
    """A learned vector per symbol, padding's zero: ids (B, T) -> (B, T, size)."""

    def __init__(self, symbols: int, size: int, pad_id: int):
        super().__init__()
        self.embed = layers.init_features_(nn.Embedding(symbols, size, padding_idx=pad_id))
        with torch.no_grad():
            self.embed.weight[pad_id] = 0
        self.output_size = size

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.embed(ids)


@dataclass
class Memory:
    """What the decoder reads of the input: the encoder states (B, T, D) and where they
    are real (B, T)."""

    states: torch.Tensor
    mask: torch.Tensor

    def repeat(self, times: int) -> "Memory":
        """Each row ``times`` times in a row (for the hypotheses of a beam)."""
        return Memory(self.states.repeat_interleave(times, 0),
                      self.mask.repeat_interleave(times, 0))


class Seq2Seq(nn.Module):
    """The encoder-decoder of the module docstring. ``score``: None (no attention) or a
    name of :data:`seqlm.attention.SCORES`. ``model(x, y_in)`` reads x (B, T) padded input
    ids and y_in (B, T') decoder inputs (``<s>`` y_1 … y_{T'-1}) -> logits (B, T',
    outputs) and the attention weights α (B, T', T) (None without attention)."""

    def __init__(self, input_symbols: int, input_pad_id: int, outputs: int, embed_size: int,
                 hidden_size: int, decoder_size: int, score: str | None = "general",
                 dropout: float = 0.0):
        super().__init__()
        self.outputs, self.bos_id, self.pad_id = outputs, outputs, outputs + 1
        embedder = SymbolEmbedding(input_symbols, embed_size, input_pad_id)
        self.encoder = bilstm.Encoder(embedder, hidden_size, input_pad_id, dropout=dropout)
        D = self.encoder.output_size                                     # 2 · hidden_size
        self.bridge = nn.Linear(D, 2 * decoder_size)                     # W_0, b_0: d_0, cell
        self.embed = SymbolEmbedding(outputs + 2, embed_size, self.pad_id)   # E
        self.decoder = nn.LSTM(embed_size, decoder_size, batch_first=True)
        self.score = None if score is None else attention.score_function(score, decoder_size, D)
        self.combine = None if score is None else nn.Linear(decoder_size + D, decoder_size)  # W_d̃
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(decoder_size, outputs)                      # W_hy, b_y

    def encode(self, x: torch.Tensor):
        """x (B, T) -> the :class:`Memory` and the decoder's first state (d_0, its cell),
        each (1, B, decoder_size)."""
        states, lengths, h_n = self.encoder(x)
        summary = torch.cat([h_n[-2], h_n[-1]], dim=-1)                  # [→h_T ; ←h_1]
        start, cell = self.bridge(summary).chunk(2, dim=-1)
        mask = torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]
        return Memory(states, mask), (torch.tanh(start)[None], cell[None].contiguous())

    def decode(self, y_in: torch.Tensor, state, memory: Memory):
        """Decoder inputs (B, T') from ``state`` -> logits (B, T', outputs), the state
        after them, and α (B, T', T) or None."""
        d, state = self.decoder(self.drop(self.embed(y_in)), state)     # (B, T', n_d)
        weights = None
        if self.score is not None:
            h_bar, weights = attention.attend(self.score, d, memory.states, memory.states,
                                              memory.mask)               # (B, T', D)
            d = torch.tanh(self.combine(torch.cat([d, h_bar], dim=-1)))  # d̃
        return self.out(self.drop(d)), state, weights

    def forward(self, x: torch.Tensor, y_in: torch.Tensor):
        memory, state = self.encode(x)
        logits, _, weights = self.decode(y_in, state, memory)
        return logits, weights

    def step(self, previous: torch.Tensor, state, memory: Memory):
        """One decoding step: the previous outputs (B,) -> log-probabilities (B, outputs)
        of the next, the new state, and α (B, T) or None."""
        logits, state, weights = self.decode(previous[:, None], state, memory)
        return (F.log_softmax(logits[:, 0], dim=-1), state,
                None if weights is None else weights[:, 0])

    def decoder_inputs(self, y: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: targets y (B, T') padded with IGNORE_INDEX -> the decoder's
        inputs ``<s>`` y_1 … y_{T'-1} (B, T'), padded with the decoder's padding id."""
        y = y.masked_fill(y == IGNORE_INDEX, self.pad_id)
        bos = torch.full_like(y[:, :1], self.bos_id)
        return torch.cat([bos, y[:, :-1]], dim=1)

    def loss(self, x: torch.Tensor, y: torch.Tensor, state=None):
        """The training loss of :func:`seqlm.train.train`: the mean cross-entropy (nats) of
        every real target, the decoder reading the reference (teacher forcing); None."""
        logits, _ = self(x, self.decoder_inputs(y))
        return F.cross_entropy(logits.reshape(-1, self.outputs), y.reshape(-1),
                               ignore_index=IGNORE_INDEX), None


# --------------------------------------------------------------------------- decoding

@dataclass
class Decoded:
    """What decoding returns for a batch of B inputs: each output (ids, without ``</s>``),
    the model's log-probability of it (``</s>`` included when it ended), and whether it
    ended (False: it reached the length limit first)."""

    outputs: list[list[int]]
    log_prob: torch.Tensor   # (B,)
    finished: torch.Tensor   # (B,) bool


def _check_limit(max_length: int):
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        raise ValueError(f"max_length must be an integer ≥ 1 (outputs, </s> included), "
                         f"got {max_length!r}")


def _until_eos(ids: list[int]) -> list[int]:
    return ids[:ids.index(EOS)] if EOS in ids else ids


def greedy_decode(model: Seq2Seq, x: torch.Tensor, max_length: int) -> Decoded:
    """At each step the most probable next output, until ``</s>`` or ``max_length`` outputs
    (``</s>`` counted); the whole batch at once. x (B, T)."""
    _check_limit(max_length)
    with evaluating(model) as device:
        memory, state = model.encode(x.to(device))
        B = x.shape[0]
        previous = torch.full((B,), model.bos_id, device=device)
        log_prob = torch.zeros(B, device=device, dtype=memory.states.dtype)
        finished = torch.zeros(B, dtype=torch.bool, device=device)
        chosen = []
        for _ in range(max_length):
            log_probs, state, _ = model.step(previous, state, memory)
            best, previous = log_probs.max(-1)
            log_prob += torch.where(finished, torch.zeros_like(best), best)
            chosen.append(torch.where(finished, torch.full_like(previous, EOS), previous))
            finished |= previous == EOS
            if finished.all():
                break
        ids = torch.stack(chosen, 1).tolist()
    return Decoded([_until_eos(row) for row in ids], log_prob.cpu(), finished.cpu())


def beam_search(model: Seq2Seq, x: torch.Tensor, beam_size: int, max_length: int,
                normalise: bool = True) -> Decoded:
    """Keep the ``beam_size`` best partial outputs of every input, extend each by every
    output, keep the best ``beam_size`` again; the whole batch at once. Hypotheses are
    ranked by log p(y | x), divided by their length (``</s>`` counted) when
    ``normalise``. At the first step only one hypothesis is live (the others start at
    −∞); a hypothesis that has ended is carried along by one extension that costs
    nothing and adds no length. Stops when every kept hypothesis has ended or after
    ``max_length`` outputs; returns the best of each input's beam."""
    if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
        raise ValueError(f"beam_size must be an integer ≥ 1, got {beam_size!r}")
    _check_limit(max_length)
    k = beam_size
    with evaluating(model) as device:
        memory, state = model.encode(x.to(device))
        B = x.shape[0]
        memory, state = memory.repeat(k), tuple(s.repeat_interleave(k, 1) for s in state)
        score = torch.full((B, k), -torch.inf, device=device, dtype=memory.states.dtype)
        score[:, 0] = 0.0                                               # log p so far
        length = torch.zeros(B, k, device=device, dtype=memory.states.dtype)
        finished = torch.zeros(B, k, dtype=torch.bool, device=device)
        ids = torch.zeros(B, k, 0, dtype=torch.long, device=device)
        previous = torch.full((B * k,), model.bos_id, device=device)
        for _ in range(max_length):
            log_probs, state, _ = model.step(previous, state, memory)
            log_probs = log_probs.view(B, k, -1)                        # (B, k, V)
            V = log_probs.shape[-1]
            carried = torch.full_like(log_probs, -torch.inf)
            carried[..., EOS] = 0.0                                      # ended: stay, free
            total = score[..., None] + torch.where(finished[..., None], carried, log_probs)
            new_length = (length + (~finished).to(length.dtype))[..., None].expand(B, k, V)
            rank = total / new_length if normalise else total
            best = rank.reshape(B, k * V).topk(k, dim=-1).indices       # (B, k)
            origin, token = best // V, best % V
            score = total.reshape(B, k * V).gather(1, best)
            length = new_length.reshape(B, k * V).gather(1, best)
            finished = finished.gather(1, origin) | (token == EOS)
            ids = torch.cat([ids.gather(1, origin[..., None].expand(-1, -1, ids.shape[2])),
                             token[..., None]], dim=2)
            rows = (torch.arange(B, device=device)[:, None] * k + origin).reshape(-1)
            state = tuple(s[:, rows] for s in state)
            previous = token.reshape(-1)
            if finished.all():
                break
        final = score / length.clamp(min=1) if normalise else score
        pick = final.argmax(-1)                                         # (B,)
        rows = torch.arange(B, device=device)
        chosen = ids[rows, pick].tolist()
        result = Decoded([_until_eos(row) for row in chosen], score[rows, pick].cpu(),
                         finished[rows, pick].cpu())
    return result


def log_prob_of(model: Seq2Seq, x: torch.Tensor, outputs: list[list[int]],
                ended: torch.Tensor | None = None) -> torch.Tensor:
    """The model's log-probability of given outputs (ids without ``</s>``), (B,): the sum
    of log p(y_i | y_<i, x) over the outputs, with ``</s>`` after each that has
    ``ended`` (all, when None)."""
    ended = torch.ones(len(outputs), dtype=torch.bool) if ended is None else ended
    rows = [list(o) + ([EOS] if e else []) for o, e in zip(outputs, ended.tolist())]
    y = torch.full((len(rows), max(1, max(map(len, rows)))), IGNORE_INDEX, dtype=torch.long)
    for r, row in enumerate(rows):
        y[r, :len(row)] = torch.tensor(row, dtype=torch.long)
    with evaluating(model) as device:
        y = y.to(device)
        logits, _ = model(x.to(device), model.decoder_inputs(y))
        log_probs = F.log_softmax(logits, dim=-1)
        real = y != IGNORE_INDEX
        picked = log_probs.gather(-1, y.clamp(min=0)[..., None])[..., 0]
        return (picked * real).sum(1).cpu()


def attention_maps(model: Seq2Seq, x: torch.Tensor, outputs: list[list[int]]):
    """The attention weights α of the decoder reading given outputs (ids without
    ``</s>``): one (|y|, T_word) map per input, rows the outputs (``</s>``'s step left
    out), columns the input's real positions."""
    if model.score is None:
        raise ValueError("a model without attention has no attention weights")
    y = torch.full((len(outputs), max(1, max(map(len, outputs))) + 1), IGNORE_INDEX)
    for r, row in enumerate(outputs):
        y[r, :len(row) + 1] = torch.tensor(list(row) + [EOS])
    with evaluating(model) as device:
        _, weights = model(x.to(device), model.decoder_inputs(y.to(device)))
        lengths = bilstm.lengths_of(x, model.encoder.pad_id).tolist()
        return [weights[r, :len(row), :lengths[r]].cpu() for r, row in enumerate(outputs)]
