"""Plots shared by the chapters (matplotlib only)."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np


def lines_by_order(series: dict[str, dict[int, float]], ylabel: str, title: str,
                   logy: bool = False, ax=None):
    """One line per method over the n-gram order n; infinite values are left out."""
    ax = ax or plt.subplots(figsize=(6, 4))[1]
    for name, values in series.items():
        orders = [n for n, v in sorted(values.items()) if math.isfinite(v)]
        ax.plot(orders, [values[n] for n in orders], marker="o", label=name)
    ax.set(xlabel="order n", ylabel=ylabel, title=title)
    if logy:
        ax.set_yscale("log")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def heatmap(matrix: np.ndarray, labels: list[str], title: str, ax=None):
    """A square table of counts as a heat map, rows = previous symbol, columns = next."""
    ax = ax or plt.subplots(figsize=(7, 7))[1]
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set(xlabel="next character", ylabel="previous character", title=title)
    return ax


def learning_curves(histories: dict, title: str, ax=None):
    """Train (dashed) and valid perplexity against steps, one pair of lines per run;
    ``histories`` maps a label to a :class:`seqlm.train.History`."""
    ax = ax or plt.subplots(figsize=(6, 4))[1]
    for label, history in histories.items():
        line, = ax.plot(history.step, np.exp(history.valid_loss), marker="o", label=f"{label} valid")
        ax.plot(history.step, np.exp(history.train_loss), ls="--", color=line.get_color(),
                label=f"{label} train")
    ax.set(xlabel="step", ylabel="perplexity", yscale="log", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
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
