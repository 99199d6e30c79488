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
                      "key": results.fingerprint("01_ngrams", "smoke"),
                      "metrics": {"ppl": 120.5, "mle": "inf"}, "seconds": 12.35}
    assert results.load_all(tmp_path) == [record]
    page = results.render_markdown([record])
    assert "## 01_ngrams" in page and "| ppl | 120.5 |" in page and "| mle | ∞ |" in page


def test_a_later_chapter_reads_only_current_numbers_and_weights(tmp_path, monkeypatch, capsys):
    import torch

    early = config.setup("03_rnn", "smoke", "cpu", results_dir=tmp_path)
    later = config.setup("05_gradients", "smoke", "cpu", results_dir=tmp_path)
    results.save(early, {"word test perplexity, RNN LM": 150.0}, 1.0)
    results.save_weights(early, "word_model", torch.nn.Linear(2, 2))
    assert results.metric(later, "03_rnn", "word test perplexity, RNN LM") == 150.0
    assert results.load_weights(later, "03_rnn", "word_model", torch.nn.Linear(2, 2))
    assert results.reuse(later, "03_rnn", "word test perplexity, RNN LM", lambda: 1 / 0) == 150.0
    other_seed = config.setup("05_gradients", "smoke", "cpu", seed=1, results_dir=tmp_path)
    assert results.metric(other_seed, "03_rnn", "word test perplexity, RNN LM") is None
    other_profile = config.setup("05_gradients", "cpu", "cpu", results_dir=tmp_path)
    assert results.metric(other_profile, "03_rnn", "word test perplexity, RNN LM") is None
    assert not results.load_weights(other_profile, "03_rnn", "word_model", torch.nn.Linear(2, 2))
    # the code changed since the numbers were saved: they are stale, never read
    monkeypatch.setattr(results, "fingerprint", lambda chapter, profile, seed: "changed")
    assert results.metric(later, "03_rnn", "word test perplexity, RNN LM") is None
    assert not results.load_weights(later, "03_rnn", "word_model", torch.nn.Linear(2, 2))
    assert results.reuse(later, "03_rnn", "word test perplexity, RNN LM", lambda: 99.0) == 99.0
    assert "computed here" in capsys.readouterr().out


def test_the_fingerprint_follows_profile_and_sizes(monkeypatch):
    results.fingerprint.cache_clear()
    smoke, cpu = results.fingerprint("03_rnn", "smoke"), results.fingerprint("03_rnn", "cpu")
    assert smoke != cpu and smoke == results.fingerprint("03_rnn", "smoke")
    changed = dict(config.SIZES) | {"03_rnn": config.SIZES["03_rnn"] | {
        "smoke": config.SIZES["03_rnn"]["smoke"] | {"bptt": 21}}}
    monkeypatch.setattr(config, "SIZES", changed)
    results.fingerprint.cache_clear()
    assert results.fingerprint("03_rnn", "smoke") != smoke
    results.fingerprint.cache_clear()


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


def test_the_tuned_mixture_weight_maximises_the_likelihood():
    rng = np.random.default_rng(0)
    p_a, p_b = rng.uniform(0.01, 0.5, 2000), rng.uniform(0.01, 0.5, 2000)
    weight = metrics.tune_mixture(p_a, p_b)
    grid = np.linspace(0, 1, 1001)
    best = grid[np.argmax([np.log(w * p_a + (1 - w) * p_b).sum() for w in grid])]
    assert abs(weight - best) < 2e-3
    assert metrics.tune_mixture(p_a, p_a / 10) > 0.99  # one model is better everywhere
    with pytest.raises(ValueError, match="same tokens"):
        metrics.tune_mixture(p_a, p_b[:-1])


def test_timed_warms_up_and_returns_the_fastest_call():
    calls = []
    out, seconds = results.timed(lambda: calls.append(1) or len(calls), warmup=2, repeats=3)
    assert len(calls) == 5 and out == 5 and 0 <= seconds < 1


