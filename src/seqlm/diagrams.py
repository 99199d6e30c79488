"""Architecture pictures drawn by code (matplotlib only).

Every symbol on a picture is the symbol the chapter's equations use (book/notation.md).
Each function draws on ``ax`` (a new figure one page column wide when None) and returns it.

Nodes are boxed texts and arrows are annotations, each with a ``gid`` that names it
("forget", "z->keep", "backward:1:2", …), so that tests, and SVG output, can find what was
drawn and where. An arrow is clipped at the boxes of the nodes it joins.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch
from matplotlib.text import Text

COLUMN_WIDTH = 8.0   # inches: a 1280-px page's text column is about 800 px at 100 dpi
NODE_SIZE = 11       # points, at COLUMN_WIDTH
LABEL_SIZE = 9.5

INPUT = "#dbe9f6"
STATE = "#fde0c5"
OUTPUT = "#d9f0d3"
GATE = "#ece2f4"
PADDING = "0.82"
WIRE = "0.3"
CELL_PATH = "#e07b00"
GRADIENT = "#c0392b"


# Drawing pieces ------------------------------------------------------------------------------

def _axes(ax, height: float):
    """``ax``, or the axes of a new figure one page column wide and ``height`` inches tall."""
    if ax is not None:
        return ax
    figure, ax = plt.subplots(figsize=(COLUMN_WIDTH, height))
    figure.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.99)
    return ax


def _finish(ax, xlim, ylim, equal: bool = True):
    ax.set(xlim=xlim, ylim=ylim)
    if equal:
        ax.set_aspect("equal")
    ax.axis("off")
    return ax


def _node(ax, xy, text, color="white", name=None, shape="round", size=NODE_SIZE):
    """A boxed label centred on ``xy``; ``shape`` "circle" for an operation (⊙, +)."""
    box = {"round": "round,pad=0.3", "circle": "circle,pad=0.1", "square": "square,pad=0.3"}
    node = ax.text(*xy, text, ha="center", va="center", fontsize=size, zorder=3,
                   bbox=dict(boxstyle=box[shape], fc=color, ec="0.3", lw=1))
    node.set_gid(name)
    return node


def _op(ax, xy, symbol, name=None):
    """An element-wise operation: ⊙, +, 1 −."""
    return _node(ax, xy, symbol, name=name, shape="circle", size=NODE_SIZE + 3)


def _label(ax, xy, text, color="0.25", size=LABEL_SIZE, **kwargs):
    """Plain text beside a wire (no box)."""
    kwargs = {"ha": "center", "va": "center", **kwargs}
    return ax.text(*xy, text, color=color, fontsize=size, zorder=5, **kwargs)


def _symbol(ax, xy, text, **kwargs):
    """A vector's symbol written beside the wire that carries it."""
    return _label(ax, xy, text, color="black", size=NODE_SIZE, **kwargs)


def _anchor(end):
    """Where an arrow ends and the box that clips it: a node (its centre and box), a patch
    (its centre and itself), ``(xy, node)`` (a point inside a wide node), or a bare point."""
    if isinstance(end, Text):
        return end.get_position(), end.get_bbox_patch()
    if isinstance(end, FancyBboxPatch):
        return (end.get_x() + end.get_width() / 2, end.get_y() + end.get_height() / 2), end
    if len(end) == 2 and isinstance(end[1], (Text, FancyBboxPatch)):
        return tuple(end[0]), _anchor(end[1])[1]
    return tuple(end), None


def _arrow(ax, start, end, color=WIRE, ls="-", lw=1.3, name=None, bend=0.0):
    """An arrow from ``start`` to ``end`` (see :func:`_anchor`), drawn above the nodes and
    clipped at their boxes; ``bend`` curves it (the sign says to which side). Its gid is
    ``name``, else "<start>-><end>" from the two nodes' gids."""
    (xy_start, patch_start), (xy_end, patch_end) = _anchor(start), _anchor(end)
    if name is None and isinstance(start, Text) and isinstance(end, Text):
        if start.get_gid() and end.get_gid():
            name = f"{start.get_gid()}->{end.get_gid()}"
    arrow = ax.annotate("", xy=xy_end, xytext=xy_start, zorder=4,
                        arrowprops=dict(arrowstyle="-|>", color=color, lw=lw,
                                        ls=ls, shrinkA=1, shrinkB=1, mutation_scale=12,
                                        patchA=patch_start, patchB=patch_end,
                                        connectionstyle=f"arc3,rad={bend}"))
    arrow.set_gid(name)
    return arrow


def _wire(ax, points, color=WIRE, lw=1.3):
    """A line through ``points`` beneath the nodes (no head): it may start at a node's
    centre, which the node's box hides."""
    xs, ys = zip(*points)
    return ax.plot(xs, ys, color=color, lw=lw, zorder=1, solid_capstyle="butt")[0]


def _dot(ax, xy, color=WIRE):
    """A junction: the wire splits here."""
    return ax.plot(*xy, "o", ms=4, color=color, zorder=2)[0]


def _group(ax, x0, y0, x1, y1, name=None, color="#f4f4f4"):
    """A light box around nodes that form one vector (a concatenation)."""
    box = FancyBboxPatch((x0, y0), x1 - x0, y1 - y0, boxstyle="round,pad=0,rounding_size=0.12",
                         fc=color, ec="0.55", lw=0.9, zorder=0.5)
    box.set_gid(name)
    ax.add_patch(box)
    return box


def _require(ok: bool, message: str):
    if not ok:
        raise ValueError(message)


def _at_least_one(value, what: str):
    _require(int(value) == value and value >= 1,
             f"{what} must be a whole number ≥ 1, got {value!r}")


# Chapters 3 and 4: the unrolled network ------------------------------------------------------

