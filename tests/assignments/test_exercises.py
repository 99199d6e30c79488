"""The data and the measures that Assignments 5-10 and their checks share (seqlm.exercises):
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


# --------------------------------------------------------------------------- Assignment 10

def tiny_weights(outputs=4, hidden=3, seed=0):
    g = generator(seed)
    return {"E": torch.randn(outputs + 1, hidden, generator=g, dtype=torch.float64),
            "W_hh": torch.randn(hidden, hidden, generator=g, dtype=torch.float64) * 0.5,
            "b_h": torch.randn(hidden, generator=g, dtype=torch.float64) * 0.5,
            "W_hy": torch.randn(outputs, hidden, generator=g, dtype=torch.float64) * 2,
            "b_y": torch.randn(outputs, generator=g, dtype=torch.float64) * 0.5}


def test_the_tiny_decoder_is_an_elman_rnn_and_its_log_prob_is_stepping():
    w = tiny_weights()
    decoder = exercises.TinyDecoder(w)
    rnn = nn.RNN(3, 3, batch_first=True).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.eye(3))
        rnn.weight_hh_l0.copy_(w["W_hh"])
        rnn.bias_ih_l0.zero_()
        rnn.bias_hh_l0.copy_(w["b_h"])
        outputs = [2, 1, 3]
        read = torch.tensor([[decoder.bos, *outputs]])                  # <s> y_1 y_2 y_3
        states, _ = rnn(w["E"][read])
        log_probs = torch.log_softmax(states @ w["W_hy"].T + w["b_y"], dim=-1)[0]
    targets = outputs + [exercises.EOS]
    want = sum(float(log_probs[i, y]) for i, y in enumerate(targets))
    assert decoder.log_prob(outputs, ended=True) == pytest.approx(want, abs=1e-12)
    assert decoder.log_prob(outputs, ended=False) == pytest.approx(want - float(log_probs[3, 0]),
                                                                   abs=1e-12)
    states = torch.cat([decoder.start()] * 2)                           # two rows at once
    both, _ = decoder.step([decoder.bos, 2], states)
    alone, _ = decoder.step([2], decoder.start())
    assert torch.allclose(both[0], log_probs[0]) and torch.allclose(both[1], alone[0])
    assert torch.allclose(both.exp().sum(-1), torch.ones(2, dtype=torch.float64))


def test_exhaustive_search_holds_all_the_probability_best_first():
    decoder = exercises.TinyDecoder(tiny_weights(outputs=3))
    everything = exercises.exhaustive_search(decoder, 4)
    assert len(everything) == 1 + 2 + 4 + 8 + 16                       # ended at 1 … 4, or cut
    assert sum(math.exp(h["score"]) for h in everything) == pytest.approx(1.0, abs=1e-12)
    scores = [h["score"] for h in everything]
    assert scores == sorted(scores, reverse=True)


def plain_step(hypotheses, log_probs, beam):
    """A beam step written out: every candidate, sorted (what Assignment 10 asks for)."""
    candidates = [(h["score"], n, None) for n, h in enumerate(hypotheses) if h["ended"]]
    candidates += [(h["score"] + float(log_probs[n, y]), n, y) for n, h in enumerate(hypotheses)
                   if not h["ended"] for y in range(log_probs.shape[1])]
    kept = []
    for score, n, y in sorted(candidates, key=lambda c: -c[0])[:beam]:
        ended = y is None or y == exercises.EOS
        kept.append({"outputs": hypotheses[n]["outputs"] + ([] if ended else [y]),
                     "score": score, "ended": ended, "parent": n})
    return kept


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_search_with_a_beam_wide_enough_ranks_what_exhaustive_search_ranks(seed):
    decoder = exercises.TinyDecoder(tiny_weights(outputs=3, seed=seed))
    wide = exercises.tiny_beam_search(decoder, plain_step, 31, 4)
    everything = exercises.exhaustive_search(decoder, 4)
    assert [(h["outputs"], h["ended"]) for h in wide] == \
        [(h["outputs"], h["ended"]) for h in everything]
    assert [h["score"] for h in wide] == pytest.approx([h["score"] for h in everything],
                                                       abs=1e-12)
    for h in exercises.tiny_beam_search(decoder, plain_step, 2, 4):   # the scores are log p
        assert h["score"] == pytest.approx(decoder.log_prob(h["outputs"], h["ended"]), abs=1e-12)


def test_a_beam_of_one_is_greedy_decoding():
    decoder = exercises.TinyDecoder(tiny_weights(outputs=5, hidden=4, seed=3))
    best, = exercises.tiny_beam_search(decoder, plain_step, 1, 6)
    states, previous, greedy = decoder.start(), decoder.bos, []
    for _ in range(6):
        log_probs, states = decoder.step([previous], states)
        previous = int(log_probs[0].argmax())
        if previous == exercises.EOS:
            break
        greedy.append(previous)
    assert best["outputs"] == greedy and best["ended"] == (len(greedy) < 6)


@pytest.mark.parametrize("change, message", [
    (lambda w: w.pop("W_hh"), "missing W_hh"),
    (lambda w: w.update(E=torch.zeros(4, 3)), r"E has shape \(4, 3\), expected \(5, 3\)"),
    (lambda w: w.update(W_hy=torch.zeros(1, 3), b_y=torch.zeros(1), E=torch.zeros(2, 3)),
     "at least two outputs"),
])
def test_a_tiny_decoder_with_bad_weights_says_what_is_wrong(change, message):
    w = tiny_weights()
    change(w)
    with pytest.raises(ValueError, match=message):
        exercises.TinyDecoder(w)


def test_bad_steps_outputs_and_limits_are_errors():
    decoder = exercises.TinyDecoder(tiny_weights())
    with pytest.raises(ValueError, match=r"need states \(2, 3\)"):
        decoder.step([1, 2], decoder.start())
    with pytest.raises(ValueError, match="ids 0 … 4"):
        decoder.step([5], decoder.start())
    with pytest.raises(ValueError, match="ids 1 … 3"):
        decoder.log_prob([1, 0], ended=True)                            # </s> is said by ended
    for beam, max_length in ((0, 3), (1.5, 3), (True, 3), (2, 0)):
        with pytest.raises(ValueError, match="integer ≥ 1"):
            exercises.tiny_beam_search(decoder, plain_step, beam, max_length)


def test_the_recall_task_puts_its_decoy_in_the_padding():
    T = 10
    keys, values, lengths, query, target = exercises.recall_task(3000, T, 20, 20, generator())
    assert int(lengths.min()) == 2 and int(lengths.max()) == T
    for k, v, n, q, t in zip(keys.tolist(), values.tolist(), lengths.tolist(), query.tolist(),
                             target.tolist()):
        assert len(set(k[:n])) == n and k[:n].count(q) == 1         # distinct real keys
        assert v[k[:n].index(q)] == t                                 # the target is q's value
        decoys = [j for j in range(n, T) if k[j] == q and v[j] != t]
        assert decoys if n < T else not decoys, (k, v, n, q, t)
    again = exercises.recall_task(3000, T, 20, 20, generator())
    assert all(torch.equal(a, b) for a, b in zip(again, (keys, values, lengths, query, target)))


@pytest.mark.parametrize("args, message", [
    ((4, 10, 8, 20), "at least as many keys as positions"),
    ((4, 10, 20, 1), "two values"),
    ((4, 1, 20, 20), "length ≥ 2"),
    ((0, 10, 20, 20), "at least one row"),
])
def test_a_recall_task_that_cannot_be_drawn_is_an_error(args, message):
    with pytest.raises(ValueError, match=message):
        exercises.recall_task(*args, generator())


def recall_weights(seed=0, n_a=6):
    g = generator(seed)
    return {"W_q": torch.randn(n_a, 20, generator=g), "W_k": torch.randn(n_a, 40, generator=g),
            "b_k": torch.randn(n_a, generator=g), "v": torch.randn(n_a, generator=g),
            "W_hy": torch.randn(20, 40, generator=g), "b_y": torch.randn(20, generator=g)}


def test_recall_logits_are_the_additive_attention_formula_over_the_real_pairs_only():
    w = {k: v.double() for k, v in recall_weights().items()}
    keys, values, lengths, query, _ = exercises.recall_task(5, 10, 20, 20, generator(4))
    logits = exercises.recall_logits(w, keys, values, lengths, query)
    d, h = exercises.recall_memory(keys, values, query, 20, 20)
    for b in range(5):
        n = int(lengths[b])
        score = torch.tanh(w["W_q"] @ d[b].double() + h[b, :n].double() @ w["W_k"].T
                           + w["b_k"]) @ w["v"]
        h_bar = torch.softmax(score, 0) @ h[b, :n].double()
        assert torch.allclose(logits[b], w["W_hy"] @ h_bar + w["b_y"], atol=1e-12)
    junk = torch.where(torch.arange(10)[None, :] < lengths[:, None], keys, 0)
    assert torch.allclose(exercises.recall_logits(w, junk, values, lengths, query), logits)
    reading = exercises.recall_logits(w, keys, values, lengths, query, masked=False)
    assert not torch.allclose(reading[lengths < 10], logits[lengths < 10])


def test_recall_accuracy_of_a_silent_model_is_the_share_of_target_zero():
    silent = {k: torch.zeros_like(v) for k, v in recall_weights().items()}
    *_, target = exercises.recall_task(4000, 10, 20, 20, generator(7))
    assert exercises.recall_accuracy(silent, 7) == pytest.approx(float((target == 0).double()
                                                                       .mean()))
    state = torch.random.get_rng_state()
    exercises.recall_accuracy(recall_weights(), 7, rows=10)
    assert torch.equal(state, torch.random.get_rng_state()), "measuring draws nothing global"


def test_padded_lengths_hold_a_length_one_row_and_a_full_row():
    import random

    for seed in range(20):
        lengths = exercises.padded_lengths(random.Random(seed), 5, 7).tolist()
        assert len(lengths) == 5 and all(1 <= n <= 7 for n in lengths)
        assert 1 in lengths and 7 in lengths
    assert exercises.padded_lengths(random.Random(0), 1, 4).tolist()[0] in range(1, 5)
