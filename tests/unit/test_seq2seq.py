"""Chapter 10's encoder-decoder: teacher forcing equals stepping, padding changes nothing,
and decoding: beam 1 is greedy, beam search's score is the model's log-probability of
what it returns, a wide beam finds what exhaustive search finds, bad arguments and the
length limit."""

import itertools

import pytest
import torch

from seqlm import g2p, seq2seq, train
from seqlm.train import IGNORE_INDEX

WORDS = ["exit", "knife", "a", "phonetically"]


def model_for_words(score="general", seed=0, outputs=g2p.OUTPUTS, sizes=(8, 6, 12)):
    torch.manual_seed(seed)
    model = seq2seq.Seq2Seq(len(g2p.LETTERS) + 1, g2p.LETTER_PAD, outputs, *sizes, score=score)
    return model.double().eval()


def letters(words):
    x, = list(g2p.word_batches(words))
    return x


SCORES = [None, "general", "additive", "dot"]


@pytest.mark.parametrize("score", SCORES)
def test_teacher_forcing_equals_decoding_one_step_at_a_time(score):
    model = model_for_words(score)
    x = letters(WORDS)
    g = torch.Generator().manual_seed(1)
    y_in = torch.randint(1, g2p.OUTPUTS, (4, 5), generator=g)
    y_in[:, 0] = model.bos_id
    logits, weights = model(x, y_in)
    memory, state = model.encode(x)
    for i in range(5):
        log_probs, state, step_weights = model.step(y_in[:, i], state, memory)
        assert torch.allclose(log_probs, torch.log_softmax(logits[:, i], -1), atol=1e-12)
        if score is not None:
            assert torch.allclose(step_weights, weights[:, i], atol=1e-12)
    assert (weights is None) == (score is None)


@pytest.mark.parametrize("score", SCORES)
def test_padding_is_inert_a_word_alone_equals_the_word_in_a_batch(score):
    model = model_for_words(score)
    x = letters(WORDS)                                   # "a" padded to 12 letters
    junk = x.clone()
    junk[2, 1:] = g2p.LETTER_PAD
    y_in = torch.full((4, 3), model.bos_id)
    in_batch, weights = model(junk, y_in)
    alone, _ = model(letters(["a"]), y_in[:1])
    assert torch.allclose(in_batch[2:3], alone, atol=1e-12)
    if score is not None:
        assert torch.all(weights[2, :, 1:] == 0)
        assert torch.allclose(weights.sum(-1), torch.ones(4, 3, dtype=weights.dtype))
    greedy_alone = seq2seq.greedy_decode(model, letters(["a"]), 6)
    greedy_batch = seq2seq.greedy_decode(model, x, 6)
    assert greedy_batch.outputs[2] == greedy_alone.outputs[0]
    beam_alone = seq2seq.beam_search(model, letters(["a"]), 3, 6)
    beam_batch = seq2seq.beam_search(model, x, 3, 6)
    assert beam_batch.outputs[2] == beam_alone.outputs[0]
    assert torch.allclose(beam_batch.log_prob[2], beam_alone.log_prob[0], atol=1e-9)


def test_the_loss_is_the_cross_entropy_of_the_reference_read_by_the_decoder():
    model = model_for_words()
    x, y = next(iter(g2p.PairedBatches([("exit", ("EH", "G", "Z", "IH", "T")),
                                        ("a", ("AH",))], 2)()))
    y_in = model.decoder_inputs(y)   # row 0 is "a", the shorter word: sorted by length
    assert y_in[0].tolist() == [model.bos_id, y[0, 0].item(), g2p.EOS] + [model.pad_id] * 3
    assert y_in[1, 1:].tolist() == y[1, :-1].tolist()
    loss, state = model.loss(x, y)
    log_probs = torch.log_softmax(model(x, y_in)[0], -1)
    real = y != IGNORE_INDEX
    by_hand = -log_probs.gather(-1, y.clamp(min=0)[..., None])[..., 0][real].mean()
    assert state is None and torch.allclose(loss, by_hand, atol=1e-12)
    outputs = [y[r][real[r]].tolist()[:-1] for r in range(2)]
    total = seq2seq.log_prob_of(model, x, outputs)
    assert torch.allclose(total.sum() / real.sum(), -loss, atol=1e-12)


@pytest.mark.parametrize("score", [None, "additive"])
def test_beam_search_of_width_one_is_greedy_decoding(score):
    model = model_for_words(score, seed=2)
    x = letters(WORDS)
    greedy = seq2seq.greedy_decode(model, x, 8)
    beam = seq2seq.beam_search(model, x, 1, 8)
    assert beam.outputs == greedy.outputs
    assert torch.allclose(beam.log_prob, greedy.log_prob, atol=1e-9)
    assert torch.equal(beam.finished, greedy.finished)


@pytest.mark.parametrize("beam_size, normalise", [(2, True), (4, False), (7, True)])
def test_the_score_beam_search_returns_is_the_models_log_probability(beam_size, normalise):
    model = model_for_words("general", seed=3)
    x = letters(WORDS)
    found = seq2seq.beam_search(model, x, beam_size, 6, normalise)
    assert torch.allclose(found.log_prob, seq2seq.log_prob_of(model, x, found.outputs,
                                                               found.finished), atol=1e-9)
    greedy = seq2seq.greedy_decode(model, x, 6)
    assert torch.allclose(greedy.log_prob, seq2seq.log_prob_of(model, x, greedy.outputs,
                                                                greedy.finished), atol=1e-9)


