"""The architecture pictures (seqlm.diagrams): each draws, carries the symbols of its
chapter's equations, and is wired the way the chapter says: read from the drawn texts,
arrows (their gids and coordinates) and boxes."""

import math

import matplotlib.pyplot as plt
import pytest
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch
from matplotlib.path import Path
from matplotlib.text import Annotation

from seqlm import diagrams

DIAGRAMS = {
    "unrolled_rnn": lambda ax: diagrams.unrolled_rnn(4, ax=ax),
    "truncation_windows": lambda ax: diagrams.truncation_windows(12, 4, ax=ax),
}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def labels(ax) -> set[str]:
    return {t.get_text() for t in ax.texts if t.get_text()}


def arrows(ax, prefix: str = "") -> list[Annotation]:
    return [a for a in ax.texts if isinstance(a, Annotation)
            and (a.get_gid() or "").startswith(prefix)]


def edges(ax) -> set[str]:
    return {a.get_gid() for a in arrows(ax) if a.get_gid()}


# Every picture -------------------------------------------------------------------------------

@pytest.mark.parametrize("draw", DIAGRAMS.values(), ids=DIAGRAMS.keys())
def test_draws_on_the_given_axes_and_returns_them(draw):
    figure, ax = plt.subplots()
    assert draw(ax) is ax
    figure.canvas.draw()  # mathtext is parsed here: a bad symbol fails now
    assert arrows(ax) and labels(ax)


@pytest.mark.parametrize("name", [n for n in DIAGRAMS if n != "truncation_windows"])
def test_a_new_figure_is_one_page_column_wide_and_untitled(name):
    ax = DIAGRAMS[name](None)
    assert isinstance(ax, Axes)
    assert ax.figure.get_figwidth() == pytest.approx(diagrams.COLUMN_WIDTH)
    assert ax.get_title() == ""


@pytest.mark.parametrize("draw", DIAGRAMS.values(), ids=DIAGRAMS.keys())
def test_arrows_stop_at_the_edge_of_the_box_they_point_at(draw, monkeypatch):
    """Arrows are clipped at their target's box while drawing, which needs the boxes placed
    first: no point of an arrow, as drawn, is inside the box it points at, and its tip is a
    few pixels away."""
    drawn = {}
    draw_arrow = FancyArrowPatch.draw

    def recording(patch, renderer):           # the path as it is drawn, not as it is later
        drawn[id(patch)] = patch.get_path()   # display coordinates, head included
        return draw_arrow(patch, renderer)

    monkeypatch.setattr(FancyArrowPatch, "draw", recording)
    ax = draw(None)
    ax.figure.canvas.draw()
    clipped = [a for a in arrows(ax) if a.arrowprops.get("patchB") is not None]
    assert clipped
    renderer = ax.figure.canvas.get_renderer()
    for arrow in clipped:
        box = arrow.arrowprops["patchB"]
        extent = box.get_window_extent(renderer)
        path = drawn[id(arrow.arrow_patch)]
        points = path.vertices if path.codes is None else path.vertices[path.codes != Path.CLOSEPOLY]
        gap = min(math.hypot(max(extent.x0 - x, 0, x - extent.x1),
                             max(extent.y0 - y, 0, y - extent.y1)) for x, y in points)
        stroke = renderer.points_to_pixels(arrow.arrow_patch.get_linewidth())
        assert not any(box.contains_point(p) for p in points), arrow.get_gid()
        assert gap < 4 + stroke, (arrow.get_gid(), gap)   # the head's stroke reaches further


# Chapters 3 and 4 ----------------------------------------------------------------------------

def test_unrolled_rnn_writes_the_logits_as_ell_not_o():
    ax = diagrams.unrolled_rnn(3)
    for t in (1, 2, 3):
        assert {f"$x_{{{t}}}$", f"$h_{{{t}}}$", rf"$\ell_{{{t}}}$", f"$L_{{{t}}}$"} <= labels(ax)
    assert {"$h_0$", "$W_{hh}$", "$W_{ih}$", "$W_{ho}$"} <= labels(ax)
    assert not any("o_" in label for label in labels(ax))
    assert {"h:0->h:1", "h:1->h:2", "x:2->h:2", "h:2->logit:2", "logit:2->loss:2"} <= edges(ax)


def test_truncation_windows_cut_between_windows():
    ax = diagrams.truncation_windows(12, 4)
    assert {f"$h_{{{t}}}$" for t in range(1, 13)} <= labels(ax)
    assert [t.get_text() for t in ax.texts].count("detach") == 2
    assert "K = 4" in ax.get_title()


# Bad arguments -------------------------------------------------------------------------------

@pytest.mark.parametrize("draw, message", [
    (lambda: diagrams.unrolled_rnn(0), "steps"),
])
def test_bad_sizes_raise_a_clear_error(draw, message):
    with pytest.raises(ValueError, match=f"{message} must be a whole number ≥ 1"):
        draw()