_ROWS = {"x": 0.0, "h": 1.3, "logit": 2.6, "loss": 3.6}


def _unrolled(ax, steps: int) -> dict:
    """Inputs x_t, states h_t (each from h_{t-1} and x_t, the same weights at every step),
    logits ℓ_t and loss terms L_t over ``steps`` steps; returns the nodes by (row, t)."""
    nodes = {("h", 0): _node(ax, (0, _ROWS["h"]), "$h_0$", "0.92", name="h:0")}
    for t in range(1, steps + 1):
        for row, symbol, color in (("x", "x", INPUT), ("h", "h", STATE),
                                   ("logit", r"\ell", OUTPUT), ("loss", "L", "white")):
            nodes[row, t] = _node(ax, (t, _ROWS[row]), f"${symbol}_{{{t}}}$", color,
                                  name=f"{row}:{t}")
        _arrow(ax, nodes["x", t], nodes["h", t])
        _arrow(ax, nodes["h", t - 1], nodes["h", t])
        _arrow(ax, nodes["h", t], nodes["logit", t])
        _arrow(ax, nodes["logit", t], nodes["loss", t])
        _label(ax, (t - 0.5, _ROWS["h"] + 0.16), "$W_{hh}$")
        _label(ax, (t + 0.06, 0.4), "$W_{ih}$", ha="left")
        _label(ax, (t + 0.06, 1.95), "$W_{hy}$", ha="left")
    return nodes


def unrolled_rnn(steps: int = 4, ax=None):
    """The computation graph of a recurrent network over ``steps`` steps: inputs x_t below,
    states h_t in the middle (each from h_{t-1} and x_t, with the same weights), logits ℓ_t
    above; the loss adds one term L_t per step."""
    _at_least_one(steps, "steps")
    ax = _axes(ax, 3.4)
    _unrolled(ax, steps)
    return _finish(ax, (-0.5, steps + 0.6), (-0.4, 3.95), equal=False)


def backward_unrolled(steps: int = 4, ax=None):
    """Chapter 4's backward pass on the unrolled graph (dashed, in red). Into each h_t flow
    W_hyᵀ ∂L/∂ℓ_t from its logits and W_hhᵀ δ_{t+1} from the next step: their sum is
    ∂L/∂h_t. A box below h_t multiplies it by f'(a_t), element by element, which gives
    δ_t = ∂L/∂a_t, and W_hhᵀ δ_t flows on to step t-1 (to h_0 from step 1). Nothing flows
    into h_T from the right: δ_{T+1} = 0."""
    _at_least_one(steps, "steps")
    ax = _axes(ax, 3.9)
    nodes = _unrolled(ax, steps)
    for t in range(1, steps + 1):
        _arrow(ax, nodes["logit", t], nodes["h", t], GRADIENT, "--", bend=0.45,
               name=f"dlogit:{t}")
        _label(ax, (t - 0.3, 1.95), rf"$W_{{hy}}^\top$" "\n" rf"$\partial L / \partial \ell_{{{t}}}$",
               GRADIENT, ha="right", size=LABEL_SIZE - 0.5)
        times_slope = _node(ax, (t - 0.36, 0.72), rf"$\odot f'(a_{{{t}}})$", name=f"slope:{t}",
                            size=LABEL_SIZE - 0.5)
        times_slope.get_bbox_patch().set_edgecolor(GRADIENT)
        _arrow(ax, nodes["h", t], times_slope, GRADIENT, "--", name=f"dh:{t}")
        _arrow(ax, times_slope, nodes["h", t - 1], GRADIENT, "--", bend=-0.2,
               name=f"delta:{t}->{t - 1}")
        _label(ax, (t - 0.56, 1.06), rf"$W_{{hh}}^\top \delta_{{{t}}}$", GRADIENT,
               size=LABEL_SIZE - 0.5)
    _label(ax, (-0.4, -0.5), r"dashed: the backward pass. What reaches $h_t$ adds up to "
           r"$\partial L / \partial h_t$; times $f'(a_t)$ it is $\delta_t = \partial L / \partial a_t$",
           GRADIENT, ha="left")
    return _finish(ax, (-0.5, steps + 0.6), (-0.75, 3.95), equal=False)


def truncation_windows(length: int = 12, bptt: int = 4, ax=None):
    """Truncated backpropagation through time over ``length`` steps in windows of ``bptt``:
    the state flows forward across every step (solid), gradients flow back only inside a
    window (dashed), and the state is detached where a window starts (a cut)."""
    ax = ax or plt.subplots(figsize=(0.75 * length + 1.5, 2.6))[1]
    states = {}
    for t in range(1, length + 1):
        states[t] = _node(ax, (t, 0), f"$h_{{{t}}}$", STATE)
        if t > 1:
            _arrow(ax, states[t - 1], states[t])
            if (t - 1) % bptt:  # inside a window: the gradient flows back
                ax.annotate("", xy=(t - 1, -0.35), xytext=(t, -0.35),
                            arrowprops=dict(arrowstyle="-|>", color=GRADIENT, lw=1.1,
                                            ls="--", shrinkA=6, shrinkB=6))
            else:  # a window starts at t: the state is detached
                ax.plot([t - 0.5, t - 0.5], [-0.6, 0.45], color=GRADIENT, lw=2)
                ax.text(t - 0.5, 0.55, "detach", ha="center", fontsize=8, color=GRADIENT)
    for start in range(1, length + 1, bptt):
        end = min(start + bptt - 1, length)
        ax.text((start + end) / 2, -0.85, f"window of {end - start + 1}", ha="center",
                fontsize=9, color="0.35")
    ax.set(xlim=(0.4, length + 0.6), ylim=(-1.05, 0.8),
           title=f"Truncated BPTT, K = {bptt}: the state flows on, the gradient stops at each cut")
    ax.axis("off")
    return ax