def exhaustive_search(model, x, max_length, normalise):
    """Every output of at most max_length outputs (</s> counted), ended or cut at the
    limit; the best by log-probability (per output, when normalising)."""
    symbols = range(1, model.outputs)
    candidates = [(list(c), True) for n in range(max_length)
                  for c in itertools.product(symbols, repeat=n)]
    candidates += [(list(c), False) for c in itertools.product(symbols, repeat=max_length)]
    outputs = [c for c, _ in candidates]
    ended = torch.tensor([e for _, e in candidates])
    log_prob = seq2seq.log_prob_of(model, x.expand(len(candidates), -1), outputs, ended)
    lengths = torch.tensor([len(c) + e for c, e in candidates], dtype=log_prob.dtype)
    rank = log_prob / lengths if normalise else log_prob
    best = rank.argmax().item()
    return outputs[best], ended[best].item(), log_prob[best].item()


@pytest.mark.parametrize("normalise", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_wide_enough_beam_finds_what_exhaustive_search_finds(normalise, seed):
    model = model_for_words("general", seed=seed, outputs=4, sizes=(4, 3, 6))
    with torch.no_grad():
        model.out.weight.mul_(4.0)                      # a peakier model, for contrast
    for word in ("ab", "zyx"):
        x = letters([word])
        expected = exhaustive_search(model, x, 4, normalise)
        wide = seq2seq.beam_search(model, x, 3 ** 4 + 40, 4, normalise)
        assert (wide.outputs[0], wide.finished[0].item()) == expected[:2]
        assert wide.log_prob[0].item() == pytest.approx(expected[2], abs=1e-9)
        narrow = seq2seq.beam_search(model, x, 2, 4, normalise)
        narrow_rank = narrow.log_prob[0].item() / ((len(narrow.outputs[0]) +
                                                     narrow.finished[0].item()) if normalise else 1)
        best_rank = expected[2] / ((len(expected[0]) + expected[1]) if normalise else 1)
        assert narrow_rank <= best_rank + 1e-9


@pytest.mark.parametrize("beam_size", [0, -1, 1.5, True, "3"])
def test_a_beam_narrower_than_one_is_an_error(beam_size):
    with pytest.raises(ValueError, match="beam_size"):
        seq2seq.beam_search(model_for_words(), letters(["a"]), beam_size, 5)


@pytest.mark.parametrize("max_length", [0, -3, 2.5])
def test_a_length_limit_below_one_is_an_error(max_length):
    with pytest.raises(ValueError, match="max_length"):
        seq2seq.greedy_decode(model_for_words(), letters(["a"]), max_length)
    with pytest.raises(ValueError, match="max_length"):
        seq2seq.beam_search(model_for_words(), letters(["a"]), 2, max_length)


def test_reaching_the_length_limit_stops_with_what_was_found_marked_unfinished():
    model = model_for_words()
    with torch.no_grad():
        model.out.bias[seq2seq.EOS] = -1e4              # the model never wants to stop
    x = letters(WORDS)
    for decoded in (seq2seq.greedy_decode(model, x, 7), seq2seq.beam_search(model, x, 3, 7)):
        assert [len(o) for o in decoded.outputs] == [7] * 4
        assert not decoded.finished.any()
        assert torch.allclose(decoded.log_prob, seq2seq.log_prob_of(model, x, decoded.outputs,
                                                                     decoded.finished))


def test_a_word_of_padding_only_is_an_error():
    x = torch.full((2, 3), g2p.LETTER_PAD)
    x[0] = letters(["abc"])[0]
    with pytest.raises(ValueError, match="padding only"):
        seq2seq.greedy_decode(model_for_words(), x, 4)


def test_attention_maps_cover_each_word_and_its_outputs():
    model = model_for_words("additive")
    maps = seq2seq.attention_maps(model, letters(["exit", "a"]), [[10, 15, 38], [3]])
    assert [tuple(m.shape) for m in maps] == [(3, 4), (1, 1)]
    assert torch.allclose(maps[0].sum(-1), torch.ones(3, dtype=maps[0].dtype))
    with pytest.raises(ValueError, match="without attention"):
        seq2seq.attention_maps(model_for_words(None), letters(["a"]), [[3]])


def test_training_with_the_book_loop_learns_and_keeps_the_best_valid_wer():
    examples = g2p.pairs(g2p.entries("train", 400))
    valid = g2p.entries("valid", 50)
    torch.manual_seed(0)
    model = seq2seq.Seq2Seq(len(g2p.LETTERS) + 1, g2p.LETTER_PAD, g2p.OUTPUTS, 16, 16, 32)

    def valid_accuracy(m):   # the score train keeps the best of: higher is better
        decoded = seq2seq.greedy_decode(m, letters([e.word for e in valid]), 20)
        predictions = [g2p.decode_pronunciation(o) for o in decoded.outputs]
        return 1 - g2p.word_error_rate(predictions, [e.pronunciations for e in valid])

    source = g2p.PairedBatches(examples, 32, shuffle=True)
    valid_pairs = g2p.PairedBatches(g2p.pairs(valid), 64)
    before = train.evaluate(model, valid_pairs)
    config = train.TrainConfig(steps=60, lr=1e-2, eval_every=20, progress=False)
    history = train.train(model, source, valid_pairs, config, "cpu", score=valid_accuracy)
    assert history.best_valid_score == max(history.valid_score)
    assert valid_accuracy(model) == history.best_valid_score
    assert train.evaluate(model, valid_pairs) < before - 0.5
