import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlm import data, metrics, ngram

SMOOTHED = [lambda n: ngram.AddK(n, 0.5), lambda n: ngram.Interpolated(n),
            lambda n: ngram.KneserNey(n), lambda n: ngram.KneserNey(n, modified=True),
            lambda n: ngram.KneserNey(n, discount=0.6)]


def naive_counts(ids, order, pad):
    padded = [pad] * (order - 1) + list(ids)
    return [Counter(tuple(padded[i - k + 1:i + 1]) for i in range(order - 1, len(padded)))
            for k in range(1, order + 1)]


streams = st.lists(st.integers(0, 5), min_size=1, max_size=60)


@settings(max_examples=60, deadline=None)
@given(streams, st.integers(1, 4))
def test_counts_equal_a_naive_count(ids, order):
    counts = ngram.NgramCounts(ids, order, vocab_size=6, pad_id=0)
    expected = naive_counts(ids, order, pad=0)
    for k in range(1, order + 1):
        assert sum(counts.orders[k - 1].counts) == len(ids)
        assert counts.num_grams(k) == len(expected[k - 1])
        grams, _ = counts.lookup(ids)
        got = counts.orders[k - 1].counts[grams[k - 1]]
        padded = [0] * (order - 1) + ids
        want = [expected[k - 1][tuple(padded[i - k + 1:i + 1])] for i in range(order - 1, len(padded))]
        assert list(got) == want


@settings(max_examples=40, deadline=None)
@given(streams, st.integers(1, 3))
def test_continuation_counts_are_distinct_left_neighbours(ids, order):
    counts = ngram.NgramCounts(ids, order + 1, vocab_size=6, pad_id=0)
    longer = naive_counts(ids, order + 1, pad=0)[order]  # (order+1)-grams
    o = counts.orders[order - 1]
    for j in range(len(o.keys)):
        if o.counts[j] == 0:
            continue
        grams, _ = counts.lookup(ids)
        position = int(np.flatnonzero(grams[order - 1] == j)[0])
        padded = [0] * order + ids
        gram = tuple(padded[position + 1:position + order + 1])
        assert o.cont[j] == sum(1 for g in longer if g[1:] == gram)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 7), min_size=2, max_size=80),
       st.lists(st.integers(0, 7), max_size=6), st.integers(1, 4), st.sampled_from(range(len(SMOOTHED))))
def test_smoothed_distributions_sum_to_one(ids, context, order, which):
    model = SMOOTHED[which](order).fit(ids, vocab_size=8, pad_id=0)
    p = model.distribution(context)
    assert p.shape == (8,) and (p > 0).all()
    assert math.isclose(p.sum(), 1.0, rel_tol=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 7), min_size=2, max_size=80), st.lists(st.integers(0, 7), min_size=1,
       max_size=30), st.integers(1, 4), st.sampled_from(range(len(SMOOTHED))))
def test_scoring_a_stream_agrees_with_the_next_word_distribution(ids, test, order, which):
    model = SMOOTHED[which](order).fit(ids, vocab_size=8, pad_id=0)
    p = model.prob(test)
    for i, token in enumerate(test):
        assert math.isclose(p[i], model.distribution(test[max(0, i - order + 1):i])[token], rel_tol=1e-9)


@pytest.mark.parametrize("order", [2, 3, 4])  # nltk divides by zero at order 1
def test_kneser_ney_equals_nltk(words, order):
    oracle = ngram.NltkOracle(words.tokens("train")[:2500], words.tokens("valid")[:250], order)
    assert 150 < len(oracle.test) < 250  # the words nltk could score
    p, q = oracle.probabilities()
    np.testing.assert_allclose(p, q, rtol=1e-6, atol=0)
    assert math.isclose(metrics.perplexity(p), metrics.perplexity(q), rel_tol=1e-6)


def test_add_k_equals_a_hand_computation():
    # stream "a b a c" with pad <eos>=0; ids: a=1, b=2, c=3; V = 4
    model = ngram.AddK(2, k=0.5).fit([1, 2, 1, 3], vocab_size=4, pad_id=0)
    # bigram counts: (0,1)=1 (1,2)=1 (2,1)=1 (1,3)=1; c(a)=2
    assert math.isclose(model.prob([1])[0], (1 + 0.5) / (1 + 0.5 * 4))        # p(a | <eos>)
    assert math.isclose(model.distribution([1])[2], (1 + 0.5) / (2 + 0.5 * 4))  # p(b | a)
    assert math.isclose(model.distribution([1])[1], (0 + 0.5) / (2 + 0.5 * 4))  # p(a | a)
    assert math.isclose(model.distribution([3])[2], 0.25)                        # unseen history