# (name, caption, steps, steps that read an input, steps that write an output, recurrent)
TASK_SHAPES = (
    ("one_to_one", "one to one\n(no recurrence)", 1, {1}, {1}, False),
    ("many_to_one", "many to one\n(classification)", 3, {1, 2, 3}, {3}, True),
    ("aligned", "many to many, aligned\n(tagging, language models)", 3, {1, 2, 3}, {1, 2, 3},
     True),
    ("seq2seq", "many to many, other lengths\n(sequence to sequence)", 5, {1, 2, 3}, {4, 5},
     True),
)


def task_shapes(ax=None):
    """Chapter 3 §3.6's task shapes side by side, each a small unrolled graph named below it:
    one to one (one input, one output, no recurrence), many to one (the last state gives
    one label), many to many aligned (one output per input: tagging, language models),
    and many to many with other lengths (read the input, then write the output, each output
    read back by the next step: the decoder's input, dashed)."""
    ax = _axes(ax, 2.6)
    left = 0.0
    for shape in TASK_SHAPES:
        left = _task_shape(ax, left, *shape) + 1.25
    return _finish(ax, (-1.0, left - 0.75), (-1.25, 2.55), equal=False)


def _task_shape(ax, left: float, name: str, caption: str, steps: int, reads: set,
                writes: set, recurrent: bool) -> float:
    """One shape with its first step at x = ``left``; returns the x of its last step. Outputs
    are numbered in the order they are written. A step that writes without reading input
    reads the previous step's output instead (dashed), as a decoder does."""
    previous, output = None, None
    for t in range(1, steps + 1):
        x = left + t - 1
        state = _node(ax, (x, 1.1), f"$h_{{{t}}}$" if recurrent else "$h$", STATE,
                      name=f"{name}:h")
        if t in reads:
            _arrow(ax, _node(ax, (x, 0.0), f"$x_{{{t}}}$" if recurrent else "$x$", INPUT,
                             name=f"{name}:x"), state)
        if t in writes:
            k = sorted(writes).index(t) + 1
            symbol = f"$y_{{{k}}}$" if len(writes) > 1 else "$y$"
            if t not in reads and output is not None:
                _arrow(ax, output, state, ls="--", bend=0.35)
            output = _node(ax, (x, 2.2), symbol, OUTPUT, name=f"{name}:y")
            _arrow(ax, state, output)
        if previous is not None:
            _arrow(ax, previous, state)
        previous = state
    _label(ax, (left + (steps - 1) / 2, -0.85), caption, color="black").set_gid(f"{name}:name")
    return left + steps - 1


# Chapters 6 and 7: the gated cells ------------------------------------------------------------

_TOP, _H_WIRE, _X_WIRE, _GATE_Y = 6.2, 1.25, 0.55, 2.75


def _inputs(ax, h_from, x_at: float, h_end: float, x_end: float):
    """The two wires the gates read: h_{t-1} (dropped from ``h_from``) to ``h_end`` and x_t
    (from its node at ``x_at``, below) to ``x_end``; returns the x_t node."""
    x_node = _node(ax, (x_at, -0.35), "$x_t$", INPUT, name="x")
    _wire(ax, [h_from, (h_from[0], _H_WIRE), (h_end, _H_WIRE)])
    _wire(ax, [(x_at, -0.35), (x_at, _X_WIRE), (x_end, _X_WIRE)])
    return x_node


def _gate(ax, x: float, y: float, function: str, weights: str, name: str, weights_side="right"):
    """A layer reading [h_{t-1}, x_t]: a box with its squashing function, fed from both input
    wires (a dot where it taps each), its weights written beside the feed."""
    box = _node(ax, (x, y), function, GATE, name=name, shape="square")
    for wire_y in (_H_WIRE, _X_WIRE):
        _dot(ax, (x, wire_y))
    _arrow(ax, (x, _X_WIRE), box, name=f"inputs->{name}")
    side = 0.08 if weights_side == "right" else -0.08
    _label(ax, (x + side, (_H_WIRE + y - 0.2) / 2), weights,
           ha="left" if weights_side == "right" else "right")
    return box


