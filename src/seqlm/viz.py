"""Plots shared by the chapters (matplotlib only)."""

from __future__ import annotations

import math

import matplotlib
import matplotlib.ticker
import matplotlib.pyplot as plt
import numpy as np


_STYLES = [dict(marker=m, ls=ls) for m, ls in
           [("o", "-"), ("s", "--"), ("^", "-."), ("D", ":"), ("v", "-"), ("P", "--")]]


def lines_by_order(series: dict[str, dict[int, float]], ylabel: str, title: str,
                   logy: bool = False, ax=None):
    """One line per method over the n-gram order n, each with its own marker and dash so
    that lines stay apart in print; infinite values are left out."""
    ax = ax or plt.subplots(figsize=(6.5, 4))[1]
    for style, (name, values) in zip(_STYLES * 2, series.items()):
        orders = [n for n, v in sorted(values.items()) if math.isfinite(v)]
        ax.plot(orders, [values[n] for n in orders], label=name, **style)
    ax.set(xlabel="order n", ylabel=ylabel, title=title)
    if logy:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=9)
    return ax


def heatmap(matrix: np.ndarray, labels: list[str], title: str, ax=None,
            colorbar: str | None = None):
    """A square table of counts as a heat map, rows = previous symbol, columns = next,
    with a colour bar labelled ``colorbar`` when given."""
    ax = ax or plt.subplots(figsize=(7.5, 7))[1]
    image = ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set(xlabel="next character", ylabel="previous character", title=title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, shrink=0.8, label=colorbar)
    return ax


def learning_curves(histories: dict, title: str, ax=None):
    """Valid perplexity (solid, one point per evaluation) and train perplexity (dashed, the
    mean over the steps since the previous evaluation) against steps, one pair of lines per
    run; ``histories`` maps a label to a :class:`seqlm.train.History`."""
    ax = ax or plt.subplots(figsize=(6.5, 4))[1]
    for label, history in histories.items():
        line, = ax.plot(history.step, np.exp(history.valid_loss), marker="o", ms=3,
                        label=f"{label} valid")
        ax.plot(history.step, np.exp(history.train_loss), ls="--", color=line.get_color(),
                label=f"{label} train (running mean)")
        ax.axvline(history.best_step, color=line.get_color(), alpha=0.3, lw=1)
    ax.set(xlabel="step", ylabel="perplexity (log scale)", yscale="log", title=title)
    ax.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return ax


def word_map(points, vocab, groups: dict[str, list[str]], background=(), title: str = "",
             ax=None):
    """Chosen words placed at their 2-D ``points`` (one row per vocabulary id), a colour per
    group, labels pushed apart so that none overlaps another; ``background`` ids in grey."""
    ax = ax or plt.subplots(figsize=(8.5, 7))[1]
    points = np.asarray(points, dtype=float)
    background = list(background)
    if background:
        ax.scatter(points[background, 0], points[background, 1], s=3, color="0.85", zorder=1)
    texts = []
    for style, (group, words) in zip(_STYLES * 2, groups.items()):
        ids = [vocab.stoi[w] for w in words if w in vocab]
        dots = ax.scatter(points[ids, 0], points[ids, 1], s=18, marker=style["marker"],
                          label=group, zorder=3)
        for i in ids:
            texts.append(ax.text(points[i, 0], points[i, 1], f" {vocab.itos[i]}", fontsize=9,
                                 color=dots.get_facecolor()[0], zorder=4))
    _push_apart(ax, texts)
    ax.set(title=title, xticks=[], yticks=[])
    ax.legend(fontsize=9, loc="best")
    return ax


def _push_apart(ax, texts, rounds: int = 200):
    """Move overlapping labels up or down, a little at a time, until none overlaps."""
    figure = ax.figure
    renderer = figure.canvas.get_renderer()
    to_data = ax.transData.inverted()
    for _ in range(rounds):
        boxes = [t.get_window_extent(renderer).expanded(1.05, 1.15) for t in texts]
        moved = False
        for i in range(len(texts)):
            for j in range(i + 1, len(texts)):
                if boxes[i].overlaps(boxes[j]):
                    dy = boxes[i].height * 0.3 * (1 if boxes[i].y0 >= boxes[j].y0 else -1)
                    for text, sign in ((texts[i], 1), (texts[j], -1)):
                        x, y = ax.transData.transform(text.get_position())
                        text.set_position(to_data.transform((x, y + sign * dy)))
                    moved = True
        if not moved:
            return


def activations(names=("tanh", "sigmoid", "relu"), ax=None):
    """Each activation f (solid) beside its derivative f' (dashed), one panel each, with the
    largest slope f'_max = sup |f'| marked."""
    import torch

    from seqlm.gradients import ACTIVATIONS

    axes = ax if ax is not None else plt.subplots(1, len(names), figsize=(3.3 * len(names), 2.8),
                                                  sharey=True)[1]
    a = torch.linspace(-5, 5, 401)
    for panel, name in zip(np.atleast_1d(axes), names):
        f, f_prime, slope = ACTIVATIONS[name]
        panel.plot(a, f(a), label=f"{name}")
        panel.plot(a, f_prime(a), ls="--", label=f"{name}'")
        panel.axhline(slope, color="0.5", lw=0.8, ls=":")
        panel.text(-4.9, slope + 0.05, f"$f'_{{\\max}}$ = {slope:g}", fontsize=8, color="0.35")
        panel.set(title=name, xlabel="a", ylim=(-1.2, 2.2))
        panel.grid(alpha=0.3)
        panel.legend(fontsize=8, loc="upper left")
    return axes


def gradient_decay(curves: dict, title: str, ax=None, floor: float | None = None,
                   ylabel: str = "‖∂h_T / ∂h_s‖ (log scale)"):
    """A gradient norm against the distance T - s = 1, 2, … on a log scale, one line per
    label (‖∂h_T/∂h_s‖ unless ``ylabel`` says otherwise)."""
    ax = ax or plt.subplots(figsize=(6.5, 4))[1]
    for style, (label, norms) in zip(_STYLES * 3, curves.items()):
        norms = np.asarray(norms, dtype=float)
        ax.plot(np.arange(1, len(norms) + 1), norms, label=label, ls=style["ls"], lw=1.5)
    if floor is not None:
        ax.axhline(floor, color="0.5", lw=0.8, ls=":")
    ax.set(xlabel="distance T - s (steps)", ylabel=ylabel, yscale="log", title=title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return ax


def show_source(obj):
    """The source of a function or class of :mod:`seqlm`, as a highlighted code block with
    the file it lives in: chapters show the code they teach from its single source."""
    import inspect
    import textwrap

    from IPython.display import Markdown

    module = inspect.getmodule(obj).__name__.replace(".", "/") + ".py"
    code = textwrap.dedent(inspect.getsource(obj)).rstrip()
    return Markdown(f"From `src/{module}`:\n\n```python\n{code}\n```")


def attention_map(weights, letters, outputs, ax=None, title: str = ""):
    """One attention map as a heat map: a row per output (phoneme), a column per input
    (letter), each row's weights α_i· summing to 1."""
    weights = np.asarray(weights, dtype=float)
    ax = ax or plt.subplots(figsize=(0.45 * len(letters) + 1.5, 0.4 * len(outputs) + 1.2))[1]
    ax.imshow(weights, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(letters)), list(letters))
    ax.set_yticks(range(len(outputs)), list(outputs))
    ax.tick_params(length=0)
    ax.set_title(title, fontsize=10)
    return ax
