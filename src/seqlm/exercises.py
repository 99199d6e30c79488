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