def lstm_cell(ax=None):
    """The LSTM cell at step t (Chapter 6, §6.1). The cell path c_{t-1} → ⊙ f_t → + → c_t runs
    straight along the top (highlighted: the path the gradient follows in §6.3); below it
    the gates f_t, i_t, o_t and the candidate c̃_t, each read from [h_{t-1}, x_t]; the
    input gate scales the candidate into the +, and h_t = o_t ⊙ tanh(c_t) leaves at the
    bottom right. c_t and h_t go on to step t + 1."""
    ax = _axes(ax, 4.7)
    c_prev = _node(ax, (-0.2, _TOP), "$c_{t-1}$", STATE, name="c_prev")
    forget = _op(ax, (2.6, _TOP), r"$\odot$", "forget")
    add = _op(ax, (5.3, _TOP), "$+$", "add")
    c_next = _node(ax, (11.1, _TOP), "$c_t$", STATE, name="c")
    for start, end in ((c_prev, forget), (forget, add), (add, c_next)):
        _arrow(ax, start, end, CELL_PATH, lw=3)

    h_prev = _node(ax, (-0.2, _H_WIRE), "$h_{t-1}$", STATE, name="h_prev")
    _inputs(ax, h_prev.get_position(), 1.1, 7.2, 7.2)
    _label(ax, (4.9, 0.12), r"each gate reads $[h_{t-1}, x_t]$")
    gates = {}
    for x, name, function, weights in ((2.6, "f", r"$\sigma$", "$W_f, b_f$"),
                                       (4.0, "i", r"$\sigma$", "$W_i, b_i$"),
                                       (5.3, "c_tilde", r"$\tanh$", "$W_c, b_c$"),
                                       (7.2, "o", r"$\sigma$", "$W_o, b_o$")):
        gates[name] = _gate(ax, x, _GATE_Y, function, weights, name)

    write = _op(ax, (5.3, 4.75), r"$\odot$", "write")
    _arrow(ax, gates["f"], forget)
    _symbol(ax, (2.7, 4.5), "$f_t$", ha="left")
    _wire(ax, [(4.0, _GATE_Y), (4.0, 4.75)])
    _arrow(ax, (4.0, 4.75), write, name="i->write")
    _symbol(ax, (3.9, 3.9), "$i_t$", ha="right")
    _arrow(ax, gates["c_tilde"], write)
    _symbol(ax, (5.4, 3.75), r"$\tilde c_t$", ha="left")
    _arrow(ax, write, add)

    _dot(ax, (8.7, _TOP), CELL_PATH)
    squash = _node(ax, (8.7, 4.95), r"$\tanh$", name="tanh_c")
    _arrow(ax, (8.7, _TOP), squash, name="c->tanh_c")
    show = _op(ax, (8.7, 3.75), r"$\odot$", "show")
    _arrow(ax, squash, show)
    _wire(ax, [(7.2, _GATE_Y), (7.2, 3.75)])
    _arrow(ax, (7.2, 3.75), show, name="o->show")
    _symbol(ax, (7.1, 3.35), "$o_t$", ha="right")
    h_next = _node(ax, (11.1, 2.1), "$h_t$", STATE, name="h")
    _wire(ax, [(8.7, 3.75), (8.7, 2.1)])
    _arrow(ax, (8.7, 2.1), h_next, name="show->h")
    return _finish(ax, (-0.9, 11.6), (-0.7, 6.65))


GRU_FORMS = ("pytorch", "chung")
_GRU_TOP = 6.6   # above _TOP: room for 1 − between the split of z_t and the old state's ⊙


def gru_cell(form: str = "pytorch", ax=None):
    """The GRU cell at step t (Chapter 7, §7.1): one state h, gates r_t and z_t read from
    [h_{t-1}, x_t], the candidate h̃_t, and the interpolation h_t = ⊙ + ⊙ along the top.

    ``form="pytorch"`` (``torch.nn.GRU``; Cho et al. 2014's z): the reset gate multiplies the
    recurrent product W_hn h_{t-1} + b_hn, and z_t weighs the old state,
    h_t = (1 - z_t) ⊙ h̃_t + z_t ⊙ h_{t-1}. ``form="chung"`` (the lectures, Chung et al.
    2014): the reset gate multiplies h_{t-1} before U, and z_t weighs the candidate,
    h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t."""
    _require(form in GRU_FORMS, f"form must be one of {GRU_FORMS}, got {form!r}")
    pytorch = form == "pytorch"
    ax = _axes(ax, 4.9)
    h_prev = _node(ax, (-0.2, _GRU_TOP), "$h_{t-1}$", STATE, name="h_prev")
    keep = _op(ax, (5.0, _GRU_TOP), r"$\odot$", "keep")
    add = _op(ax, (7.0, _GRU_TOP), "$+$", "add")
    h_next = _node(ax, (11.1, _GRU_TOP), "$h_t$", STATE, name="h")
    for start, end in ((h_prev, keep), (keep, add), (add, h_next)):
        _arrow(ax, start, end, CELL_PATH, lw=3)
    _dot(ax, (0.6, _GRU_TOP), CELL_PATH)
    _inputs(ax, (0.6, _GRU_TOP), 1.4, 9.3, 10.6)
    _label(ax, (3.3, 0.12), r"both gates read $[h_{t-1}, x_t]$")
    reset_y = 2.9 if pytorch else 2.2
    _gate(ax, 5.0, _GATE_Y, r"$\sigma$", "$W_{iz}, W_{hz}$" if pytorch else "$W_z, U_z$", "z")
    reset_gate = _gate(ax, 7.9, reset_y, r"$\sigma$",
                       "$W_{ir}, W_{hr}$" if pytorch else "$W_r, U_r$", "r", "left")
    candidate = _candidate(ax, reset_gate, reset_y, pytorch)
    _interpolation(ax, keep, add, candidate, pytorch)
    return _finish(ax, (-0.9, 11.6), (-0.7, 7.05))


def _candidate(ax, reset_gate, reset_y: float, pytorch: bool):
    """h̃_t in the column at x = 9.3, bottom to top: where the reset gate acts, + the input's
    term, tanh. Returns the tanh node."""
    x = 9.3
    reset = _op(ax, (x, reset_y), r"$\odot$", "reset")
    if pytorch:
        recurrent = _node(ax, (x, 2.0), r"$W_{hn} h_{t-1} + b_{hn}$", name="recurrent")
        _arrow(ax, (x, _H_WIRE), recurrent, name="h_prev->recurrent")
        _arrow(ax, recurrent, reset)
        into_sum = reset
        input_term = r"$W_{in} x_t + b_{in}$"
    else:
        _arrow(ax, (x, _H_WIRE), reset, name="h_prev->reset")
        into_sum = _node(ax, (x, 3.0), "$U$", name="U")
        _arrow(ax, reset, into_sum)
        input_term = "$W x_t + b$"
    _arrow(ax, reset_gate, reset)
    _symbol(ax, (8.6, reset_y + 0.22), "$r_t$")
    add = _op(ax, (x, 3.85), "$+$", "candidate_sum")
    _arrow(ax, into_sum, add)
    term = _node(ax, (10.6, 2.9), input_term, name="input_term")
    _arrow(ax, (10.6, _X_WIRE), term, name="x->input_term")
    _wire(ax, [(10.6, 2.9), (10.6, 3.85)])
    _arrow(ax, (10.6, 3.85), add, name="input_term->candidate_sum")
    squash = _node(ax, (x, 4.8), r"$\tanh$", name="tanh")
    _arrow(ax, add, squash)
    return squash


