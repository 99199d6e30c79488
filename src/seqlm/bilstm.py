"""Bidirectional and stacked LSTMs, and the taggers and classifiers built on them
(Chapter 8).

A bidirectional layer runs one LSTM left to right and another right to left over the
same sequence and puts their states side by side::

    →h_t = LSTM→(x_1 … x_t),     ←h_t = LSTM←(x_T … x_t),     h_t = [→h_t ; ←h_t]

so every h_t has read the whole sequence. In a padded batch "right to left" means from
each sequence's own last token: :func:`reverse_padded` reverses the real tokens and
leaves the padding where it is (reversing the padded row would start the backward
LSTM on padding, the classic bug).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqlm import layers, lstm


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each sequence of x (B, T, …) reversed within its own length; the padding after it
    stays put. Its own inverse."""
    B, T = x.shape[:2]
    t = torch.arange(T, device=x.device)[None, :]                       # (1, T)
    lengths = torch.as_tensor(lengths, device=x.device)[:, None]        # (B, 1)
    index = torch.where(t < lengths, lengths - 1 - t, t)                # (B, T)
    index = index.view(B, T, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, index)


class Bidirectional(nn.Module):
    """One bidirectional layer from two one-layer recurrent layers (the book's own
    :class:`seqlm.lstm.LSTM` by default). x (B, T, input), lengths (B,) or None ->
    outputs (B, T, 2H) = [forward ; backward], zero past each sequence's end, and the
    final states (forward's after the last token, backward's after the first)."""

    def __init__(self, forward_layer: nn.Module, backward_layer: nn.Module):
        super().__init__()
        self.forward_layer, self.backward_layer = forward_layer, backward_layer

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None):
        if lengths is None:
            lengths = torch.full((x.shape[0],), x.shape[1], device=x.device)
        ahead, forward_final = self.forward_layer(x, None, lengths)
        back, backward_final = self.backward_layer(reverse_padded(x, lengths), None, lengths)
        return torch.cat([ahead, reverse_padded(back, lengths)], dim=-1), \
            (forward_final, backward_final)


class BiLSTM(nn.Module):
    """``num_layers`` bidirectional LSTM layers from scratch, each reading the one below's
    [→h ; ←h], with dropout between layers; the layout of
    ``nn.LSTM(bidirectional=True, batch_first=True)``, whose weights
    :meth:`copy_from` takes (``weight_ih_l{k}`` and ``weight_ih_l{k}_reverse``, …).
    x (B, T, input), lengths (B,) or None -> outputs (B, T, 2H)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 dropout: float = 0.0):
        super().__init__()
        self.layers = nn.ModuleList(
            Bidirectional(lstm.LSTM(input_size if k == 0 else 2 * hidden_size, hidden_size),
                          lstm.LSTM(input_size if k == 0 else 2 * hidden_size, hidden_size))
            for k in range(num_layers))
        self.drop = nn.Dropout(dropout)

    @torch.no_grad()
    def copy_from(self, reference: nn.LSTM) -> "BiLSTM":
        """Take the weights of a bidirectional ``nn.LSTM`` of the same shape."""
        for k, layer in enumerate(self.layers):
            for direction, suffix in ((layer.forward_layer, ""), (layer.backward_layer, "_reverse")):
                for name, parameter in direction.named_parameters():  # weight_ih_l0, …
                    parameter.copy_(getattr(reference, f"{name[:-1]}{k}{suffix}"))
        return self

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        for k, layer in enumerate(self.layers):
            x, _ = layer(self.drop(x) if k > 0 else x, lengths)
        return x


def lengths_of(x: torch.Tensor, pad_id: int) -> torch.Tensor:
    """The real length of each row of a padded batch x (B, T): the tokens before padding."""
    return (x != pad_id).sum(1)


class LearnedEmbedding(nn.Module):
    """A vector per vocabulary word, learned with the task: x (B, T) ids of a
    :class:`seqlm.tokens.TokenTable` -> (B, T, size). Words outside the vocabulary share
    ``<unk>``'s vector; padding has a zero one."""

    def __init__(self, table, size: int):
        super().__init__()
        self.register_buffer("vocab_ids", table.vocab_ids.clone(), persistent=False)
        V = table.pad_id
        self.embed = layers.init_features_(nn.Embedding(V + 1, size, padding_idx=V))
        with torch.no_grad():
            self.embed.weight[V] = 0
        self.output_size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed(self.vocab_ids[x])