def test_mle_gives_zero_to_anything_unseen():
    model = ngram.MLE(2).fit([1, 2, 1, 3], vocab_size=4, pad_id=0)
    assert model.distribution([1]).tolist() == [0, 0, 0.5, 0.5]
    assert model.distribution([3]).sum() == 0          # an unseen history
    assert math.isinf(model.perplexity([1, 1]))        # "a a" was never seen


def test_kneser_ney_by_hand():
    # bigram KN, D = 0.5 at both orders, stream "a b a b c" (a=1 b=2 c=3), pad 0, V = 4
    model = ngram.KneserNey(2, discount=0.5).fit([1, 2, 1, 2, 3], vocab_size=4, pad_id=0)
    # continuation counts N1+(• w): a after {0, 2} = 2, b after {a} = 1, c after {b} = 1; total 4
    uniform = 0.25
    gamma1 = 0.5 * 3 / 4
    p1 = {w: max(c - 0.5, 0) / 4 + gamma1 * uniform for w, c in {1: 2, 2: 1, 3: 1, 0: 0}.items()}
    # after "b": c(b a) = 1, c(b c) = 1, c(b) = 2, two distinct followers
    expected = {w: max(c - 0.5, 0) / 2 + 0.5 * 2 / 2 * p1[w] for w, c in {1: 1, 3: 1, 2: 0, 0: 0}.items()}
    p = model.distribution([2])
    for w, value in expected.items():
        assert math.isclose(p[w], value), w


def test_estimated_discounts_follow_chen_and_goodman():
    values = np.array([1] * 10 + [2] * 4 + [3] * 2 + [4] * 1)  # n1=10 n2=4 n3=2 n4=1
    y = 10 / (10 + 2 * 4)
    assert ngram.estimate_discounts(values, modified=False) == pytest.approx((y, y, y))
    assert ngram.estimate_discounts(values, modified=True) == pytest.approx(
        (1 - 2 * y * 4 / 10, 2 - 3 * y * 2 / 4, 3 - 4 * y * 1 / 2))


def test_interpolation_weights_tuned_on_valid_beat_equal_weights(words):
    train, valid = words.ids("train")[:50_000], words.ids("valid")[:5000]
    equal = ngram.Interpolated(3).fit(train, len(words.vocab), 1)
    tuned = ngram.Interpolated(3).fit(train, len(words.vocab), 1).tune(valid)
    assert math.isclose(tuned.lambdas.sum(), 1.0)
    assert tuned.perplexity(valid) < equal.perplexity(valid)


def test_interpolation_by_hand_renormalises_over_the_orders_whose_history_was_seen():
    # stream "a b a c" (a=1 b=2 c=3), pad 0, V = 4; λ = (0.1, 0.3, 0.6)
    model = ngram.Interpolated(2, lambdas=[0.1, 0.3, 0.6]).fit([1, 2, 1, 3], 4, 0)
    unigram = {0: 0, 1: 2 / 4, 2: 1 / 4, 3: 1 / 4}
    after_a = model.distribution([1])  # "a" was seen twice, followed by b and c
    for w in range(4):
        bigram = {2: 0.5, 3: 0.5}.get(w, 0.0)
        assert math.isclose(after_a[w], 0.1 / 4 + 0.3 * unigram[w] + 0.6 * bigram)
    after_c = model.distribution([3])  # "c" ends the stream: no bigram has it as history
    for w in range(4):
        assert math.isclose(after_c[w], (0.1 / 4 + 0.3 * unigram[w]) / 0.4)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=3, max_size=60), st.integers(1, 4),
       st.lists(st.floats(0.05, 1.0), min_size=5, max_size=5))
def test_interpolation_is_chen_and_goodmans_recursion(ids, order, raw):
    """p_j = μ_j p_ML,j + (1 - μ_j) p_{j-1}, μ_j = λ_j / (λ_0 + … + λ_j), μ_j = 0 where the
    order-j history was never seen, p_0 = 1/V."""
    lambdas = np.array(raw[:order + 1]) / sum(raw[:order + 1])
    model = ngram.Interpolated(order, lambdas=lambdas).fit(ids, vocab_size=6, pad_id=0)
    comp, defined = model.components(*model.counts.lookup(ids))
    mu = model.recursive_weights
    p = comp[:, 0]
    for j in range(1, order + 1):
        weight = np.where(defined[:, j], mu[j], 0.0)
        p = weight * comp[:, j] + (1 - weight) * p
    np.testing.assert_allclose(model.prob(ids), p, rtol=1e-12)
    np.testing.assert_allclose(ngram.lambdas_from_recursive(mu), lambdas, rtol=1e-12)


