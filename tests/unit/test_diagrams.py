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
    "backward_unrolled": lambda ax: diagrams.backward_unrolled(4, ax=ax),
    "truncation_windows": lambda ax: diagrams.truncation_windows(12, 4, ax=ax),
    "task_shapes": lambda ax: diagrams.task_shapes(ax=ax),
    "lstm_cell": lambda ax: diagrams.lstm_cell(ax=ax),
    "gru_cell pytorch": lambda ax: diagrams.gru_cell("pytorch", ax=ax),
    "gru_cell chung": lambda ax: diagrams.gru_cell("chung", ax=ax),
    "bidirectional_tagger": lambda ax: diagrams.bidirectional_tagger((5, 3), 2, ax=ax),
    "bilm_scalar_mix": lambda ax: diagrams.bilm_scalar_mix(2, ax=ax),
    "encoder_decoder": lambda ax: diagrams.encoder_decoder(ax=ax),
    "encoder_decoder attention": lambda ax: diagrams.encoder_decoder(True, ax=ax),
    "self_attention": lambda ax: diagrams.self_attention(ax=ax),
    "self_attention causal": lambda ax: diagrams.self_attention(causal=True, ax=ax),
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


def inputs_of(ax, name: str) -> set[str]:
    """The names of what has an arrow into the node ``name``."""
    return {gid.split("->")[0] for gid in edges(ax) if gid.endswith(f"->{name}")}


def nodes(ax, name: str) -> list:
    """Drawn texts (not arrows) whose gid is ``name``, left to right."""
    found = [t for t in ax.texts if t.get_gid() == name and not isinstance(t, Annotation)]
    return sorted(found, key=lambda t: t.get_position())


def xs(texts) -> list[float]:
    return sorted(t.get_position()[0] for t in texts)


def start(arrow):
    return arrow.xyann


def end(arrow):
    return arrow.xy


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
    assert {"$h_0$", "$W_{hh}$", "$W_{ih}$", "$W_{hy}$"} <= labels(ax)
    assert not any("o_" in label for label in labels(ax))
    assert {"h:0->h:1", "h:1->h:2", "x:2->h:2", "h:2->logit:2", "logit:2->loss:2"} <= edges(ax)


def test_backward_pass_flows_from_each_logit_and_from_the_next_step():
    """Into h_t: W_hyᵀ ∂L/∂ℓ_t from above and W_hhᵀ δ_{t+1} from the right; out of h_t, down
    through a box that multiplies by f'(a_t), giving δ_t, which flows on to h_{t-1}."""
    steps = 4
    ax = diagrams.backward_unrolled(steps)
    for t in range(1, steps + 1):
        assert {rf"$W_{{hy}}^\top$" "\n" rf"$\partial L / \partial \ell_{{{t}}}$",
                rf"$\odot f'(a_{{{t}}})$", rf"$W_{{hh}}^\top \delta_{{{t}}}$"} <= labels(ax)
    deltas, from_logits, slopes = arrows(ax, "delta:"), arrows(ax, "dlogit:"), arrows(ax, "dh:")
    assert len(deltas) == len(from_logits) == len(slopes) == steps
    boxes = {t: nodes(ax, f"slope:{t}")[0] for t in range(1, steps + 1)}
    for t in range(1, steps + 1):
        (into_box,), (out_of_box,) = arrows(ax, f"dh:{t}"), arrows(ax, f"delta:{t}->{t - 1}")
        assert start(into_box) == nodes(ax, f"h:{t}")[0].get_position()
        assert end(into_box) == start(out_of_box) == boxes[t].get_position()
        assert end(out_of_box) == nodes(ax, f"h:{t - 1}")[0].get_position()
        (from_logit,) = arrows(ax, f"dlogit:{t}")
        assert start(from_logit) == nodes(ax, f"logit:{t}")[0].get_position()
        assert end(from_logit) == nodes(ax, f"h:{t}")[0].get_position()
    # nothing flows into h_T from the right (δ_{T+1} = 0): no arrow ends at h_T but ℓ_T's
    into_last = [a for a in deltas + from_logits + slopes
                 if end(a) == nodes(ax, f"h:{steps}")[0].get_position()]
    assert [a.get_gid() for a in into_last] == [f"dlogit:{steps}"]
    backward = deltas + from_logits + slopes
    for arrow in backward:
        assert arrow.arrow_patch.get_linestyle() == "--"
        assert arrow.arrowprops["color"] == diagrams.GRADIENT
    forward = [a for a in arrows(ax) if a not in backward]
    assert all(a.arrow_patch.get_linestyle() == "-" for a in forward)
    assert all(end(a)[0] >= start(a)[0] and end(a)[1] >= start(a)[1] for a in forward)


