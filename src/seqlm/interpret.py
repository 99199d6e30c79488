"""Looking inside a character model's cells (Chapter 6; Karpathy et al. 2015).

Every character of a piece of Python source gets facts from Python's own
``tokenize``: is it inside a string, inside a comment, how deeply indented is
its line, how far along its line is it. A trained character LSTM's cell
activations are correlated with each fact; the best unit per fact is drawn as
coloured text.
"""

from __future__ import annotations

import html
import io
import tokenize

import numpy as np

FACTS = ("inside a string", "inside a comment", "indentation depth", "position in the line")


def python_facts(source: str) -> dict[str, np.ndarray]:
    """For every character of ``source``: the four :data:`FACTS`, as float arrays (len,).
    Source that ``tokenize`` cannot read to the end keeps the facts found so far."""
    n = len(source)
    string, comment = np.zeros(n), np.zeros(n)
    line_starts = np.concatenate([[0], np.flatnonzero(np.frombuffer(
        source.encode("utf-32-le"), dtype=np.uint32) == ord("\n")) + 1])

    def offset(row: int, col: int) -> int:
        return int(line_starts[row - 1]) + col if row - 1 < len(line_starts) else n

    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            kind = {tokenize.STRING: string, tokenize.COMMENT: comment}.get(token.type)
            if kind is not None:
                kind[offset(*token.start):offset(*token.end)] = 1.0
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    depth, column = np.zeros(n), np.zeros(n)
    for start, end in zip(line_starts, list(line_starts[1:]) + [n]):
        line = source[start:end]
        indent = len(line) - len(line.lstrip(" "))
        depth[start:end] = indent // 4
        column[start:end] = np.arange(end - start)
    return {FACTS[0]: string, FACTS[1]: comment, FACTS[2]: depth, FACTS[3]: column}


def correlations(activations: np.ndarray, fact: np.ndarray) -> np.ndarray:
    """Pearson correlation of every unit's activation (len, units) with a fact (len,);
    a unit (or a fact) that never changes correlates 0."""
    a = activations - activations.mean(0)
    f = fact - fact.mean()
    denominator = np.sqrt((a ** 2).sum(0) * (f ** 2).sum())
    return np.divide(a.T @ f, denominator, out=np.zeros(a.shape[1]), where=denominator > 0)


def colored_text(text: str, values: np.ndarray, title: str = "") -> str:
    """HTML for ``text`` with every character's background coloured by its value in
    [-1, 1] (blue negative, red positive), wrapped to the column."""
    spans = []
    for char, value in zip(text, np.clip(values, -1, 1)):
        colour = (f"rgba(214, 39, 40, {value:.2f})" if value > 0
                  else f"rgba(31, 119, 180, {-value:.2f})")
        shown = "⏎\n" if char == "\n" else html.escape(char)
        spans.append(f'<span style="background:{colour}">{shown}</span>')
    heading = f"<div><b>{html.escape(title)}</b></div>" if title else ""
    return (f'{heading}<pre style="white-space: pre-wrap; overflow-wrap: anywhere; '
            f'font-size: 0.8em; line-height: 1.35">{"".join(spans)}</pre>')
