"""Chapter 10's attention: each score function against a reference, masking, padding that
changes nothing, self-attention equal to nn.MultiheadAttention, positions, and the
measures of an alignment."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from seqlm import attention


def random_batch(B=3, T_out=4, T_in=6, n=5, seed=0):
    """Queries, keys and a mask with rows of lengths T_in, 3 and 1, in float64."""
    g = torch.Generator().manual_seed(seed)
    queries = torch.randn(B, T_out, n, generator=g, dtype=torch.float64)
    keys = torch.randn(B, T_in, n, generator=g, dtype=torch.float64)
    lengths = torch.tensor([T_in, 3, 1][:B])
    mask = torch.arange(T_in)[None, :] < lengths[:, None]
    return queries, keys, mask


@pytest.mark.parametrize("name, scale", [("dot", 1.0), ("scaled", None)])
def test_dot_product_attention_equals_torchs_with_the_same_mask(name, scale):
    queries, keys, mask = random_batch()
    score = attention.score_function(name, 5, 5)
    contexts, weights = attention.attend(score, queries, keys, keys, mask)
    expected = F.scaled_dot_product_attention(queries, keys, keys, attn_mask=mask[:, None, :],
                                              scale=scale)
    assert torch.allclose(contexts, expected, atol=1e-12)
    assert torch.all(weights[~mask[:, None, :].expand_as(weights)] == 0)
    assert torch.allclose(weights.sum(-1), torch.ones(3, 4, dtype=torch.float64))


def test_the_general_score_is_a_dot_product_with_transformed_keys():
    queries, keys, mask = random_batch()
    torch.manual_seed(0)
    score = attention.GeneralScore(5, 5).double()
    contexts, _ = attention.attend(score, queries, keys, keys, mask)
    expected = F.scaled_dot_product_attention(queries, score.W_a(keys), keys,
                                              attn_mask=mask[:, None, :], scale=1.0)
    assert torch.allclose(contexts, expected, atol=1e-12)


def test_the_additive_score_is_its_formula_term_by_term_and_passes_gradcheck():
    queries, keys, mask = random_batch(n=4)
    torch.manual_seed(0)
    score = attention.AdditiveScore(4, 4, attention_size=3).double()
    got = score(queries, keys)
    for b in range(3):
        for i in range(4):
            for j in range(6):
                hidden = torch.tanh(score.W_q.weight @ queries[b, i] + score.W_k.weight @ keys[b, j]
                                    + score.W_k.bias)
                assert torch.allclose(got[b, i, j], score.v.weight[0] @ hidden, atol=1e-12)
    queries.requires_grad_(True)
    keys.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda q, k: attention.attend(score, q, k, k, mask)[0],
                                    (queries, keys))


@pytest.mark.parametrize("name", sorted(attention.SCORES))
def test_padding_is_inert_a_row_alone_equals_the_row_in_a_padded_batch(name):
    queries, keys, mask = random_batch()
    torch.manual_seed(0)
    score = attention.score_function(name, 5, 5).double()
    junk = keys.clone()
    junk[~mask] = 1e3 * torch.randn(int((~mask).sum()), 5, dtype=torch.float64)
    in_batch, weights = attention.attend(score, queries, junk, junk, mask)
    alone, _ = attention.attend(score, queries[1:2], keys[1:2, :3], keys[1:2, :3])
    assert torch.allclose(in_batch[1:2], alone, atol=1e-12)
    assert torch.all(weights[1, :, 3:] == 0) and torch.all(weights[2, :, 0] == 1)


def test_unknown_scores_and_mismatched_sizes_are_errors():
    with pytest.raises(ValueError, match="unknown score"):
        attention.score_function("cosine", 4, 4)
    with pytest.raises(ValueError, match="equal sizes"):
        attention.score_function("dot", 4, 8)


@pytest.mark.parametrize("causal", [False, True])
def test_self_attention_equals_nn_multihead_attention_with_one_head(causal):
    torch.manual_seed(0)
    reference = nn.MultiheadAttention(6, 1, batch_first=True).double()
    ours = attention.SelfAttention(6, causal=causal).double().copy_from(reference)
    x = torch.randn(3, 5, 6, dtype=torch.float64, requires_grad=True)
    mask = torch.arange(5)[None, :] < torch.tensor([5, 3, 1])[:, None]
    causal_mask = torch.ones(5, 5, dtype=torch.bool).triu(1) if causal else None   # True: hide
    expected, expected_weights = reference(x, x, x, key_padding_mask=~mask,
                                           attn_mask=causal_mask)
    got, weights = ours(x, mask)
    assert torch.allclose(got, expected, atol=1e-12)
    assert torch.allclose(weights, expected_weights, atol=1e-12)
    grad_expected = torch.autograd.grad(expected.square().sum(), x)[0]
    grad_got = torch.autograd.grad(got.square().sum(), x)[0]
    assert torch.allclose(grad_got, grad_expected, atol=1e-10)
    with pytest.raises(ValueError, match="one-head"):
        ours.copy_from(nn.MultiheadAttention(6, 2, batch_first=True))


def test_self_attention_ignores_order_until_positions_are_added():
    torch.manual_seed(0)
    layer = attention.SelfAttention(8).double()
    x = torch.randn(1, 5, 8, dtype=torch.float64)
    order = torch.tensor([3, 0, 4, 1, 2])
    out, _ = layer(x)
    shuffled, _ = layer(x[:, order])
    assert torch.allclose(shuffled, out[:, order], atol=1e-12)      # the same, reordered
    positions = attention.sinusoidal_positions(5, 8).double()
    out, _ = layer(x + positions)
    shuffled, _ = layer(x[:, order] + positions)
    assert not torch.allclose(shuffled, out[:, order], atol=1e-3)


def test_sinusoidal_positions_are_the_transformers():
    pe = attention.sinusoidal_positions(50, 6)
    assert pe.shape == (50, 6)
    assert torch.equal(pe[0], torch.tensor([0.0, 1.0] * 3))
    p, i = 7, 1
    rate = 10000 ** (-2 * i / 6)
    assert pe[p, 2 * i].item() == pytest.approx(math.sin(p * rate), abs=1e-6)
    assert pe[p, 2 * i + 1].item() == pytest.approx(math.cos(p * rate), abs=1e-6)
    with pytest.raises(ValueError, match="even"):
        attention.sinusoidal_positions(5, 7)


def one_hot_map(path, inputs):
    weights = torch.zeros(len(path), inputs)
    weights[torch.arange(len(path)), torch.tensor(path)] = 1.0
    return weights


def test_monotonicity_and_coverage_tell_a_diagonal_from_a_stuck_alignment():
    diagonal = one_hot_map([0, 1, 1, 3, 4], 5)          # one letter silent, one read twice
    assert attention.monotonicity(diagonal) == 1.0 and attention.coverage(diagonal) == 0.8
    stuck = one_hot_map([2, 2, 2, 2], 5)
    assert attention.monotonicity(stuck) == 1.0 and attention.coverage(stuck) == 0.2
    backwards = one_hot_map([4, 3, 2, 1, 0], 5)
    assert attention.monotonicity(backwards) == 0.0 and attention.coverage(backwards) == 1.0
    assert attention.monotonicity(one_hot_map([1, 0, 2], 3)) == 0.5
    assert attention.monotonicity(one_hot_map([2], 3)) == 1.0
    with pytest.raises(ValueError, match="one attention map"):
        attention.coverage(torch.zeros(0, 4))