def test_truncation_windows_cut_between_windows():
    ax = diagrams.truncation_windows(12, 4)
    assert {f"$h_{{{t}}}$" for t in range(1, 13)} <= labels(ax)
    assert [t.get_text() for t in ax.texts].count("detach") == 2
    assert "K = 4" in ax.get_title()


def test_task_shapes_one_to_one_many_to_one_aligned_and_read_then_write():
    ax = diagrams.task_shapes()
    x, h, y = ({shape: nodes(ax, f"{shape}:{row}") for shape, *_ in diagrams.TASK_SHAPES}
               for row in ("x", "h", "y"))
    assert (len(x["one_to_one"]), len(h["one_to_one"]), len(y["one_to_one"])) == (1, 1, 1)
    assert "one_to_one:h->one_to_one:h" not in edges(ax), "one to one has no recurrence"
    assert "many_to_one:h->many_to_one:h" in edges(ax)
    assert len(y["many_to_one"]) == 1 and xs(y["many_to_one"]) == xs(h["many_to_one"])[-1:]
    assert xs(y["aligned"]) == xs(x["aligned"]) == xs(h["aligned"])
    assert min(xs(y["seq2seq"])) > max(xs(x["seq2seq"]))
    assert len(y["seq2seq"]) != len(x["seq2seq"])
    assert "seq2seq:y->seq2seq:h" in edges(ax), "the decoder reads its previous output"
    assert "aligned:y->aligned:h" not in edges(ax)
    names = " ".join(labels(ax))
    for words in ("one to one", "many to one", "classification", "aligned", "tagging",
                  "sequence to sequence"):
        assert words in names
    for shape, *_ in diagrams.TASK_SHAPES:
        caption, = nodes(ax, f"{shape}:name")
        lowest_node = min(t.get_position()[1] for t in x[shape])
        assert caption.get_position()[1] < lowest_node, "each name is under its graph"
    assert {"$x$", "$h$", "$y$", "$x_{3}$", "$h_{5}$", "$y_{1}$", "$y_{3}$"} <= labels(ax)


# Chapters 6 and 7 ----------------------------------------------------------------------------

def test_lstm_cell_shows_every_symbol_of_the_six_equations():
    ax = diagrams.lstm_cell()
    assert {"$x_t$", "$h_{t-1}$", "$c_{t-1}$", "$f_t$", "$i_t$", "$o_t$", r"$\tilde c_t$",
            "$c_t$", "$h_t$", r"$\sigma$", r"$\tanh$", r"$\odot$", "$+$",
            "$W_f, b_f$", "$W_i, b_i$", "$W_o, b_o$", "$W_c, b_c$"} <= labels(ax)
    assert any("[h_{t-1}, x_t]" in label for label in labels(ax))


def test_lstm_cell_path_is_one_straight_highlighted_line_along_the_top():
    ax = diagrams.lstm_cell()
    path = [next(iter(arrows(ax, gid))) for gid in ("c_prev->forget", "forget->add", "add->c")]
    heights = {start(a)[1] for a in path} | {end(a)[1] for a in path}
    highest_node = max(t.get_position()[1] for t in ax.texts if not isinstance(t, Annotation))
    assert heights == {highest_node}
    assert all(end(a)[0] > start(a)[0] for a in path)
    assert all(a.arrowprops["color"] == diagrams.CELL_PATH for a in path)
    others = [a for a in arrows(ax) if a not in path]
    assert all(a.arrowprops["color"] != diagrams.CELL_PATH for a in others)


def test_lstm_gates_act_where_the_equations_say():
    ax = diagrams.lstm_cell()
    assert inputs_of(ax, "forget") == {"c_prev", "f"}           # f_t ⊙ c_{t-1}
    assert inputs_of(ax, "write") == {"i", "c_tilde"}           # i_t ⊙ c̃_t
    assert inputs_of(ax, "add") == {"forget", "write"}
    assert inputs_of(ax, "tanh_c") == {"c"}
    assert inputs_of(ax, "show") == {"o", "tanh_c"}             # h_t = o_t ⊙ tanh(c_t)
    assert inputs_of(ax, "h") == {"show"}
    for gate in ("f", "i", "c_tilde", "o"):
        assert inputs_of(ax, gate) == {"inputs"}                 # each reads [h_{t-1}, x_t]