def _interpolation(ax, keep, add, candidate, pytorch: bool):
    """h_t = ⊙ + ⊙: z_t goes straight to one product and through 1 − to the other: to the
    old state's (keep) in PyTorch's form, to the candidate's (write) in Chung et al.'s."""
    write = _op(ax, (7.0, 4.8), r"$\odot$", "write")
    _arrow(ax, candidate, write, name="candidate->write")
    _symbol(ax, (8.15, 5.02), r"$\tilde h_t$")
    _arrow(ax, write, add)
    split = (5.0, 4.8)
    _wire(ax, [(5.0, _GATE_Y), split])
    _dot(ax, split)
    _symbol(ax, (4.9, 3.8), "$z_t$", ha="right")
    if pytorch:
        complement = _node(ax, (6.0, 4.8), "$1 -$", name="one_minus")
        _arrow(ax, split, keep, name="z->keep")
        _arrow(ax, split, complement, name="z->one_minus")
        _arrow(ax, complement, write)
        _symbol(ax, (6.1, 4.38), "$1 - z_t$")
    else:
        complement = _node(ax, (5.0, 5.7), "$1 -$", name="one_minus")
        _arrow(ax, split, complement, name="z->one_minus")
        _arrow(ax, complement, keep)
        _symbol(ax, (4.85, 6.18), "$1 - z_t$", ha="right")
        _arrow(ax, split, write, name="z->write")
        _symbol(ax, (6.0, 5.02), "$z_t$")


# Chapter 8: reading both ways ------------------------------------------------------------------

_ROW_GAP = 0.62    # between a layer's forward row and its backward row
_LAYER_GAP = 1.05  # between one layer's backward row and the next layer's forward row


def bidirectional_tagger(lengths=(5, 3), layers: int = 2, ax=None):
    """A stacked bidirectional tagger over a padded batch, one block per sequence: tokens
    x_t below (grey padding after a shorter sequence's end), then per layer a forward row
    (left to right, from x_1) and a backward row (right to left, from the sequence's OWN
    last token, never from padding); the two states at t form [→h_t; ←h_t], which the next
    layer reads; a tag y_t above every real token and none above padding."""
    lengths = tuple(lengths)
    _require(len(lengths) >= 1, "lengths must name at least one sequence")
    for length in lengths:
        _at_least_one(length, "every length")
    _at_least_one(layers, "layers")
    width = max(lengths)
    forward_y = [1.0 + k * (_ROW_GAP + _LAYER_GAP) for k in range(layers)]
    tag_y = forward_y[-1] + _ROW_GAP + 0.95
    ax = _axes(ax, 0.9 + 0.8 * (tag_y + 0.5))
    for row, length in enumerate(lengths):
        offset = 2.3 + row * (width + 1.1)
        _sequence_block(ax, row, length, width, offset, forward_y, tag_y)
    _row_names(ax, 0.0, forward_y, tag_y)
    right = 2.3 + len(lengths) * (width + 1.1) - 0.5
    return _finish(ax, (-0.2, right), (-0.85, tag_y + 0.45), equal=False)


def _row_names(ax, x: float, forward_y, tag_y: float):
    _label(ax, (x, 0.0), "tokens", ha="left")
    for k, y in enumerate(forward_y, start=1):
        _label(ax, (x, y + _ROW_GAP / 2 + 0.17), f"layer {k}", ha="left")
        _label(ax, (x, y + _ROW_GAP / 2 - 0.17),
               r"$[\overrightarrow{h}_t ; \overleftarrow{h}_t]$", ha="left")
    _label(ax, (x, tag_y), "tags", ha="left")


def _sequence_block(ax, row: int, length: int, width: int, offset: float, forward_y, tag_y):
    """One sequence of the batch: its columns start at ``offset``; gids carry its ``row``."""
    below = {}
    for t in range(1, width + 1):
        x = offset + t - 1
        if t > length:
            _node(ax, (x, 0.0), "pad", PADDING, name=f"pad:{row}", size=LABEL_SIZE)
            continue
        below[t] = _node(ax, (x, 0.0), f"$x_{{{t}}}$", INPUT, name=f"token:{row}")
    for k, y in enumerate(forward_y, start=1):
        below = _bidirectional_layer(ax, row, k, length, offset, y, below)
    for t in range(1, length + 1):
        tag = _node(ax, (offset + t - 1, tag_y), f"$y_{{{t}}}$", OUTPUT, name=f"tag:{row}")
        _arrow(ax, below[t], tag)
    padded = "" if length == width else f", padded to {width}"
    _label(ax, (offset + (width - 1) / 2, -0.62), f"sequence {row + 1}: {length} tokens{padded}")


def _bidirectional_layer(ax, row: int, layer: int, length: int, offset: float, y: float,
                         below: dict) -> dict:
    """Layer ``layer`` over the real tokens: each column's pair of states in one box,
    the forward row chained left to right, the backward row right to left from t = length.
    Returns the boxes by t, for the layer above to read."""
    pairs, forward, backward = {}, {}, {}
    for t in range(1, length + 1):
        x = offset + t - 1
        pairs[t] = _group(ax, x - 0.36, y - 0.3, x + 0.36, y + _ROW_GAP + 0.3,
                          name=f"pair:{row}:{layer}")
        forward[t] = _node(ax, (x, y), rf"$\overrightarrow{{h}}_{{{t}}}$", STATE,
                           name=f"forward:{row}:{layer}")
        backward[t] = _node(ax, (x, y + _ROW_GAP), rf"$\overleftarrow{{h}}_{{{t}}}$", STATE,
                            name=f"backward:{row}:{layer}")
        _arrow(ax, below[t], pairs[t], name=f"up:{row}:{layer}")
    for t in range(1, length):
        _arrow(ax, forward[t], forward[t + 1], name=f"forward:{row}:{layer}")
        _arrow(ax, backward[t + 1], backward[t], name=f"backward:{row}:{layer}")
    _initial_state(ax, forward[1], -1, f"forward_start:{row}:{layer}")
    _initial_state(ax, backward[length], +1, f"backward_start:{row}:{layer}")
    return pairs


