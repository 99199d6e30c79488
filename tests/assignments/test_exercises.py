"""The data and the measures that Assignments 5-9 and their checks share (seqlm.exercises):
the tasks are what their docstrings say, and each measure is the model it names."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from seqlm import exercises


def generator(seed=0):
    return torch.Generator().manual_seed(seed)


def test_the_adding_problem_marks_one_step_per_half_and_sums_them():
    x, y = exercises.adding_problem(2000, 10, generator())
    markers = x[..., 1]
    assert torch.equal(markers[:, :5].sum(1), torch.ones(2000))
    assert torch.equal(markers[:, 5:].sum(1), torch.ones(2000))
    assert torch.allclose((x[..., 0] * markers).sum(1), y)
    assert abs(exercises.mean_squared_error(torch.ones(2000), y) - 1 / 6) < 0.01
    again, _ = exercises.adding_problem(2000, 10, generator())
    assert torch.equal(x, again), "the same generator state draws the same batch"


def test_the_relu_network_and_the_lstm_regressor_are_torch_nn_layers():
    torch.manual_seed(0)
    x, _ = exercises.adding_problem(5, 7, generator())
    rnn = nn.RNN(2, 4, nonlinearity="relu", batch_first=True).double()
    head = nn.Linear(4, 1).double()
    weights = {"W_ih": rnn.weight_ih_l0, "W_hh": rnn.weight_hh_l0,
               "b_h": rnn.bias_ih_l0 + rnn.bias_hh_l0, "W_hy": head.weight, "b_y": head.bias}
    with torch.no_grad():
        want = head(rnn(x.double())[0][:, -1])[:, 0]
        assert torch.allclose(exercises.relu_rnn_predictions(weights, x), want)
    lstm = nn.LSTM(2, 3, batch_first=True).double()
    head = nn.Linear(3, 1).double()
    weights = {"W_ih": lstm.weight_ih_l0, "W_hh": lstm.weight_hh_l0, "b_ih": lstm.bias_ih_l0,
               "b_hh": lstm.bias_hh_l0, "W_hy": head.weight, "b_y": head.bias}
    with torch.no_grad():
        want = head(lstm(x.double())[0][:, -1])[:, 0]
        assert torch.allclose(exercises.lstm_predictions(weights, x), want)


def test_the_irnn_starts_at_the_identity():
    start = exercises.irnn_start(6, seed=3)
    assert torch.equal(start["W_hh"], torch.eye(6)) and not start["b_h"].any()
    assert torch.equal(start["W_ih"], exercises.irnn_start(6, seed=3)["W_ih"])


def gru_weights(V, m, H, recurrent: bool):
    g = generator(1)
    w = {"embedding": torch.randn(V, m, generator=g), "W_ih": torch.randn(3 * H, m, generator=g),
         "W_hh": torch.randn(3 * H, H, generator=g), "b_ih": torch.randn(3 * H, generator=g),
         "b_hh": torch.randn(3 * H, generator=g), "W_hy": torch.randn(V, H, generator=g),
         "b_y": torch.randn(V, generator=g)}
    if not recurrent:
        w["W_hh"], w["b_hh"] = torch.zeros_like(w["W_hh"]), torch.zeros_like(w["b_hh"])
    return w


def torch_gru_bits(w, n_chars, length):
    ids, V = exercises.shakespeare_chars("valid")
    rows = n_chars // length
    layer = exercises.torch_layer("gru", {f"{k}_l0": w[key].double() for key, k in
                                          exercises.LSTM_NAMES.items()})
    x = ids[:rows * length].reshape(rows, length)
    y = ids[1:rows * length + 1].reshape(rows, length)
    with torch.no_grad():
        states, _ = layer(w["embedding"].double()[x])
        logits = states @ w["W_hy"].double().T + w["b_y"].double()
        return float(nn.functional.cross_entropy(logits.reshape(-1, V), y.reshape(-1))) / \
            math.log(2)


def test_cho_gru_bits_is_cho_s_form_not_torch_s():
    """Without a recurrent product the two forms agree (the reset gate has nothing to act
    on, and both keep z of the old state); with one they do not."""
    _, V = exercises.shakespeare_chars()
    plain = gru_weights(V, 4, 5, recurrent=False)
    assert exercises.cho_gru_bits(plain, 2000, 50) == pytest.approx(
        torch_gru_bits(plain, 2000, 50), rel=1e-9)
    full = gru_weights(V, 4, 5, recurrent=True)
    assert abs(exercises.cho_gru_bits(full, 2000, 50) - torch_gru_bits(full, 2000, 50)) > 1e-3


def test_a_uniform_model_scores_log_v():
    _, V = exercises.shakespeare_chars()
    silent = {k: torch.zeros_like(v) for k, v in gru_weights(V, 4, 5, True).items()}
    assert exercises.cho_gru_bits(silent, 1000, 50) == pytest.approx(math.log2(V))
    flat = {"embedding": torch.zeros(300, 8), "weight": torch.zeros(300, 8),
            "bias": torch.zeros(300)}
    assert exercises.bigram_nats(flat, 300, 5000) == pytest.approx(math.log(300))
    unigram = exercises.word_unigram(300)
    assert unigram.sum() == pytest.approx(1.0)
    ids = exercises.shakespeare_words("train", 300)
    assert int(ids.max()) < 300 and int((ids == 0).sum()) > 0   # the rest are <unk>


def test_the_order_task_has_one_1_and_one_2_before_its_padding():
    x, lengths, y = exercises.order_task(500, 12, 10, generator())
    assert int(lengths.min()) >= 2 and int(lengths.max()) <= 12
    for row, n, label in zip(x, lengths.tolist(), y.tolist()):
        real = row[:n].tolist()
        assert real.count(1) == 1 and real.count(2) == 1
        assert label == int(real.index(1) < real.index(2))
    padding = torch.arange(12)[None, :] >= lengths[:, None]
    assert set(x[padding].tolist()) >= {1, 2}, "the padding holds markers too"
    assert 0.4 < float(y.double().mean()) < 0.6


def test_order_logits_read_only_each_row_s_real_steps():
    torch.manual_seed(0)
    lstm = nn.LSTM(16, 16, batch_first=True, bidirectional=True)
    g = generator(2)
    weights = {"embedding": torch.randn(10, 16, generator=g), "lstm": lstm.state_dict(),
               "W_hy": torch.randn(2, 64, generator=g), "b_y": torch.randn(2, generator=g)}
    x, lengths, _ = exercises.order_task(6, 12, 10, generator(3))
    logits = exercises.order_logits(weights, x, lengths)
    junk = torch.where(torch.arange(12)[None, :] >= lengths[:, None], 1, x)
    assert torch.allclose(exercises.order_logits(weights, junk, lengths), logits)
    for b in range(6):  # each row alone, unpadded
        n = int(lengths[b])
        alone = exercises.order_logits(weights, x[b:b + 1, :n], lengths[b:b + 1])
        assert torch.allclose(alone, logits[b:b + 1])
