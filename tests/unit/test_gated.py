"""The from-scratch LSTM and GRU equal torch.nn's with copied weights (Chapters 6 and 7)."""

import pytest
import torch
from torch import nn

from seqlm import gru, lstm

CASES = [(layers, bias) for layers in (1, 2) for bias in (True, False)]


def pair(kind, layers, bias, seed=0):
    torch.manual_seed(seed)
    reference = {"lstm": nn.LSTM, "gru": nn.GRU}[kind](5, 7, layers, bias=bias, batch_first=True)
    ours = {"lstm": lstm.LSTM, "gru": gru.GRU}[kind](5, 7, layers, bias=bias)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in reference.named_parameters()]
    ours.load_state_dict(reference.state_dict())
    return reference, ours


def initial_state(kind, layers, B=3, H=7):
    h0 = torch.randn(layers, B, H)
    return (h0, torch.randn(layers, B, H)) if kind == "lstm" else h0


def flat(state):
    return list(state) if isinstance(state, tuple) else [state]


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("layers, bias", CASES)
def test_outputs_final_states_and_gradients_equal_torch(kind, layers, bias):
    reference, ours = pair(kind, layers, bias)
    x = torch.randn(3, 9, 5)
    for start in (None, initial_state(kind, layers)):
        (out_ref, state_ref), (out, state) = reference(x, start), ours(x, start)
        torch.testing.assert_close(out, out_ref, rtol=0, atol=1e-6)
        for a, b in zip(flat(state), flat(state_ref)):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    loss = lambda model: sum(t.sum() for t in [model(x)[0]] + flat(model(x)[1]))
    loss(reference).backward()
    loss(ours).backward()
    for (name, a), (_, b) in zip(ours.named_parameters(), reference.named_parameters()):
        torch.testing.assert_close(a.grad, b.grad, rtol=0, atol=1e-5, msg=name)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_the_cell_equals_torch_cell(kind):
    torch.manual_seed(1)
    cell = {"lstm": nn.LSTMCell, "gru": nn.GRUCell}[kind](4, 6)
    x, h, c = torch.randn(5, 4), torch.randn(5, 6), torch.randn(5, 6)
    weights = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    if kind == "lstm":
        h_ref, c_ref = cell(x, (h, c))
        got_h, got_c = lstm.lstm_cell(x, h, c, *weights)
        torch.testing.assert_close(got_c, c_ref, rtol=0, atol=1e-6)
    else:
        h_ref, got_h = cell(x, h), gru.gru_cell(x, h, *weights)
    torch.testing.assert_close(got_h, h_ref, rtol=0, atol=1e-6)


def test_lstm_variants_fix_their_gates():
    torch.manual_seed(2)
    x, h, c = torch.randn(4, 3), torch.zeros(4, 5), torch.randn(4, 5)
    W_ih, W_hh = torch.randn(20, 3), torch.randn(20, 5)
    _, c_nf = lstm.lstm_cell(x, h, c, W_ih, W_hh, variant="no_forget")
    i, _, g, _ = (x @ W_ih.T + h @ W_hh.T).chunk(4, -1)
    torch.testing.assert_close(c_nf, c + torch.sigmoid(i) * torch.tanh(g))   # f = 1
    h_no, c_no = lstm.lstm_cell(x, h, c, W_ih, W_hh, variant="no_output")
    torch.testing.assert_close(h_no, torch.tanh(c_no))                          # o = 1
    _, c_cp = lstm.lstm_cell(x, h, c, W_ih, W_hh, variant="coupled")
    torch.testing.assert_close(c_cp, (1 - torch.sigmoid(i)) * c + torch.sigmoid(i) * torch.tanh(g))
    with pytest.raises(ValueError, match="variant"):
        lstm.LSTM(3, 5, variant="peephole")


