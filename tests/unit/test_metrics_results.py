import json
import math

import numpy as np
import pytest

from seqlm import config, metrics, results


def test_uniform_model_has_perplexity_equal_to_vocabulary_size():
    assert math.isclose(metrics.perplexity(np.full(100, 1 / 37)), 37)


def test_perplexity_is_computed_in_log_space():
    probs = np.full(100_000, 1e-5)  # the product underflows to 0
    assert np.prod(probs) == 0
    assert math.isclose(metrics.perplexity(probs), 1e5, rel_tol=1e-9)


def test_a_single_zero_makes_perplexity_infinite():
    assert math.isinf(metrics.perplexity([0.5, 0.0, 0.5]))


def test_bad_probabilities():
    with pytest.raises(ValueError, match="no tokens"):
        metrics.cross_entropy([])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        metrics.cross_entropy([1.5])


def test_bits():
    assert math.isclose(metrics.bits(math.log(2)), 1.0)


def test_results_round_trip(tmp_path):
    setup = config.setup("01_ngrams", "smoke", "cpu", results_dir=tmp_path)
    path = results.save(setup, {"ppl": 120.5, "mle": math.inf}, 12.345)
    record = json.loads(path.read_text())
    assert record == {"chapter": "01_ngrams", "profile": "smoke", "device": "cpu",
                      "metrics": {"ppl": 120.5, "mle": "inf"}, "seconds": 12.35}
    assert results.load_all(tmp_path) == [record]
    page = results.render_markdown([record])
    assert "## 01_ngrams" in page and "| ppl | 120.5 |" in page and "| mle | ∞ |" in page


def test_results_need_metrics(tmp_path):
    with pytest.raises(ValueError):
        results.save(config.setup("01_ngrams", "smoke", "cpu", results_dir=tmp_path), {}, 1.0)


def test_results_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SEQLM_RESULTS", str(tmp_path))
    assert config.resolve_results_dir() == tmp_path
    assert config.resolve_results_dir(tmp_path / "given") == tmp_path / "given"
    assert results.load_all() == []


def test_leaderboard_ranks_word_perplexities_across_chapters():
    records = [{"chapter": "01", "profile": "cpu", "metrics": {
                    "word test perplexity, KN, n=3": 120.0, "word test perplexity, MLE, n=2": "inf",
                    "char bits": 2.0}},
               {"chapter": "03", "profile": "cpu", "metrics": {"word test perplexity, RNN LM": 110.0}}]
    assert results.leaderboard(records) == [(110.0, "RNN LM", "03", "cpu"),
                                            (120.0, "KN, n=3", "01", "cpu"),
                                            (math.inf, "MLE, n=2", "01", "cpu")]
    page = results.render_markdown([r | {"device": "cpu", "seconds": 1.0} for r in records])
    assert page.index("| 1 | RNN LM | 110.0") < page.index("| 2 | KN, n=3 | 120.0")