def _initial_state(ax, first, side: int, name: str):
    """A zero state entering a direction's first node from ``side`` (-1 left, +1 right)."""
    x, y = first.get_position()
    _label(ax, (x + side * 0.62, y), "$0$")
    return _arrow(ax, (x + side * 0.54, y), first, "0.45", name=name)


# Chapter 9: ELMo ------------------------------------------------------------------------------

_FORWARD_X, _BACKWARD_X, _MIDDLE_X = 2.3, 5.5, 3.9
_BAND = (1.3, 6.5)   # the x extent of a level's box and of the shared softmax
_LEVEL_GAP = 2.1


def bilm_scalar_mix(layers: int = 2, ax=None):
    """ELMo at position t (Chapter 9, §9.2–9.4): the token x_t, read by a character CNN and a
    highway layer, gives the token layer e_t; n_L forward LSTM layers (left column, state
    from t - 1) and n_L backward ones (right column, state from t + 1), each direction its
    own LM that never reads the other's states, every layer from the second on with a
    residual connection; the forward LM predicts x_{t+1} and the backward one x_{t-1}
    through one shared softmax. Right: the layers h_{t,0} = [e_t; e_t] and
    h_{t,j} = [→h_{t,j}; ←h_{t,j}], weighted by λ_j, summed and scaled by γ into ELMo_t."""
    _at_least_one(layers, "layers")
    level_y = [2.2 + j * _LEVEL_GAP for j in range(layers + 1)]
    softmax_y = level_y[-1] + 0.95
    top = softmax_y + 0.95
    ax = _axes(ax, 0.6 * (top + 0.9))
    below = (_token_layer(ax, level_y[0]),) * 2
    for j, y in enumerate(level_y[1:], start=1):
        below = _bilm_level(ax, j, y, below)
    for j, y in enumerate(level_y):
        _group(ax, _BAND[0], y - 0.32, _BAND[1], y + 0.32, name=f"level:{j}")
    _predictions(ax, below, softmax_y)
    _scalar_mix(ax, level_y)
    return _finish(ax, (-0.35, 12.25), (-0.5, top + 0.4), equal=False)


def _token_layer(ax, y: float):
    """x_t → character CNN + highway → e_t, in the middle: both directions read it."""
    token = _node(ax, (_MIDDLE_X, -0.1), "$x_t$", INPUT, name="x")
    reader = _node(ax, (_MIDDLE_X, 1.05), r"character CNN + highway  $\Theta_x$", GATE,
                   name="char_cnn", shape="square")
    e = _node(ax, (_MIDDLE_X, y), "$e_t$", STATE, name="e")
    _arrow(ax, token, reader)
    _arrow(ax, reader, e)
    _label(ax, (_BACKWARD_X, y), "$[e_t ; e_t]$")
    return e


def _bilm_level(ax, j: int, y: float, below):
    """Layer j of each direction: an LSTM that reads only its own direction's layer below
    and its own state from t ∓ 1, plus (from the second layer on) its input again."""
    states = []
    for direction, x, arrow_symbol, side, step, lower in (
            ("forward", _FORWARD_X, r"\overrightarrow", -1, "t-1", below[0]),
            ("backward", _BACKWARD_X, r"\overleftarrow", +1, "t+1", below[-1])):
        lstm = _node(ax, (x, y - 1.2), "LSTM", GATE, name=f"{direction}:lstm:{j}",
                     shape="square", size=LABEL_SIZE)
        state = _node(ax, (x, y), rf"${arrow_symbol}{{h}}_{{t,{j}}}$", STATE,
                      name=f"{direction}:{j}")
        _arrow(ax, lower, lstm)
        _arrow(ax, (x + side * 1.05, y - 1.2), lstm, "0.45", name=f"{direction}:recurrent:{j}")
        _label(ax, (x + side * 1.12, y - 1.2), f"from ${step}$",
               ha="right" if side < 0 else "left")
        if j == 1:
            _arrow(ax, lstm, state)
        else:
            residual = _op(ax, (x, y - 0.66), "$+$", f"{direction}:residual:{j}")
            _arrow(ax, lstm, residual)
            _arrow(ax, lower, residual, bend=-0.9 * side)
            _arrow(ax, residual, state)
        states.append(state)
    if j > 1:
        _label(ax, (_MIDDLE_X, y - 1.0), "residual")
    return tuple(states)


def _predictions(ax, top_states, y: float):
    """One softmax Θ_s across both columns: the forward top layer predicts x_{t+1}, the
    backward one x_{t-1}, each through the same weights."""
    softmax = _group(ax, _BAND[0], y - 0.24, _BAND[1], y + 0.24, name="softmax", color=OUTPUT)
    _label(ax, (_MIDDLE_X, y), r"softmax $\Theta_s$, shared", color="black", size=NODE_SIZE)
    for state, x, target in ((top_states[0], _FORWARD_X, "x_{t+1}"),
                             (top_states[1], _BACKWARD_X, "x_{t-1}")):
        _arrow(ax, state, ((x, y), softmax))
        prediction = _node(ax, (x, y + 0.95), f"${target}$", INPUT, name=f"predict:{target}")
        _arrow(ax, ((x, y), softmax), prediction)


