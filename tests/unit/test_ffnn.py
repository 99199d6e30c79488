import pytest
import torch

from seqlm import ffnn, layers


def test_forward_is_the_papers_equation():
    torch.manual_seed(0)
    model = ffnn.NeuralLM(vocab_size=11, context=3, embed_size=4, hidden_size=5, direct=True)
    x = torch.randint(0, 11, (7, 3))
    features = torch.cat([model.C.weight[x[:, i]] for i in range(3)], dim=1)  # (7, 12)
    hidden = torch.tanh(features @ model.H.weight.T + model.H.bias)
    expected = model.U.bias + features @ model.W.weight.T + hidden @ model.U.weight.T
    logits, state = model(x)
    assert state is None and logits.shape == (7, 11)
    torch.testing.assert_close(logits, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("direct", [True, False])
def test_parameter_count_formula(direct):
    model = ffnn.NeuralLM(100, 4, 8, 16, direct)
    assert sum(p.numel() for p in model.parameters()) == ffnn.parameter_count(100, 4, 8, 16, direct)


def test_a_word_outside_the_window_has_no_effect():
    torch.manual_seed(0)
    model = ffnn.NeuralLM(20, 2, 4, 8)
    sentence = torch.tensor([[3, 5, 7, 9]])
    other = sentence.clone()
    other[0, 0] = 11  # four words back: outside a window of two
    assert torch.equal(model(sentence[:, -2:])[0], model(other[:, -2:])[0])
    changed = sentence.clone()
    changed[0, 2] = 11  # inside the window
    assert not torch.equal(model(sentence[:, -2:])[0], model(changed[:, -2:])[0])


def test_wrong_context_length_is_a_clear_error():
    with pytest.raises(ValueError, match="expected 3 context words"):
        ffnn.NeuralLM(10, 3)(torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError):
        ffnn.NeuralLM(10, 0)


def test_nearest_words_and_projection():
    embeddings = torch.tensor([[1.0, 0], [0.9, 0.1], [0, 1.0], [-1.0, 0]])
    nearest = ffnn.nearest_words(embeddings, 0, k=3)
    assert [i for i, _ in nearest] == [1, 2, 3]
    assert nearest[0][1] == pytest.approx(0.9 / (0.81 + 0.01) ** 0.5)
    assert [i for i, _ in ffnn.nearest_words(embeddings, 0, k=2, among=3)] == [1, 2]
    points = ffnn.project_2d(embeddings)
    assert points.shape == (4, 2)
    assert torch.allclose(points.mean(0), torch.zeros(2), atol=1e-6)


def test_features_start_small():
    model = ffnn.NeuralLM(5000, 2, 64, 8)
    assert abs(model.C.weight.std().item() - layers.FEATURE_INIT_STD) < 0.005


def test_dropout_acts_only_while_training():
    torch.manual_seed(0)
    model = ffnn.NeuralLM(vocab_size=30, context=2, embed_size=8, hidden_size=16, dropout=0.5)
    x = torch.randint(0, 30, (4, 2))
    model.eval()
    assert torch.equal(model(x)[0], model(x)[0])
    model.train()
    assert not torch.equal(model(x)[0], model(x)[0])
    with pytest.raises(ValueError, match="dropout"):
        ffnn.NeuralLM(30, 2, dropout=1.0)
