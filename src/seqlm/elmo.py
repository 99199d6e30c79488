"""ELMo: deep contextual word representations from a bidirectional language model
(Peters et al. 2018), Chapter 9.

The biLM reads a token sequence x_1 … x_N twice. A forward LSTM LM predicts each token
from the ones before it, a backward one from the ones after it; they share the token
layer and the softmax, and are trained on the sum of both log-likelihoods::

    Σ_t [ log p(x_t | x_1 … x_{t-1}) + log p(x_t | x_{t+1} … x_N) ]

Each token t then has 2 n_L + 1 representations: the token layer e_t and, for each of
the n_L LSTM layers j, →h_{t,j} and ←h_{t,j}. Stacked as n_L + 1 vectors
h_{t,0} = [e_t ; e_t], h_{t,j} = [→h_{t,j} ; ←h_{t,j}], a task mixes them
(:class:`ScalarMix`). (Peters et al. write t_k for the tokens, x_k for the token layer,
L for the number of layers and s_j for the mixing weights; the book's notation page
keeps those letters for other things.)

The token layer reads characters (Kim et al. 2016): a character CNN and highway layers,
so that a word outside the vocabulary still gets a vector. Training uses a sampled
softmax (as ELMo's biLM was trained), evaluation the full one.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from seqlm.bilstm import LearnedEmbedding, lengths_of, reverse_padded
from seqlm.train import evaluating


class Highway(nn.Module):
    """Highway layers (Srivastava et al. 2015), each::

        g = σ(W_T x + b_T),     y = g ⊙ relu(W_H x + b_H) + (1 - g) ⊙ x

    a gate that carries the input through where it is shut. b_T starts at -1 (carry
    mostly), as Kim et al. start it negative. (…, size) -> (…, size)."""

    def __init__(self, size: int, num_layers: int = 1):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(size, 2 * size) for _ in range(num_layers))
        for layer in self.layers:
            nn.init.constant_(layer.bias[size:], -1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            transformed, gate = layer(x).chunk(2, dim=-1)
            g = torch.sigmoid(gate)
            x = g * F.relu(transformed) + (1 - g) * x
        return x


FILTERS = ((1, 32), (2, 32), (3, 64), (4, 64), (5, 64))   # (width, count) of CharCNN's filters


class CharCNN(nn.Module):
    """A word's vector from its spelling (Kim et al. 2016): embed the characters
    ``<w> c_1 … c_n </w>`` (char_size each), convolve with filters of several widths,
    take each filter's maximum over positions, then highway layers, a projection to
    ``output_size`` and layer normalisation::

        f = max over positions of tanh(filters * C),   e = LN(P · highway([f of every width]))

    x (B, T) ids of a :class:`seqlm.tokens.TokenTable` -> (B, T, output_size). Each
    distinct word of a batch is computed once."""

    def __init__(self, table, output_size: int, char_size: int = 16,
                 filters: tuple[tuple[int, int], ...] = FILTERS, highway_layers: int = 1):
        super().__init__()
        self.register_buffer("spellings", table.spellings.clone(), persistent=False)
        self.chars = nn.Embedding(table.alphabet_size, char_size, padding_idx=0)
        self.convs = nn.ModuleList(nn.Conv1d(char_size, count, width) for width, count in filters)
        width = sum(count for _, count in filters)
        self.highway = Highway(width, highway_layers)
        self.project = nn.Linear(width, output_size)
        self.norm = nn.LayerNorm(output_size)
        self.output_size = output_size

    def words(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (N,) -> (N, output_size)."""
        chars = self.chars(self.spellings[ids]).transpose(1, 2)          # (N, char, W)
        features = torch.cat([torch.tanh(conv(chars)).amax(-1) for conv in self.convs], -1)
        return self.norm(self.project(self.highway(features)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        distinct, where = torch.unique(x, return_inverse=True)
        return self.words(distinct)[where]                                # (B, T, D)


class SampledSoftmax(nn.Module):
    """The output layer p(w | h) = softmax(W h + b)_w over a large vocabulary, trained on
    a sample (Bengio and Senécal 2008; Jean et al. 2015). Each batch draws S negatives
    w_1 … w_S from a proposal Q (the unigram distribution raised to 0.75), shared by all
    targets, and corrects their scores by log(S Q)::

        ℓ_w = W_w · h + b_w,     Ẑ = exp(ℓ_y) + Σ_i exp(ℓ_{w_i} - log(S Q(w_i)))
        loss = -ℓ_y + log Ẑ        (≈ -log p(y | h) = -ℓ_y + log Σ_w exp(ℓ_w))

    (a negative that is the target y itself is masked out). Σ_i exp(ℓ_{w_i}) / (S Q(w_i))
    estimates the full normaliser, so the loss estimates the full cross-entropy and its
    gradient the full gradient, at the cost of S + 1 rows of W instead of |V|. In eval mode, and
    whenever ``full`` is asked, the loss is the exact cross-entropy. b starts at the log
    unigram frequencies, so that the untrained model is a unigram model."""

    def __init__(self, counts: torch.Tensor, size: int, samples: int):
        super().__init__()
        counts = torch.as_tensor(counts, dtype=torch.float64).clamp(min=1)
        self.weight = nn.Parameter(torch.empty(len(counts), size).normal_(0, size ** -0.5))
        self.bias = nn.Parameter((counts / counts.sum()).log().float())
        proposal = counts ** 0.75
        self.register_buffer("proposal", (proposal / proposal.sum()).float(), persistent=False)
        self.samples = samples

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        return h @ self.weight.T + self.bias

    def loss(self, h: torch.Tensor, targets: torch.Tensor, full: bool = False,
             corrected: bool = True) -> torch.Tensor:
        """Mean nats per target; h (N, size), targets (N,). ``corrected=False`` leaves out
        the log(S Q) correction (to see what it is for)."""
        if full or not self.training or self.samples >= len(self.bias):
            return F.cross_entropy(self.logits(h), targets)
        negatives = torch.multinomial(self.proposal, self.samples, replacement=True)  # (S,)
        log_sq = math.log(self.samples) + self.proposal.log() if corrected else \
            torch.zeros_like(self.proposal)
        true = (h * self.weight[targets]).sum(-1) + self.bias[targets]
        sampled = h @ self.weight[negatives].T + self.bias[negatives] - log_sq[negatives]
        sampled = sampled.masked_fill(negatives[None, :] == targets[:, None], -math.inf)
        scores = torch.cat([true[:, None], sampled], dim=1)                # (N, 1 + S)
        return F.cross_entropy(scores, torch.zeros_like(targets))


def cross_entropy_of_logits(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean nats per target of logits (…, V) against targets (…)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def joint_loss(forward_out, backward_out, targets, token_loss=cross_entropy_of_logits):
    """The biLM's objective on a window of tokens x_1 … x_T (targets (B, T)): the forward
    LM's output at t predicts x_{t+1}, the backward LM's output at t predicts x_{t-1}::

        loss = -mean_t log p(x_{t+1} | x_1 … x_t) - mean_t log p(x_{t-1} | x_t … x_T)

    ``forward_out`` and ``backward_out`` (B, T, …) are what ``token_loss(out, targets)``
    scores: logits by default, or hidden states with a softmax's own loss."""
    ahead = token_loss(forward_out[:, :-1], targets[:, 1:])
    behind = token_loss(backward_out[:, 1:], targets[:, :-1])
    return ahead + behind


class BiLM(nn.Module):
    """The bidirectional language model: a :class:`CharCNN` token layer e_t (size D), then
    per direction ``num_layers`` LSTM layers of D units, each layer after the first with a
    residual connection (h_j = LSTM_j(h_{j-1}) + h_{j-1}), dropout between layers, and a
    :class:`SampledSoftmax` shared by both directions. x (B, T) table ids, y (B, T) the
    vocabulary ids of the same tokens (:class:`seqlm.batches.AlignedStreams`)."""

    def __init__(self, table, counts, size: int, num_layers: int = 2, samples: int = 512,
                 dropout: float = 0.1, char_size: int = 16, highway_layers: int = 1):
        super().__init__()
        if num_layers < 1 or size < 1:
            raise ValueError("a biLM needs num_layers ≥ 1 and size ≥ 1")
        self.token = CharCNN(table, size, char_size, highway_layers=highway_layers)
        self.forward_layers = nn.ModuleList(nn.LSTM(size, size, batch_first=True)
                                            for _ in range(num_layers))
        self.backward_layers = nn.ModuleList(nn.LSTM(size, size, batch_first=True)
                                             for _ in range(num_layers))
        self.softmax = SampledSoftmax(counts, size, samples)
        self.drop = nn.Dropout(dropout)
        self.pad_id, self.size, self.num_layers = table.pad_id, size, num_layers

    def _direction(self, layers, x: torch.Tensor) -> list[torch.Tensor]:
        outputs = []
        for j, layer in enumerate(layers):
            h, _ = layer(self.drop(x))
            x = h if j == 0 else h + x                                     # residual
            outputs.append(x)
        return outputs

    def directions(self, x: torch.Tensor):
        """The token layer (B, T, D) and each direction's layer outputs (lists of n_L (B, T, D)).
        In a padded batch the backward LM starts at each row's last real token."""
        lengths = lengths_of(x, self.pad_id)
        tokens = self.token(x)
        ahead = self._direction(self.forward_layers, tokens)
        behind = self._direction(self.backward_layers, reverse_padded(tokens, lengths))
        return tokens, ahead, [reverse_padded(h, lengths) for h in behind]

    def layers(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The n_L + 1 representations of every token: [e ; e], then [→h_j ; ←h_j] for each
        layer j; each (B, T, 2D)."""
        tokens, ahead, behind = self.directions(x)
        return [torch.cat([tokens, tokens], -1)] + [torch.cat(pair, -1)
                                                    for pair in zip(ahead, behind)]

    def forward(self, x: torch.Tensor, state=None):
        return self.layers(x), None

    def loss(self, x: torch.Tensor, y: torch.Tensor, state=None):
        """The joint loss (nats, forward plus backward) of a window, and no state."""
        _, ahead, behind = self.directions(x)
        token_loss = lambda h, t: self.softmax.loss(self.drop(h).reshape(-1, self.size),
                                                    t.reshape(-1))
        return joint_loss(ahead[-1], behind[-1], y, token_loss), None

    @torch.no_grad()
    def direction_losses(self, batches, device=None) -> tuple[float, float]:
        """Nats per token of the forward and of the backward LM over ``batches``, with the
        full softmax (exp: each direction's perplexity)."""
        totals, count = [0.0, 0.0], 0
        with evaluating(self) as own_device:
            for x, y in batches(0):
                x, y = x.to(device or own_device), y.to(device or own_device)
                _, ahead, behind = self.directions(x)
                for i, (h, t) in enumerate(((ahead[-1][:, :-1], y[:, 1:]),
                                            (behind[-1][:, 1:], y[:, :-1]))):
                    totals[i] += self.softmax.loss(h.reshape(-1, self.size), t.reshape(-1),
                                                   full=True).item() * t.numel()
                count += y[:, 1:].numel()
        return totals[0] / count, totals[1] / count


class ScalarMix(nn.Module):
    """A task's weighted sum of the biLM's n_L + 1 layers (Peters et al. 2018, eq. 1)::

        ELMo_t = γ Σ_{j=0}^{n_L} λ_j h_{t,j},        λ = softmax(ω)

    with ω (n_L + 1,) and γ learned by the task (ω starts at 0: an equal mix; γ at 1).
    With ``layer_norm`` each h_{t,j} is first normalised to mean 0 and variance 1 over its
    own features (layer normalisation without a learned scale, Ba et al. 2016), so that
    layers of different spreads start on an equal footing and a token's vector does not
    depend on the rest of its batch. Layers: a list of n_L + 1 tensors (…, D) -> (…, D)."""

    def __init__(self, num_layers: int, layer_norm: bool = False):
        super().__init__()
        if num_layers < 1:
            raise ValueError("a scalar mix needs at least one layer")
        self.omega = nn.Parameter(torch.zeros(num_layers))
        self.gamma = nn.Parameter(torch.ones(()))
        self.layer_norm = layer_norm

    def weights(self) -> torch.Tensor:
        """λ = softmax(ω), the share of each layer."""
        return torch.softmax(self.omega, 0)

    def forward(self, layers: list[torch.Tensor]):
        if len(layers) != len(self.omega):
            raise ValueError(f"expected {len(self.omega)} layers, got {len(layers)}")
        if self.layer_norm:
            layers = [F.layer_norm(h, h.shape[-1:]) for h in layers]
        return self.gamma * sum(lam * h for lam, h in zip(self.weights(), layers))


class FrozenBiLM:
    """A pretrained biLM as the task models read it: frozen, in eval mode, and each line read
    once. A line's n_L + 1 layers depend only on the line (the padding tests prove it), so
    the first time a line is asked for, the biLM reads it between two ``<eos>`` (as its
    training stream has one at each line's end) and its n_L LSTM layers are kept; every
    later request is a look-up. The token layer e_t depends only on the word, so it comes
    from a table computed once for every word type of the token table. The kept layers
    stay on the biLM's device; once ``cache_bytes`` are used, further lines are computed
    each time they are asked for (same numbers, no memory).
    """

    def __init__(self, bilm: BiLM, eos_id: int, cache_bytes: int = 2 << 30):
        self.bilm = bilm.requires_grad_(False).eval()
        self.eos_id, self.cache_bytes = eos_id, cache_bytes
        self.pad_id, self.size, self.num_layers = bilm.pad_id, bilm.size, bilm.num_layers
        self._lines: dict[bytes, torch.Tensor] = {}      # line's ids -> (n_L, length, 2D)
        self._bytes = 0
        self._token_table: torch.Tensor | None = None

    @property
    def device(self) -> torch.device:
        return self.bilm.softmax.weight.device

    @torch.no_grad()
    def token_table(self) -> torch.Tensor:
        """e for every word type of the token table: (types, D)."""
        if self._token_table is None:
            ids = torch.arange(len(self.bilm.token.spellings), device=self.device)
            self._token_table = torch.cat([self.bilm.token.words(chunk)
                                           for chunk in ids.split(4096)])
        return self._token_table

    @torch.no_grad()
    def _read(self, lines: list[torch.Tensor]) -> list[torch.Tensor]:
        """The n_L LSTM layers of each line (1-D ids, no padding), read by the biLM in one
        padded batch: each (n_L, length, 2D)."""
        lengths = [len(line) for line in lines]
        framed = torch.full((len(lines), max(lengths) + 2), self.pad_id, device=self.device)
        framed[:, 0] = self.eos_id
        for r, line in enumerate(lines):
            framed[r, 1:lengths[r] + 1] = line
            framed[r, lengths[r] + 1] = self.eos_id
        _, ahead, behind = self.bilm.directions(framed)
        stacked = torch.stack([torch.cat(pair, -1) for pair in zip(ahead, behind)])  # (n_L,B,T,2D)
        return [stacked[:, r, 1:n + 1] for r, n in enumerate(lengths)]

    def _lstm_layers(self, x: torch.Tensor) -> torch.Tensor:
        """The n_L LSTM layers of every row of a padded batch x (B, T): (n_L, B, T, 2D), zero at
        padding; lines seen before are looked up."""
        rows = [row[row != self.pad_id].to(self.device) for row in x]
        keys = [row.cpu().numpy().tobytes() for row in rows]
        missing = {key: row for key, row in zip(keys, rows) if key not in self._lines}
        found = dict(zip(missing, self._read(list(missing.values())))) if missing else {}
        for key, layers in found.items():
            if self._bytes + layers.numel() * layers.element_size() <= self.cache_bytes:
                self._lines[key] = layers
                self._bytes += layers.numel() * layers.element_size()
        B, T = x.shape
        out = torch.zeros(self.num_layers, B, T, 2 * self.size, device=self.device)
        for r, key in enumerate(keys):
            layers = self._lines.get(key, found.get(key))
            out[:, r, :layers.shape[1]] = layers
        return out

    def layers(self, x: torch.Tensor, tokens_only: bool = False) -> list[torch.Tensor]:
        """The n_L + 1 representations of every real token of a padded batch x (B, T) of
        table ids: h_0 = [e_t ; e_t], then h_j = [→h_{t,j} ; ←h_{t,j}] for each layer j;
        each (B, T, 2D) on x's device. Only h_0 with ``tokens_only``."""
        tokens = self.token_table()[x.to(self.device)]
        out = [torch.cat([tokens, tokens], -1)]
        if not tokens_only:
            out += list(self._lstm_layers(x))
        return [h.to(x.device) for h in out]


class ElmoInput(nn.Module):
    """The token vectors a tagger reads, in one of three kinds (Chapter 9's experiment):

    - ``"learned"``: a :class:`~seqlm.bilstm.LearnedEmbedding` trained with the task;
    - ``"token"``: that, beside the frozen biLM's token layer e_t (type-based: one
      vector per word, whatever its context);
    - ``"elmo"``: that, beside γ Σ λ_j h_{t,j} over all the frozen biLM's layers
      (token-based), as Peters et al. add ELMo to a task model's own embeddings.

    ``frozen`` is the pretrained biLM (:class:`FrozenBiLM`, which reads each line once, for
    every model that shares it). ``layer = j`` replaces the mix by the biLM's layer j alone
    (to see what each holds). x (B, T) padded table ids -> (B, T, output_size)."""

    KINDS = ("learned", "token", "elmo")

    def __init__(self, kind: str, table, embed_size: int, frozen: FrozenBiLM | None = None,
                 layer_norm: bool = False, layer: int | None = None):
        super().__init__()
        if kind not in self.KINDS:
            raise ValueError(f"unknown input kind {kind!r}; choose one of {self.KINDS}")
        if kind != "learned" and not isinstance(frozen, FrozenBiLM):
            raise ValueError(f"the {kind!r} input needs a pretrained biLM (a FrozenBiLM)")
        if layer is not None and (kind != "elmo" or not 0 <= layer <= frozen.num_layers):
            raise ValueError(f"layer picks one of the biLM's layers 0 … n_L for kind 'elmo'")
        self.kind, self.pad_id, self.layer, self.frozen = kind, table.pad_id, layer, frozen
        self.learned = LearnedEmbedding(table, embed_size)
        self.output_size = embed_size + (0 if kind == "learned" else 2 * frozen.size)
        if kind == "elmo" and layer is None:
            self.mix = ScalarMix(frozen.num_layers + 1, layer_norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        learned = self.learned(x)
        if self.kind == "learned":
            return learned
        layers = self.frozen.layers(x, tokens_only=self.kind == "token")
        if self.kind == "token":
            return torch.cat([learned, layers[0]], -1)
        if self.layer is not None:
            return torch.cat([learned, layers[self.layer]], -1)
        return torch.cat([learned, self.mix(layers)], -1)