def test_the_leaderboard_never_ranks_runs_of_different_profiles_together():
    records = [{"chapter": "01_ngrams", "profile": "cpu", "device": "cpu", "seconds": 1.0,
                "metrics": {"word test perplexity, KN": 120.0}},
               {"chapter": "03_rnn", "profile": "full", "device": "cuda", "seconds": 9.0,
                "metrics": {"word test perplexity, RNN LM": 110.0}}]
    page = results.render_markdown(records, {"01_ngrams": "1. n-grams", "03_rnn": "3. RNNs"})
    assert "profile `full`" in page and "profile `cpu`" in page
    assert page.count("| 1 |") == 2  # each model first in its own profile's ranking
    assert "## 1. n-grams" in page and "profile `full` on `cuda`, 9 s" in page


def test_close_numbers_share_a_rank_and_infinities_go_to_a_note():
    assert results.ranks([100.0, 100.5, 110.0, 130.0]) == ["=1", "=1", "3", "4"]
    assert results.ranks([100.0, 105.0]) == ["1", "2"]
    records = [{"chapter": "01_ngrams", "profile": "cpu", "device": "cpu", "seconds": 1.0,
                "metrics": {"word test perplexity, KN": 120.0, "word test perplexity, MLE": "inf",
                            "word test perplexity, interp": 120.5}}]
    page = results.render_markdown(records)
    assert "| =1 | KN | 120.0 |" in page and "| =1 | interp | 120.5 |" in page
    assert "| MLE |" not in page and "Infinite perplexity" in page and "MLE (01_ngrams)" in page


def test_the_results_page_has_a_task_table_by_label_share():
    records = [
        {"chapter": "09_elmo", "profile": "cpu", "device": "cpu", "seconds": 1.0,
         "metrics": {"punctuation test macro F1, elmo, 1% of labels": 0.2,
                     "punctuation test macro F1, learned, 1% of labels": 0.3,
                     "punctuation test macro F1, elmo, 100% of labels": 0.5}},
        {"chapter": "08_bilstm", "profile": "cpu", "device": "cpu", "seconds": 1.0,
         "metrics": {"punctuation test macro F1, bidirectional × 1": 0.4}},
        {"chapter": "08_bilstm", "profile": "smoke", "device": "cpu", "seconds": 1.0,
         "metrics": {"punctuation test macro F1, bidirectional × 1": 0.0}},
    ]
    rows = results.task_table(records[:2])
    assert rows == [("1 %", "learned", 0.3, "09_elmo"), ("1 %", "elmo", 0.2, "09_elmo"),
                    ("100 %", "elmo", 0.5, "09_elmo"), ("all", "bidirectional × 1", 0.4,
                                                        "08_bilstm")]
    page = results.render_markdown(records)
    assert page.count("## Punctuation restoration") == 2          # one table per profile
    assert "| 1 % | learned | 0.300 |" in page


def test_the_results_page_has_a_g2p_table_by_model_and_decoding():
    records = [
        {"chapter": "10_seq2seq", "profile": "cpu", "device": "cpu", "seconds": 1.0,
         "metrics": {"g2p test WER, attention, greedy": 0.30,
                     "g2p test PER, attention, greedy": 0.07,
                     "g2p test WER, attention, beam 5": 0.29,
                     "g2p test PER, attention, beam 5": 0.069,
                     "g2p test WER, no attention, greedy": 0.41,
                     "g2p test WER, letter-context baseline, direct": 0.48}},
        {"chapter": "10_seq2seq", "profile": "smoke", "device": "cpu", "seconds": 1.0,
         "metrics": {"g2p test WER, attention, greedy": 1.0}},
    ]
    rows = results.g2p_table(records[:1])
    assert rows == [("attention", "beam 5", 0.29, 0.069, "10_seq2seq"),
                    ("attention", "greedy", 0.30, 0.07, "10_seq2seq"),
                    ("no attention", "greedy", 0.41, None, "10_seq2seq"),
                    ("letter-context baseline", "direct", 0.48, None, "10_seq2seq")]
    page = results.render_markdown(records, {"10_seq2seq": "10. Seq2seq"})
    assert page.count("## Spelling to pronunciation") == 2         # one table per profile
    assert "| attention | beam 5 | 29.0 % | 6.9 % | 10. Seq2seq |" in page
    assert "| no attention | greedy | 41.0 % | — | 10. Seq2seq |" in page
    assert page.index("| attention | beam 5 |") < page.index("| no attention | greedy |")
    assert "Word-level test perplexity" not in page     # no perplexities: no empty board