def _scalar_mix(ax, level_y):
    """ELMo_t = γ Σ_j λ_j h_{t,j}: each level's vector h_{t,j}, weighted by λ_j, into one
    sum, then scaled by γ."""
    middle = (level_y[0] + level_y[-1]) / 2
    total = _op(ax, (9.5, middle), r"$\Sigma$", "sum")
    for j, y in enumerate(level_y):
        level = _symbol(ax, (6.95, y), f"$h_{{t,{j}}}$")
        weight = _op(ax, (8.35, y), f"$\\lambda_{j}$", f"weight:{j}")
        _arrow(ax, (7.35, y), weight, name=f"level:{j}->weight:{j}")
        _arrow(ax, weight, total)
        level.set_gid(f"level_name:{j}")
    _label(ax, (8.35, level_y[0] - 0.62), r"$\lambda_j = \mathrm{softmax}(\omega)_j$")
    scale = _op(ax, (10.55, middle), r"$\times\gamma$", "scale")
    elmo = _node(ax, (11.6, middle), r"$\mathrm{ELMo}_t$", OUTPUT, name="elmo")
    _arrow(ax, total, scale)
    _arrow(ax, scale, elmo)


# Chapter 10: the encoder-decoder -------------------------------------------------------------

_ENC_Y, _DEC_Y, _CONTEXT_Y, _TILDE_Y = 1.3, 2.6, 1.95, 3.5


def encoder_decoder(attention: bool = False, letters: str = "exit",
                    phonemes=("EH", "G", "Z", "IH", "T"), step: int = 2, weights=None, ax=None):
    """Chapter 10's encoder-decoder on one word. Below, the bidirectional encoder reads the
    letters x_j into states h_j = [→h_j ; ←h_j] (a forward and a backward chain). The
    decoder, a language model of the phonemes, starts from d_0 = tanh(W_0 [→h_T ; ←h_1] +
    b_0) and at step i reads the previous output y_{i-1} (y_0 = <s>) into its state d_i,
    which writes y_i; the last step writes </s>.

    With ``attention`` each step i scores every h_j against d_i, and the weights α_ij give
    the context h̄_i = Σ_j α_ij h_j, which joins d_i in d̃_i = tanh(W_d̃ [d_i ; h̄_i] + b_d̃),
    from which y_i is written. The α_ij of one ``step`` are drawn as lines whose width is the
    weight (``weights``, one per letter; an illustration unless given)."""
    letters, phonemes = str(letters), tuple(phonemes)
    _require(len(letters) >= 1 and len(phonemes) >= 1, "a word needs letters and phonemes")
    outputs = (*phonemes, "</s>")
    _require(1 <= step <= len(outputs), f"step must be 1 … {len(outputs)}, got {step!r}")
    out_y = (_TILDE_Y if attention else _DEC_Y) + 1.0
    ax = _axes(ax, 4.4 if attention else 3.3)
    states = _encoder(ax, letters)
    start = len(letters) + 1.6
    d0 = _node(ax, (start, _DEC_Y), "$d_0$", STATE, name="d:0")
    _arrow(ax, states[-1], d0, name="forward_last->d:0")
    _arrow(ax, states[0], d0, ls=":", bend=-0.25, name="backward_first->d:0")
    _label(ax, (start - 0.25, _DEC_Y + 0.42),
           r"$W_0 [\overrightarrow{h}_T ; \overleftarrow{h}_1]$", ha="right")
    decoder = _decoder(ax, start, outputs, attention, out_y)
    if attention:
        _attention_step(ax, states, decoder[step - 1], step, weights, len(letters))
    return _finish(ax, (-0.6, start + len(outputs) + 0.6), (-0.8, out_y + 0.45), equal=False)


def _encoder(ax, letters: str) -> list:
    """The letters and their states h_1 … h_T, chained both ways; returns the state nodes."""
    states = []
    for j, letter in enumerate(letters, start=1):
        token = _node(ax, (j, 0.0), letter, INPUT, name="letter")
        _label(ax, (j, -0.5), f"$x_{{{j}}}$")
        states.append(_node(ax, (j, _ENC_Y), f"$h_{{{j}}}$", STATE, name="h"))
        _arrow(ax, token, states[-1], name=f"letter:{j}->h:{j}")
        if j > 1:
            _arrow(ax, (j - 1 + 0.25, _ENC_Y + 0.1), (j - 0.25, _ENC_Y + 0.1), name="forward")
            _arrow(ax, (j - 0.25, _ENC_Y - 0.1), (j - 1 + 0.25, _ENC_Y - 0.1), name="backward")
    _label(ax, (0.45, _ENC_Y), "encoder", ha="right")
    return states


def _decoder(ax, start: float, outputs: tuple, attention: bool, out_y: float) -> list:
    """Decoder steps i = 1 … T': y_{i-1} in, d_i, (d̃_i,) y_i out; returns the d_i nodes."""
    states, previous = [], _find(ax, "d:0")
    reads = ("<s>", *outputs[:-1])
    for i, (read, write) in enumerate(zip(reads, outputs), start=1):
        x = start + i
        state = _node(ax, (x, _DEC_Y), f"$d_{{{i}}}$", STATE, name=f"d:{i}")
        given = _node(ax, (x, _ENC_Y), _escape(read), OUTPUT, name="reads", size=LABEL_SIZE)
        _arrow(ax, given, state, name=f"y:{i - 1}->d:{i}")
        _arrow(ax, previous, state, name=f"d:{i - 1}->d:{i}")
        below = state
        if attention:
            below = _node(ax, (x, _TILDE_Y), rf"$\tilde d_{{{i}}}$", STATE, name=f"dtilde:{i}")
            _arrow(ax, state, below, name=f"d:{i}->dtilde:{i}")
        out = _node(ax, (x, out_y), _escape(write), OUTPUT, name="writes", size=LABEL_SIZE)
        _label(ax, (x, out_y + 0.38), f"$y_{{{i}}}$", size=LABEL_SIZE - 1)
        _arrow(ax, below, out, name=f"{below.get_gid()}->y:{i}")
        states.append(state)
        previous = state
    _label(ax, (start + 0.6, _ENC_Y - 0.75), "the decoder reads $y_{i-1}$", ha="left")
    _label(ax, (start + len(outputs) + 0.45, _DEC_Y), "decoder", ha="left", rotation=90)
    return states


