import numpy as np
import pytest
import torch
from torch import nn

from seqlm import layers, rnn


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("layers", [1, 3])
def test_elman_rnn_equals_torch_rnn_with_copied_weights(nonlinearity, layers):
    torch.manual_seed(0)
    reference = nn.RNN(5, 7, layers, nonlinearity=nonlinearity, batch_first=True)
    ours = rnn.ElmanRNN(5, 7, layers, nonlinearity)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in reference.named_parameters()]
    ours.load_state_dict(reference.state_dict())
    x, h0 = torch.randn(4, 9, 5), torch.randn(layers, 4, 7)
    for start in (None, h0):
        expected, expected_h = reference(x, start)
        got, got_h = ours(x, start)
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)
        torch.testing.assert_close(got_h, expected_h, rtol=0, atol=1e-6)


def test_gradients_agree_too():
    torch.manual_seed(1)
    reference = nn.RNN(3, 4, 2, batch_first=True)
    ours = rnn.ElmanRNN(3, 4, 2)
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(2, 6, 3)
    reference(x)[0].sum().backward()
    ours(x)[0].sum().backward()
    for (name, a), (_, b) in zip(ours.named_parameters(), reference.named_parameters()):
        torch.testing.assert_close(a.grad, b.grad, rtol=0, atol=1e-5, msg=name)


def test_language_model_shapes_and_state_carry():
    torch.manual_seed(0)
    for scratch in (False, True):
        model = rnn.RNNLM(20, 8, 16, num_layers=2, scratch=scratch)
        x = torch.randint(0, 20, (3, 10))
        logits, state = model(x)
        assert logits.shape == (3, 10, 20) and state.shape == (2, 3, 16)
        # reading in two halves with the state carried equals reading at once
        first, mid = model(x[:, :4])
        second, _ = model(x[:, 4:], mid)
        torch.testing.assert_close(torch.cat([first, second], 1), logits, rtol=0, atol=1e-6)


def test_generation_is_reproducible_and_checks_its_input():
    torch.manual_seed(0)
    model = rnn.RNNLM(12, 4, 8)
    a = rnn.generate(model, [1, 2], 10, rng=np.random.default_rng(3))
    b = rnn.generate(model, [1, 2], 10, rng=np.random.default_rng(3))
    assert a == b and len(a) == 10 and all(0 <= t < 12 for t in a)
    assert model.training, "generation puts the model back in the mode it found it in"
    assert torch.isclose(rnn.next_distribution(model, [1, 2]).sum(), torch.tensor(1.0))
    assert model.training
    greedy = rnn.generate(model, [1, 2], 5, greedy=True)
    assert greedy == rnn.generate(model, [1, 2], 5, greedy=True)
    stopped = rnn.generate(model, [1, 2], 50, greedy=True, stop_id=greedy[1])
    assert stopped == greedy[:2]
    with pytest.raises(ValueError, match="temperature"):
        rnn.generate(model, [1], 3, temperature=0)
    with pytest.raises(ValueError, match="context"):
        rnn.generate(model, [], 3)
    with pytest.raises(ValueError, match="nonlinearity"):
        rnn.ElmanRNN(2, 2, nonlinearity="sigmoid")


def test_embeddings_start_small_like_chapter_2s_features():
    model = rnn.RNNLM(5000, 64, 8)
    assert abs(model.embed.weight.std().item() - layers.FEATURE_INIT_STD) < 0.005


def test_unbatched_input_works_as_in_torch():
    torch.manual_seed(2)
    reference = nn.RNN(3, 5, 2, batch_first=True)
    ours = rnn.ElmanRNN(3, 5, 2)
    ours.load_state_dict(reference.state_dict())
    x, h0 = torch.randn(7, 3), torch.randn(2, 5)
    for start in (None, h0):
        (expected, expected_h), (got, got_h) = reference(x, start), ours(x, start)
        assert got.shape == (7, 5) and got_h.shape == (2, 5)
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)
        torch.testing.assert_close(got_h, expected_h, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="expected x of shape"):
        ours(torch.randn(2, 3, 4, 3))
    with pytest.raises(ValueError, match="≥ 1"):
        rnn.ElmanRNN(3, 0)


@pytest.mark.parametrize("temperature", [0, -1.0, float("inf"), float("nan"), "1", True])
def test_generation_rejects_what_ngram_generation_rejects(temperature):
    model = rnn.RNNLM(6, 4, 4)
    with pytest.raises(ValueError, match="temperature"):
        rnn.generate(model, [1], 3, temperature=temperature)


def test_numpy_scalars_are_numbers():
    model = rnn.RNNLM(6, 4, 4)
    assert len(rnn.generate(model, [1], 3, temperature=np.float32(0.5))) == 3


def test_tied_output_layer_shares_the_embedding():
    model = rnn.RNNLM(40, 16, 16, tie=True)
    assert model.out.weight is model.embed.weight
    n_tied = sum(p.numel() for p in model.parameters())
    assert n_tied == sum(p.numel() for p in rnn.RNNLM(40, 16, 16).parameters()) - 40 * 16
    with pytest.raises(ValueError, match="embed_size = hidden_size"):
        rnn.RNNLM(40, 8, 16, tie=True)