def interpolation_loss(model, valid, lambdas):
    """Nats per held-out token of the interpolated model with these weights."""
    comp, defined = model.components(*model.counts.lookup(valid))
    return -np.log((comp * model.weights(lambdas, defined)).sum(axis=1)).mean()


@pytest.mark.parametrize("order", [2, 3, 4])
def test_em_finds_the_maximum_likelihood_weights(words, order):
    """No nearby weights give the held-out text a higher likelihood."""
    train, valid = words.ids("train")[:60_000], words.ids("valid")[:6000]
    model = ngram.Interpolated(order).fit(train, len(words.vocab), 1).tune(valid)
    best = interpolation_loss(model, valid, model.lambdas)
    rng = np.random.default_rng(0)
    for scale in (0.05, 0.01, 0.002):
        for _ in range(30):
            nearby = np.clip(model.lambdas + rng.normal(0, scale, order + 1), 1e-6, None)
            assert best <= interpolation_loss(model, valid, nearby / nearby.sum()) + 1e-12
    assert math.isclose(model.lambdas.sum(), 1.0) and (model.lambdas > 0).all()


def test_em_beats_every_point_of_a_fine_grid(words):
    """For a bigram model (two free weights) search the whole simplex in steps of 0.02."""
    train, valid = words.ids("train")[:60_000], words.ids("valid")[:6000]
    model = ngram.Interpolated(2).fit(train, len(words.vocab), 1).tune(valid)
    comp, defined = model.components(*model.counts.lookup(valid))
    grid = np.array([(a, b, 1 - a - b) for a in np.arange(0.01, 1, 0.02)
                     for b in np.arange(0.0, 1 - a + 1e-9, 0.02)])          # (G, 3)
    present = grid[:, None, :] * defined[None]                                # (G, T, 3)
    p = (comp[None] * present).sum(axis=2) / present.sum(axis=2)
    grid_best = -np.log(p).mean(axis=1).min()
    assert interpolation_loss(model, valid, model.lambdas) <= grid_best + 1e-12


def test_every_em_step_raises_the_held_out_likelihood(words):
    train, valid = words.ids("train")[:60_000], words.ids("valid")[:6000]
    model, losses = ngram.Interpolated(3).fit(train, len(words.vocab), 1), []
    for iterations in range(1, 8):
        tuned = ngram.Interpolated(3).fit(train, len(words.vocab), 1).tune(valid, iterations)
        losses.append(interpolation_loss(model, valid, tuned.lambdas))
    assert all(b < a for a, b in zip(losses, losses[1:]))


def test_best_add_k_is_the_grid_point_with_the_lowest_valid_perplexity(words):
    train, valid = words.ids("train")[:30_000], words.ids("valid")[:3000]
    V = len(words.vocab)
    chosen = ngram.best_add_k(2, train, valid, V, 1, grid=(1.0, 0.1, 0.01))
    ppl = {k: ngram.AddK(2, k).fit(train, V, 1).perplexity(valid) for k in (1.0, 0.1, 0.01)}
    assert chosen.k == min(ppl, key=ppl.get)
    assert math.isclose(chosen.perplexity(valid), min(ppl.values()))


def test_a_context_of_unseen_words_backs_off_to_lower_orders():
    model = ngram.KneserNey(3).fit([1, 2, 3, 1, 2, 3], vocab_size=6, pad_id=0)
    unseen = model.distribution([4, 5])  # neither 4 nor 5 occurs in training
    assert np.allclose(unseen, ngram.KneserNey(1).fit([1, 2, 3, 1, 2, 3], 6, 0).distribution([]),
                       atol=0.2)
    assert math.isclose(unseen.sum(), 1.0)
    assert unseen[1] > unseen[4]


def test_unk_is_scored_like_any_other_token(words):
    train = words.ids("train")[:20_000]
    model = ngram.KneserNey(2).fit(train, len(words.vocab), 1)
    assert 0 < model.distribution([words.vocab.stoi["the"]])[0] < 1  # p(<unk> | the)
    assert math.isfinite(model.perplexity(np.zeros(10, dtype=np.int64)))