@pytest.mark.parametrize("form", diagrams.GRU_FORMS)
def test_gru_cell_shows_its_symbols(form):
    ax = diagrams.gru_cell(form)
    assert {"$x_t$", "$h_{t-1}$", "$h_t$", "$r_t$", "$z_t$", "$1 - z_t$", r"$\tilde h_t$",
            r"$\sigma$", r"$\tanh$", r"$\odot$"} <= labels(ax)
    assert "$c_t$" not in labels(ax) and not any("n_t" in label for label in labels(ax))


def test_gru_forms_differ_where_the_reset_gate_acts():
    pytorch, chung = diagrams.gru_cell("pytorch"), diagrams.gru_cell("chung")
    assert inputs_of(pytorch, "reset") == {"r", "recurrent"}    # r ⊙ (W_hn h + b_hn)
    assert inputs_of(pytorch, "recurrent") == {"h_prev"}
    assert inputs_of(pytorch, "candidate_sum") == {"reset", "input_term"}
    assert inputs_of(chung, "reset") == {"r", "h_prev"}         # U (r ⊙ h)
    assert inputs_of(chung, "U") == {"reset"}
    assert inputs_of(chung, "candidate_sum") == {"U", "input_term"}
    assert r"$W_{hn} h_{t-1} + b_{hn}$" in labels(pytorch) - labels(chung)
    assert {"$U$", "$W x_t + b$"} <= labels(chung) - labels(pytorch)


def test_gru_forms_differ_in_which_input_of_the_mix_gets_z():
    pytorch, chung = diagrams.gru_cell("pytorch"), diagrams.gru_cell("chung")
    # PyTorch: h_t = (1 - z) ⊙ h̃ + z ⊙ h_{t-1}
    assert inputs_of(pytorch, "keep") == {"h_prev", "z"}
    assert inputs_of(pytorch, "write") == {"candidate", "one_minus"}
    # Chung et al.: h_t = (1 - z) ⊙ h_{t-1} + z ⊙ h̃
    assert inputs_of(chung, "keep") == {"h_prev", "one_minus"}
    assert inputs_of(chung, "write") == {"candidate", "z"}
    for ax in (pytorch, chung):
        assert inputs_of(ax, "one_minus") == {"z"} and inputs_of(ax, "add") == {"keep", "write"}


def test_gru_cell_rejects_an_unknown_form():
    with pytest.raises(ValueError, match="form must be one of"):
        diagrams.gru_cell("cho")


# Chapter 8 -----------------------------------------------------------------------------------

@pytest.mark.parametrize("lengths, layers", [((5, 3), 2), ((2, 4, 1), 1), ((3,), 3)])
def test_tagger_tags_real_tokens_and_never_padding(lengths, layers):
    ax = diagrams.bidirectional_tagger(lengths, layers)
    for row, length in enumerate(lengths):
        tokens, padding = nodes(ax, f"token:{row}"), nodes(ax, f"pad:{row}")
        assert len(tokens) == length and len(padding) == max(lengths) - length
        assert min(xs(padding), default=math.inf) > max(xs(tokens)), "padding after the end"
        assert xs(nodes(ax, f"tag:{row}")) == xs(tokens)
        assert not set(xs(nodes(ax, f"tag:{row}"))) & set(xs(padding))
        for layer in range(1, layers + 1):
            assert len(arrows(ax, f"up:{row}:{layer}")) == length


@pytest.mark.parametrize("lengths, layers", [((5, 3), 2), ((2, 4, 1), 1), ((3,), 3)])
def test_tagger_backward_row_starts_at_each_sequences_own_end(lengths, layers):
    ax = diagrams.bidirectional_tagger(lengths, layers)
    for row, length in enumerate(lengths):
        token_x = xs(nodes(ax, f"token:{row}"))
        first, last = token_x[0], token_x[-1]
        for layer in range(1, layers + 1):
            backward = arrows(ax, f"backward:{row}:{layer}")
            forward = arrows(ax, f"forward:{row}:{layer}")
            assert len(backward) == len(forward) == length - 1
            assert all(end(a)[0] < start(a)[0] for a in backward)
            assert all(end(a)[0] > start(a)[0] for a in forward)
            assert max((start(a)[0] for a in backward), default=last) == last
            assert min((start(a)[0] for a in forward), default=first) == first
            begin, = arrows(ax, f"backward_start:{row}:{layer}")
            assert end(begin)[0] == last and start(begin)[0] > last
            assert start(begin)[0] < last + 1, "the zero state enters before any padding"
            begin, = arrows(ax, f"forward_start:{row}:{layer}")
            assert end(begin)[0] == first and start(begin)[0] < first