def _attention_step(ax, states: list, state, step: int, weights, length: int):
    """Step ``step``'s context: α_{step,j} from every h_j (line width = weight) into h̄_i,
    placed between this step's column and the next, which joins d_i in d̃_i."""
    if weights is None:
        weights = ([0.06, 0.7, 0.18, 0.06] + [0.0] * length)[:length]
    _require(len(weights) == length, f"one weight per letter: {length}, got {len(weights)}")
    x = state.get_position()[0]
    context = _node(ax, (x + 0.5, _CONTEXT_Y), rf"$\bar h_{{{step}}}$", GATE, name=f"context:{step}")
    for j, (h, alpha) in enumerate(zip(states, weights), start=1):
        _arrow(ax, h, context, color=CELL_PATH, lw=0.4 + 5 * float(alpha), bend=0.3,
               name=f"h:{j}->context:{step}")
    _arrow(ax, state, context, color=CELL_PATH, ls="--", name=f"d:{step}->context:{step}")
    _arrow(ax, context, _find(ax, f"dtilde:{step}"), bend=0.25,
           name=f"context:{step}->dtilde:{step}")
    _label(ax, (states[0].get_position()[0] - 0.3, _TILDE_Y + 0.2),
           rf"attention at step {step}: $\bar h_{{{step}}} = \sum_j \alpha_{{{step}j}} h_j$"
           "\n" rf"(line widths: $\alpha_{{{step}j}}$; scored against $d_{{{step}}}$, dashed)",
           color=CELL_PATH, ha="left")


# Chapter 10, section 10.8: self-attention ----------------------------------------------------

_KV_Y, _SELF_OUT_Y = 1.35, 3.2


def self_attention(length: int = 5, query: int = 3, weights=None, causal: bool = False, ax=None):
    """One head of self-attention (Chapter 10, section 10.8) at one position. Every input
    vector x_s gives a key and a value, k_s = W_K x_s and v_s = W_V x_s; position t
    (``query``) gives its query q_t = W_Q x_t, scores it against every key, and its output is
    y_t = W_O Σ_s A_ts v_s with A_t· = softmax(q_t · k_s / √n_k), drawn as lines whose width
    is the weight (``weights``, one per position; an illustration unless given). With
    ``causal`` position t reads only s ≤ t: the later positions get no line."""
    _at_least_one(length, "length")
    _require(1 <= query <= length, f"query must be 1 … {length}, got {query!r}")
    if weights is None:
        raw = [0.5 + (s == query) + 0.6 * (s == query - 1) for s in range(1, length + 1)]
        raw = [w if not causal or s <= query else 0.0 for s, w in enumerate(raw, start=1)]
        weights = [w / sum(raw) for w in raw]
    _require(len(weights) == length, f"one weight per position: {length}, got {len(weights)}")
    _require(not causal or all(w == 0 for w in weights[query:]),
             "a causal query puts no weight on later positions")
    ax = _axes(ax, 3.2)
    keys, gap = [], 1.3
    for s in range(1, length + 1):
        vector = _node(ax, (gap * s, 0.0), f"$x_{{{s}}}$", INPUT, name=f"x:{s}")
        keys.append(_node(ax, (gap * s, _KV_Y), rf"$\mathrm{{k}}_{{{s}}}, \mathrm{{v}}_{{{s}}}$", STATE,
                          name=f"kv:{s}"))
        _arrow(ax, vector, keys[-1], name=f"x:{s}->kv:{s}")
    q = _node(ax, (gap * (query + 0.5), _KV_Y), rf"$\mathrm{{q}}_{{{query}}}$", GATE, name=f"q:{query}")
    _arrow(ax, _find(ax, f"x:{query}"), q, ls="--", name=f"x:{query}->q:{query}")
    out = _node(ax, (gap * query, _SELF_OUT_Y), f"$y_{{{query}}}$", OUTPUT, name=f"y:{query}")
    _arrow(ax, q, out, ls="--", name=f"q:{query}->y:{query}")
    for s, (kv, weight) in enumerate(zip(keys, weights), start=1):
        if weight > 0:
            _arrow(ax, kv, out, color=CELL_PATH, lw=0.4 + 5 * float(weight), bend=0.15,
                   name=f"kv:{s}->y:{query}")
    _label(ax, (gap * (length + 0.5), _SELF_OUT_Y - 0.1),
           rf"$y_{{{query}}} = W_O \sum_s \mathrm{{A}}_{{{query}s}}\, \mathrm{{v}}_s$" "\n"
           rf"$\mathrm{{A}}_{{{query}s}} \propto \exp(\mathrm{{q}}_{{{query}}} \cdot"
           rf" \mathrm{{k}}_s / \sqrt{{n_k}})$" "\n(line widths; dashed: the query)"
           + ("\ncausal: no line from later positions" if causal else ""),
           color=CELL_PATH, ha="left")
    return _finish(ax, (gap * 0.6, gap * (length + 0.5) + 3.2), (-0.5, _SELF_OUT_Y + 0.5),
                   equal=False)


def _find(ax, name: str):
    return next(t for t in ax.texts if t.get_gid() == name)


def _escape(symbol: str) -> str:
    """A token as plain text (mathtext would read < and $)."""
    return symbol.replace("$", r"\$")