@pytest.mark.parametrize("bad, message", [
    (dict(ids=[]), "empty"),
    (dict(order=0), "order"),
    (dict(order=2.5), "order"),
    (dict(ids=[1, 9]), "outside"),
    (dict(ids=[1.0, 2.0]), "integer"),
    (dict(ids=[[1, 2]]), "1-D"),
])
def test_bad_input_to_counting(bad, message):
    args = dict(ids=[1, 2, 3], order=2) | bad
    with pytest.raises((ValueError, TypeError), match=message):
        ngram.NgramCounts(args["ids"], args["order"], vocab_size=4, pad_id=0)


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match="k > 0"):
        ngram.AddK(2, 0)
    with pytest.raises(ValueError, match="discount"):
        ngram.KneserNey(2, discount=1.5)
    with pytest.raises(ValueError, match="one discount per order"):
        ngram.KneserNey(3, discount=[0.5, 0.5])
    with pytest.raises(ValueError, match="triple"):
        ngram.KneserNey(2, discount=0.5, modified=True)
    with pytest.raises(ValueError, match="λ_0 > 0"):
        ngram.Interpolated(2, lambdas=[0, 0.5, 0.5])
    with pytest.raises(RuntimeError, match="not fitted"):
        ngram.KneserNey(2).prob([1])


@pytest.mark.parametrize("temperature", [0, -1, float("nan"), float("inf")])
def test_temperature_must_be_positive(temperature):
    model = ngram.KneserNey(2).fit([1, 2, 3], vocab_size=4, pad_id=0)
    with pytest.raises(ValueError, match="temperature"):
        ngram.generate(model, [1], 5, temperature=temperature)


def test_generation():
    model = ngram.KneserNey(2).fit([1, 2, 3] * 20, vocab_size=4, pad_id=0)
    greedy = ngram.generate(model, [1], 6, greedy=True)
    assert greedy == [2, 3, 1, 2, 3, 1]
    rng = np.random.default_rng(0)
    cold = ngram.generate(model, [1], 30, temperature=0.05, rng=rng)
    assert cold == [2, 3, 1] * 10  # a low temperature is nearly greedy
    stopped = ngram.generate(model, [1], 30, greedy=True, stop_id=1)
    assert stopped == [2, 3, 1]
    a = ngram.generate(model, [1], 20, rng=np.random.default_rng(5))
    b = ngram.generate(model, [1], 20, rng=np.random.default_rng(5))
    assert a == b


def test_count_matrix():
    counts = ngram.NgramCounts([1, 2, 1, 2, 3], 2, vocab_size=4, pad_id=0)
    matrix = ngram.count_matrix(counts)
    assert matrix[1, 2] == 2 and matrix[2, 1] == 1 and matrix[0, 1] == 1 and matrix.sum() == 5
    with pytest.raises(ValueError):
        ngram.count_matrix(ngram.NgramCounts([1, 2], 1, 4, 0))


def test_word_level_kneser_ney_on_the_shared_split(words):
    """The chapter's headline: trigram KN on the full split beats the bigram and unigram."""
    train, test = words.ids("train"), words.ids("test")
    ppl = {n: ngram.KneserNey(n).fit(train, len(words.vocab), 1).perplexity(test) for n in (1, 2, 3)}
    assert ppl[3] < ppl[2] < ppl[1]
    assert 90 < ppl[3] < 160


def test_numpy_scalars_are_accepted_as_temperatures_and_pseudo_counts():
    model = ngram.AddK(2, np.float32(0.5)).fit([1, 2, 3] * 5, vocab_size=4, pad_id=0)
    assert model.k == 0.5
    assert len(ngram.generate(model, [1], 4, temperature=np.float64(0.7))) == 4
    for bad in (np.float32(0), True, "1"):
        with pytest.raises(ValueError, match="k > 0"):
            ngram.AddK(2, bad)


def test_an_unsmoothed_model_after_an_unseen_history_is_a_clear_error():
    model = ngram.MLE(2).fit([1, 2, 1, 2], vocab_size=5, pad_id=0)
    assert model.distribution([4]).sum() == 0  # history 4 was never seen
    for greedy in (False, True):
        with pytest.raises(ValueError, match="probability 0 after this context"):
            ngram.generate(model, [4], 3, greedy=greedy)
    assert ngram.generate(model, [1], 3, greedy=True) == [2, 1, 2]