def test_tagger_shows_its_symbols():
    ax = diagrams.bidirectional_tagger((5, 3), 2)
    assert {"$x_{1}$", "$x_{5}$", r"$\overrightarrow{h}_{1}$", r"$\overleftarrow{h}_{5}$",
            r"$[\overrightarrow{h}_t ; \overleftarrow{h}_t]$", "$y_{1}$", "$y_{5}$", "pad"} \
        <= labels(ax)


@pytest.mark.parametrize("lengths, layers, message", [
    ((5, 0), 2, "every length"), ((), 2, "at least one sequence"), ((5, 3), 0, "layers"),
    ((5, 2.5), 1, "every length")])
def test_tagger_rejects_bad_arguments(lengths, layers, message):
    with pytest.raises(ValueError, match=message):
        diagrams.bidirectional_tagger(lengths, layers)


# Chapter 9 -----------------------------------------------------------------------------------

def test_bilm_shows_the_symbols_of_sections_9_2_to_9_4():
    ax = diagrams.bilm_scalar_mix(2)
    assert {"$x_t$", "$e_t$", "$[e_t ; e_t]$", "$x_{t+1}$", "$x_{t-1}$", r"$\mathrm{ELMo}_t$",
            r"$\lambda_j = \mathrm{softmax}(\omega)_j$", r"$\times\gamma$", r"$\Sigma$"} \
        <= labels(ax)
    for j in (1, 2):
        assert {rf"$\overrightarrow{{h}}_{{t,{j}}}$", rf"$\overleftarrow{{h}}_{{t,{j}}}$"} \
            <= labels(ax)
    assert {f"$h_{{t,{j}}}$" for j in (0, 1, 2)} <= labels(ax)
    assert {f"$\\lambda_{j}$" for j in (0, 1, 2)} <= labels(ax)
    joined = " ".join(labels(ax))
    assert r"\Theta_x" in joined and r"\Theta_s" in joined and "character CNN" in joined
    assert not any(symbol in joined for symbol in ("s_j", "x_k", "h_{k"))  # the old symbols


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_bilm_directions_never_read_each_other(layers):
    ax = diagrams.bilm_scalar_mix(layers)
    for gid in edges(ax):
        ends = {name.split(":")[0] for name in gid.split("->")}
        assert not {"forward", "backward"} <= ends, gid
    for direction in ("forward", "backward"):
        assert inputs_of(ax, f"{direction}:lstm:1") == {"e"}
        for j in range(2, layers + 1):
            assert inputs_of(ax, f"{direction}:lstm:{j}") == {f"{direction}:{j - 1}"}


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_bilm_residual_from_the_second_layer_and_one_weight_per_layer(layers):
    ax = diagrams.bilm_scalar_mix(layers)
    for direction in ("forward", "backward"):
        assert not nodes(ax, f"{direction}:residual:1")
        for j in range(2, layers + 1):           # h_{t,j} = LSTM(h_{t,j-1}) + h_{t,j-1}
            assert inputs_of(ax, f"{direction}:residual:{j}") == {f"{direction}:lstm:{j}",
                                                                  f"{direction}:{j - 1}"}
            assert inputs_of(ax, f"{direction}:{j}") == {f"{direction}:residual:{j}"}
    assert inputs_of(ax, "sum") == {f"weight:{j}" for j in range(layers + 1)}
    assert inputs_of(ax, "scale") == {"sum"} and inputs_of(ax, "elmo") == {"scale"}


def test_bilm_forward_lm_predicts_the_next_token_and_backward_the_previous():
    ax = diagrams.bilm_scalar_mix(2)
    top_forward, = nodes(ax, "forward:2")
    top_backward, = nodes(ax, "backward:2")
    ahead, = nodes(ax, "predict:x_{t+1}")
    behind, = nodes(ax, "predict:x_{t-1}")
    assert ahead.get_position()[0] == top_forward.get_position()[0]
    assert behind.get_position()[0] == top_backward.get_position()[0]
    assert top_forward.get_position()[0] < top_backward.get_position()[0]