def test_the_three_gru_forms_and_what_separates_them():
    """Chung et al.'s (the lectures') cell is Cho et al.'s with z and 1 - z swapped, exactly;
    Cho et al.'s differs from torch's only where the reset gate acts (same with r = 1)."""
    torch.manual_seed(3)
    cell = nn.GRUCell(4, 6)
    x, h = torch.randn(5, 4), torch.randn(5, 6)
    weights = [cell.weight_ih.detach(), cell.weight_hh.detach(), cell.bias_ih.detach(),
               cell.bias_hh.detach()]
    flipped = [w.clone() for w in weights]
    for w in flipped:
        w[6:12] *= -1  # the update gate's rows: z <-> 1 - z
    torch.testing.assert_close(gru.gru_cell_chung(x, h, *flipped), gru.gru_cell_cho(x, h, *weights),
                               rtol=0, atol=1e-6)
    assert not torch.allclose(gru.gru_cell_chung(x, h, *weights), gru.gru_cell_cho(x, h, *weights))
    held = [w.clone() for w in weights]
    held[2][:6] = 50.0  # r = 1: a reset gate that lets everything through
    torch.testing.assert_close(gru.gru_cell_cho(x, h, *held), gru.gru_cell(x, h, *held),
                               rtol=0, atol=1e-6)
    assert not torch.allclose(gru.gru_cell_cho(x, h, *weights), gru.gru_cell(x, h, *weights))
    h_cho = gru.gru_cell_cho(x, h, *weights)   # Cho's eq. 7 by hand: z h + (1 - z) h~
    W_ir, W_iz, W_in = weights[0].chunk(3)
    W_hr, W_hz, W_hn = weights[1].chunk(3)
    (b_ir, b_iz, b_in), (b_hr, b_hz, b_hn) = weights[2].chunk(3), weights[3].chunk(3)
    r = torch.sigmoid(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
    z = torch.sigmoid(x @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
    h_tilde = torch.tanh(x @ W_in.T + b_in + (r * h) @ W_hn.T + b_hn)
    torch.testing.assert_close(h_cho, z * h + (1 - z) * h_tilde, rtol=0, atol=1e-6)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_padding_changes_nothing_of_a_sequence(kind):
    _, ours = pair(kind, 2, True)
    x = torch.randn(3, 8, 5)
    lengths = torch.tensor([8, 5, 2])
    out, state = ours(x, lengths=lengths)
    for b, n in enumerate(lengths.tolist()):
        alone_out, alone_state = ours(x[b:b + 1, :n])
        torch.testing.assert_close(out[b, :n], alone_out[0], rtol=0, atol=1e-6)
        assert torch.all(out[b, n:] == 0)
        for a, s in zip(flat(state), flat(alone_state)):
            torch.testing.assert_close(a[:, b], s[:, 0], rtol=0, atol=1e-6)


@pytest.mark.parametrize("bad", [dict(hidden_size=0), dict(input_size=0), dict(num_layers=0),
                                 dict(dropout=1.0)])
def test_bad_sizes_are_clear_errors(bad):
    with pytest.raises(ValueError):
        lstm.LSTM(**{"input_size": 3, "hidden_size": 4} | bad)
    with pytest.raises(ValueError):
        gru.GRU(**{"input_size": 3, "hidden_size": 4} | bad)


@pytest.mark.parametrize("gate, variant", [("forget", "no_forget"), ("output", "no_output")])
def test_a_gate_held_open_in_torch_equals_the_variant(gate, variant):
    torch.manual_seed(4)
    reference = nn.LSTM(3, 5, batch_first=True)
    ours = lstm.LSTM(3, 5, variant=variant)
    ours.load_state_dict(reference.state_dict())
    lstm.open_gate_(reference, gate)
    x = torch.randn(2, 7, 3)
    torch.testing.assert_close(reference(x)[0], ours(x)[0], rtol=0, atol=1e-6)
    reference(x)[0].sum().backward()
    rows = slice(lstm.GATE_ROWS[gate] * 5, (lstm.GATE_ROWS[gate] + 1) * 5)
    assert reference.weight_ih_l0.grad[rows].abs().sum() == 0  # and it stays open


@pytest.mark.parametrize("layers, start", [(1, False), (2, True)])
def test_the_fused_coupled_lstm_equals_the_from_scratch_coupled_cell(layers, start):
    """CoupledLSTM (nn.LSTM's kernel, forget rows = -input rows) computes f = 1 - i exactly
    as seqlm.lstm.LSTM(variant="coupled"): outputs, states and every gradient."""
    torch.manual_seed(4)
    fused = lstm.CoupledLSTM(3, 5, layers)
    scratch = lstm.LSTM(3, 5, layers, variant="coupled")
    scratch.load_state_dict(fused.state_dict())
    x = torch.randn(4, 7, 3)
    state = (torch.randn(layers, 4, 5), torch.randn(layers, 4, 5)) if start else None
    computed = []
    for model in (fused, scratch):
        x_ = x.clone().requires_grad_()
        out, (h, c) = model(x_, state)
        (out.square().sum() + h.sum() + c.sum()).backward()
        computed.append([out, h, c, x_.grad] + [p.grad for p in model.parameters()])
    for a, b in zip(*computed):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    H = 5
    assert all(p.grad[H:2 * H].abs().max() == 0 for p in fused.parameters())  # never read


def test_the_fused_coupled_lstm_starts_as_the_from_scratch_one_from_the_same_seed():
    torch.manual_seed(5)
    fused = lstm.CoupledLSTM(2, 6)
    torch.manual_seed(5)
    scratch = lstm.LSTM(2, 6, variant="coupled")
    for (name, a), (_, b) in zip(fused.named_parameters(), scratch.named_parameters()):
        assert torch.equal(a, b), name
    with pytest.raises(ValueError, match="packed"):
        fused(torch.randn(3, 2))
