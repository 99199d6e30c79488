"""Chapter 9: ScalarMix, the sampled softmax, the biLM's joint loss, padding and resume."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from seqlm import batches, data, elmo, tokens, train


def test_scalar_mix_equals_the_formula_by_hand():
    torch.manual_seed(0)
    layers = [torch.randn(2, 3, 4) for _ in range(3)]
    mix = elmo.ScalarMix(3)
    with torch.no_grad():
        mix.omega.copy_(torch.tensor([0.5, -1.0, 2.0]))
        mix.gamma.fill_(0.7)
    e = np.exp([0.5, -1.0, 2.0])
    s = e / e.sum()
    by_hand = 0.7 * sum(float(s_j) * h for s_j, h in zip(s, layers))
    torch.testing.assert_close(mix(layers), by_hand)
    assert mix.weights().sum().item() == pytest.approx(1.0)


def test_a_fresh_scalar_mix_averages_the_layers():
    layers = [torch.full((2, 2), float(j)) for j in range(4)]
    assert torch.allclose(elmo.ScalarMix(4)(layers), torch.full((2, 2), 1.5))


def test_scalar_mix_layer_norm_normalises_each_token_on_its_own():
    """Each token's layers to mean 0 and variance 1 over its features: a token's vector
    does not depend on what else is in its batch, padding included."""
    torch.manual_seed(0)
    h = torch.randn(2, 5, 3) * 4 + 2
    junk = h.clone()
    junk[0, 3:] = 1e4                                      # padding, or another line
    mix = elmo.ScalarMix(1, layer_norm=True)
    out, out_junk = mix([h]), mix([junk])
    torch.testing.assert_close(out[0, :3], out_junk[0, :3])
    torch.testing.assert_close(out[1], out_junk[1])
    assert out.mean(-1).abs().max().item() < 1e-5
    assert (out.var(-1, unbiased=False) - 1).abs().max().item() < 1e-3


def test_scalar_mix_rejects_the_wrong_number_of_layers():
    with pytest.raises(ValueError, match="expected 3 layers"):
        elmo.ScalarMix(3)([torch.zeros(1)] * 2)
    with pytest.raises(ValueError):
        elmo.ScalarMix(0)


def test_the_joint_loss_sums_both_directions_by_hand():
    torch.manual_seed(0)
    forward, backward = torch.randn(2, 4, 6), torch.randn(2, 4, 6)
    t = torch.randint(0, 6, (2, 4))
    ahead = np.mean([F.cross_entropy(forward[b, k][None], t[b, k + 1][None]).item()
                     for b in range(2) for k in range(3)])
    behind = np.mean([F.cross_entropy(backward[b, k][None], t[b, k - 1][None]).item()
                      for b in range(2) for k in range(1, 4)])
    assert elmo.joint_loss(forward, backward, t).item() == pytest.approx(ahead + behind, rel=1e-5)


def test_the_sampled_softmax_estimates_the_full_one_and_equals_it_in_eval():
    torch.manual_seed(0)
    counts = torch.tensor(np.random.default_rng(0).zipf(1.3, 2000) % 1000 + 1.0)
    layer = elmo.SampledSoftmax(counts[:500], 8, samples=4000)
    h, targets = torch.randn(64, 8), torch.randint(0, 500, (64,))
    full = F.cross_entropy(layer.logits(h), targets).item()
    layer.eval()
    assert layer.loss(h, targets).item() == pytest.approx(full, rel=1e-6)
    layer.train()
    layer.samples = 400                                   # fewer samples than words
    sampled = np.mean([layer.loss(h, targets).item() for _ in range(20)])
    assert sampled == pytest.approx(full, rel=0.05)      # log-Q corrected: close to the truth
    plain = np.mean([layer.loss(h, targets, corrected=False).item() for _ in range(20)])
    assert abs(plain - full) > 5 * abs(sampled - full)   # uncorrected: far off


def test_the_sampled_softmax_masks_a_negative_that_is_the_target():
    layer = elmo.SampledSoftmax(torch.tensor([1.0, 1.0]), 3, samples=1)
    torch.manual_seed(0)
    losses = [layer.loss(torch.randn(4, 3), torch.zeros(4, dtype=torch.long)) for _ in range(20)]
    assert all(math.isfinite(loss.item()) for loss in losses)
    assert min(loss.item() for loss in losses) == 0.0   # only the target left: no loss


def test_the_untrained_softmax_is_a_unigram_model():
    counts = torch.tensor([50.0, 30.0, 20.0])
    layer = elmo.SampledSoftmax(counts, 4, samples=2)
    with torch.no_grad():
        layer.weight.zero_()
    probs = torch.softmax(layer.logits(torch.randn(1, 4)), -1)[0]
    torch.testing.assert_close(probs, counts / counts.sum())


@pytest.fixture(scope="module")
def small():
    vocab = data.Vocab(["<unk>", "<eos>", "the", "king", "queen", "is", "dead"])
    table = tokens.TokenTable(vocab, ["the", "kingly", "queenly"], max_chars=8)
    torch.manual_seed(0)
    bilm = elmo.BiLM(table, torch.ones(len(vocab)), size=6, samples=3, dropout=0.0)
    return table, bilm


def test_the_char_cnn_gives_words_outside_the_vocabulary_their_own_vectors(small):
    table, bilm = small
    ids = torch.from_numpy(table.encode(["kingly", "queenly", "<unk>"]))[None]
    vectors = bilm.token(ids)[0]
    assert not torch.allclose(vectors[0], vectors[1])
    assert not torch.allclose(vectors[0], vectors[2])


def test_the_bilm_layers_of_a_sequence_do_not_depend_on_padding(small):
    table, bilm = small
    seq = torch.tensor([[1, 2, 3, 5, 6]])
    batch = torch.full((2, 8), table.pad_id)
    batch[0, :5], batch[1] = seq, torch.tensor([1, 2, 4, 5, 6, 2, 3, 1])
    bilm.eval()
    alone, in_batch = bilm.layers(seq), bilm.layers(batch)
    assert len(alone) == 3 and alone[1].shape == (1, 5, 12)
    for a, b in zip(alone, in_batch):
        torch.testing.assert_close(a[0], b[0, :5], rtol=0, atol=1e-6)


@pytest.mark.parametrize("kind", elmo.ElmoInput.KINDS)
def test_every_tagger_input_ignores_padding(small, kind):
    table, bilm = small
    torch.manual_seed(0)
    inputs = elmo.ElmoInput(kind, table, 4, elmo.FrozenBiLM(bilm, eos_id=1))
    seq = torch.tensor([[2, 3, 5]])
    batch = torch.tensor([[2, 3, 5, table.pad_id], [4, 5, 6, 2]])
    expected = 4 + (0 if kind == "learned" else 12)
    assert inputs(seq).shape == (1, 3, expected) and inputs.output_size == expected
    torch.testing.assert_close(inputs(seq)[0], inputs(batch)[0, :3], rtol=0, atol=1e-6)


def test_the_frozen_bilm_reads_each_line_once_and_gives_what_the_bilm_computes(small):
    """The layers a FrozenBiLM returns are the biLM's own on each line framed by <eos>,
    whether the line is read for the first time, looked up, or computed past the cache."""
    table, bilm = small
    lines = torch.tensor([[2, 3, 5, table.pad_id], [4, 5, 6, 2]])
    framed = torch.tensor([[1, 2, 3, 5, 1, table.pad_id], [1, 4, 5, 6, 2, 1]])
    bilm.eval()
    with torch.no_grad():
        expected = [h[:, 1:5] for h in bilm.layers(framed)]
    frozen = elmo.FrozenBiLM(bilm, eos_id=1)
    first, again = frozen.layers(lines), frozen.layers(lines.flip(0))
    full = elmo.FrozenBiLM(bilm, eos_id=1, cache_bytes=0)  # keeps nothing, computes each time
    uncached = full.layers(lines)
    real = lines != table.pad_id
    for j in range(3):
        for got in (first[j], again[j].flip(0), uncached[j]):
            torch.testing.assert_close(got[real], expected[j][real], rtol=0, atol=1e-6)
    assert len(frozen._lines) == 2 and len(full._lines) == 0
    assert (first[1][0, 3] == 0).all()                                  # zero at padding
    tokens_only = frozen.layers(lines, tokens_only=True)
    assert len(tokens_only) == 1 and torch.equal(tokens_only[0], first[0])


def test_the_frozen_bilm_is_not_trained_and_stays_in_eval_mode(small):
    table, bilm = small
    bilm.train()
    frozen = elmo.FrozenBiLM(bilm, eos_id=1)
    inputs = elmo.ElmoInput("elmo", table, 4, frozen).train()
    assert not frozen.bilm.training
    assert all(not p.requires_grad for p in frozen.bilm.parameters())
    assert {n.split(".")[0] for n, p in inputs.named_parameters() if p.requires_grad} == \
        {"learned", "mix"}
    assert not any(n.startswith("frozen") for n in inputs.state_dict())  # not the task's weights
    with pytest.raises(ValueError, match="pretrained biLM"):
        elmo.ElmoInput("elmo", table, 4)
    with pytest.raises(ValueError, match="pretrained biLM"):
        elmo.ElmoInput("elmo", table, 4, bilm)
    with pytest.raises(ValueError, match="unknown input kind"):
        elmo.ElmoInput("glove", table, 4, frozen)


def test_bilm_pretraining_interrupted_and_resumed_ends_like_an_uninterrupted_run(tmp_path, small):
    table, _ = small
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 7, 400)
    source = batches.AlignedStreams(ids, ids, 4, 10)
    config = train.TrainConfig(steps=12, lr=0.01, eval_every=4, progress=False)

    def run(path, steps=12):
        torch.manual_seed(0)
        model = elmo.BiLM(table, torch.ones(7), size=6, samples=3, dropout=0.1)
        history = train.train(model, source, source, config.replace(checkpoint=path, steps=steps))
        return model, history

    whole_model, whole = run(tmp_path / "a.pt")
    run(tmp_path / "b.pt", steps=8)                     # stopped after 8 steps ...
    resumed_model, resumed = run(tmp_path / "b.pt")     # ... and resumed to 12
    assert resumed.train_loss == whole.train_loss and resumed.valid_loss == whole.valid_loss
    for a, b in zip(whole_model.parameters(), resumed_model.parameters()):
        assert torch.equal(a, b)