# Bad arguments -------------------------------------------------------------------------------

@pytest.mark.parametrize("draw, message", [
    (lambda: diagrams.unrolled_rnn(0), "steps"),
    (lambda: diagrams.backward_unrolled(0), "steps"),
    (lambda: diagrams.backward_unrolled(-2), "steps"),
    (lambda: diagrams.bilm_scalar_mix(0), "layers"),
])
def test_bad_sizes_raise_a_clear_error(draw, message):
    with pytest.raises(ValueError, match=f"{message} must be a whole number ≥ 1"):
        draw()


# Chapter 10 ----------------------------------------------------------------------------------

@pytest.mark.parametrize("attention", [False, True])
def test_encoder_decoder_reads_the_previous_output_and_starts_from_both_ends(attention):
    ax = diagrams.encoder_decoder(attention, "knife", ("N", "AY", "F"))
    assert [t.get_text() for t in nodes(ax, "letter")] == list("knife")
    assert [t.get_text() for t in nodes(ax, "reads")] == ["<s>", "N", "AY", "F"]
    assert [t.get_text() for t in nodes(ax, "writes")] == ["N", "AY", "F", "</s>"]
    assert {f"$x_{{{j}}}$" for j in range(1, 6)} | {f"$y_{{{i}}}$" for i in range(1, 5)} \
        | {"$d_0$"} <= labels(ax)
    assert inputs_of(ax, "d:0") == {"forward_last", "backward_first"}
    for i in range(1, 5):
        assert inputs_of(ax, f"d:{i}") == {f"y:{i - 1}", f"d:{i - 1}"}
        assert f"{'dtilde' if attention else 'd'}:{i}->y:{i}" in edges(ax)
    assert (len(arrows(ax, "forward")) - 1, len(arrows(ax, "backward")) - 1) == (4, 4)


def test_attention_reads_every_encoder_state_into_one_context():
    ax = diagrams.encoder_decoder(True, "exit", ("EH", "G", "Z", "IH", "T"), step=3,
                                  weights=[0.1, 0.2, 0.6, 0.1])
    assert inputs_of(ax, "context:3") == {"h:1", "h:2", "h:3", "h:4", "d:3"}
    assert inputs_of(ax, "dtilde:3") == {"d:3", "context:3"}
    widths = [a.arrow_patch.get_linewidth() for a in arrows(ax, "h:")]
    assert max(widths) == widths[2], "the widest line is the largest weight"
    assert not any(gid.startswith("context:") for gid in edges(diagrams.encoder_decoder(False)))


@pytest.mark.parametrize("bad", [dict(letters=""), dict(phonemes=()), dict(step=0),
                                 dict(step=7), dict(attention=True, weights=[1.0])])
def test_encoder_decoder_refuses_bad_input(bad):
    with pytest.raises(ValueError):
        diagrams.encoder_decoder(**bad)


@pytest.mark.parametrize("causal", [False, True])
def test_self_attention_reads_every_value_it_may_see_into_one_output(causal):
    ax = diagrams.self_attention(5, 3, causal=causal)
    seen = range(1, 4) if causal else range(1, 6)
    assert inputs_of(ax, "y:3") == {f"kv:{s}" for s in seen} | {"q:3"}
    assert inputs_of(ax, "q:3") == {"x:3"}
    assert all(inputs_of(ax, f"kv:{s}") == {f"x:{s}"} for s in range(1, 6))
    assert {r"$\mathrm{q}_{3}$", "$y_{3}$", r"$\mathrm{k}_{5}, \mathrm{v}_{5}$"} <= labels(ax)


def test_self_attention_line_widths_are_the_weights():
    ax = diagrams.self_attention(4, 2, weights=[0.1, 0.2, 0.6, 0.1])
    widths = [a.arrow_patch.get_linewidth() for a in arrows(ax, "kv:")
              if a.get_gid().endswith("->y:2")]
    assert max(widths) == widths[2]


@pytest.mark.parametrize("bad", [dict(length=0), dict(query=0), dict(query=6),
                                 dict(weights=[1.0]),
                                 dict(causal=True, weights=[0.2, 0.2, 0.2, 0.2, 0.2])])
def test_self_attention_refuses_bad_input(bad):
    with pytest.raises(ValueError):
        diagrams.self_attention(**{"length": 5, "query": 3} | bad)