class Encoder(nn.Module):
    """Token vectors read by a stack of ``num_layers`` ``nn.LSTM`` layers over padded
    batches (packed, so padding is never read): left to right only, or bidirectional;
    dropout on the token vectors, between layers and on the outputs. With ``residual``,
    every layer after the first adds its input to its output (Wu et al. 2016)::

        h^(1) = LSTM_1(e),      h^(k) = LSTM_k(dropout(h^(k-1))) + h^(k-1),  k = 2 … num_layers

    a path around each layer along which the gradient reaches the lower layers unchanged.
    x (B, T) padded ids -> states (B, T, D) (D = H or 2H; zero at padding), lengths (B,),
    and the last layer's final states h_n (directions, B, H)."""

    def __init__(self, embedder: nn.Module, hidden_size: int, pad_id: int, num_layers: int = 1,
                 bidirectional: bool = True, dropout: float = 0.0, residual: bool = False):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"an encoder needs num_layers ≥ 1, got {num_layers}")
        self.embedder, self.pad_id = embedder, pad_id
        self.bidirectional, self.residual = bidirectional, residual
        self.output_size = hidden_size * (2 if bidirectional else 1)
        self.layers = nn.ModuleList(
            nn.LSTM(embedder.output_size if k == 0 else self.output_size, hidden_size,
                    batch_first=True, bidirectional=bidirectional) for k in range(num_layers))
        self.drop = layers.Dropout(dropout)  # its own generator: taggers can train side by side

    def forward(self, x: torch.Tensor):
        lengths = lengths_of(x, self.pad_id)
        if (lengths == 0).any():
            raise ValueError("a sequence of padding only: every row needs a real token")
        states = self.drop(self.embedder(x))
        for k, layer in enumerate(self.layers):
            inputs = self.drop(states) if k > 0 else states
            packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True,
                                          enforce_sorted=False)
            out, (h_n, _) = layer(packed)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
            states = out + states if self.residual and k > 0 else out
        return self.drop(states), lengths, h_n


class Tagger(nn.Module):
    """One label per token: ŷ_t = softmax(W h_t + b), h_t the :class:`Encoder`'s state at
    t. x (B, T) padded ids -> logits (B, T, labels), None (no state between batches)."""

    def __init__(self, encoder: Encoder, labels: int):
        super().__init__()
        self.encoder = encoder
        self.out = nn.Linear(encoder.output_size, labels)

    def forward(self, x: torch.Tensor, state=None):
        states, _, _ = self.encoder(x)
        return self.out(states), None


class Classifier(nn.Module):
    """One label per sequence, from the :class:`Encoder`'s states pooled over time:
    ``"final"``, the last layer's final states [→h_T ; ←h_1] (each direction's summary of
    the whole sequence), or ``"mean"``, the mean of h_1 … h_T. x (B, T) padded ids ->
    logits (B, labels), None."""

    POOLING = ("final", "mean")

    def __init__(self, encoder: Encoder, labels: int, pooling: str = "final"):
        super().__init__()
        if pooling not in self.POOLING:
            raise ValueError(f"unknown pooling {pooling!r}; choose one of {self.POOLING}")
        self.encoder, self.pooling = encoder, pooling
        self.out = nn.Linear(encoder.output_size, labels)

    def forward(self, x: torch.Tensor, state=None):
        states, lengths, h_n = self.encoder(x)
        if self.pooling == "mean":
            summary = states.sum(1) / lengths[:, None].to(states.dtype)
        else:
            summary = torch.cat(list(h_n), dim=-1)                       # (B, D)
        return self.out(summary), None


class BagOfWords(nn.Module):
    """Logistic regression on word counts, the baseline: ŷ = softmax(W c + b), c the
    count of each vocabulary word in the sequence (order ignored). x (B, T) padded table
    ids -> logits (B, labels), None."""

    def __init__(self, table, labels: int):
        super().__init__()
        self.register_buffer("vocab_ids", table.vocab_ids.clone(), persistent=False)
        self.vocab_size = table.pad_id
        self.out = nn.Linear(self.vocab_size, labels)

    def forward(self, x: torch.Tensor, state=None):
        ids = self.vocab_ids[x]                                           # (B, T)
        counts = torch.zeros(x.shape[0], self.vocab_size + 1, device=x.device)
        counts.scatter_add_(1, ids, torch.ones_like(ids, dtype=counts.dtype))
        return self.out(counts[:, :-1]), None                            # padding dropped
