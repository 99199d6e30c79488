"""Chapter 10's task: spelling to pronunciation on CMUdict. The entries and their split,
the symbols, paired batches, the error rates, alignments and the baseline."""

import itertools
import math
import random

import nltk
import numpy as np
import pytest
import torch

from seqlm import batches, data, g2p
from seqlm.train import IGNORE_INDEX


def test_the_lexicon_holds_lower_case_words_and_stressless_pronunciations():
    lexicon = g2p.lexicon()
    assert len(lexicon) > 100_000
    assert lexicon["knife"] == (("N", "AY", "F"),)
    assert lexicon["exit"] == (("EH", "G", "Z", "IH", "T"), ("EH", "K", "S", "AH", "T"))
    assert ("R", "EH", "D") in lexicon["read"] and ("R", "IY", "D") in lexicon["read"]
    assert all(set(w) <= set(g2p.LETTERS) for w in lexicon)
    phonemes = {p for prons in lexicon.values() for pron in prons for p in pron}
    assert phonemes == set(g2p.PHONEMES) and len(g2p.PHONEMES) == 39
    assert all(len(set(prons)) == len(prons) and all(prons) for prons in lexicon.values())


def test_the_split_is_by_word_fixed_and_near_its_shares():
    words = {split: [e.word for e in g2p.entries(split)] for split in data.SPLITS}
    total = sum(map(len, words.values()))
    assert total == len(g2p.lexicon())
    assert not set(words["train"]) & set(words["test"])
    assert not set(words["valid"]) & (set(words["train"]) | set(words["test"]))
    for split, share in g2p.SPLIT_SHARES.items():
        assert abs(len(words[split]) / total - share / 100) < 0.005
    assert all(g2p.split_of(w) == split for split in data.SPLITS for w in words[split][:200])
    lexicon = g2p.lexicon()
    assert all(e.pronunciations == lexicon[e.word] for e in g2p.entries("test"))


def test_entries_evenly_spaced_and_pairs_one_per_pronunciation():
    every = g2p.entries("valid")
    some = g2p.entries("valid", 10)
    assert len(some) == 10 and some[0] == every[0] and some[-1] == every[-1]
    assert [e.word for e in some] == sorted(e.word for e in some)
    assert g2p.entries("valid", 10 ** 9) == every
    exit_ = g2p.Entry("exit", g2p.lexicon()["exit"])
    assert g2p.pairs([exit_]) == [("exit", p) for p in exit_.pronunciations]
    with pytest.raises(ValueError, match="unknown split"):
        g2p.entries("dev")


@pytest.mark.parametrize("word", ["", "Knife", "o'clock", "café", "a b", "x1"])
def test_a_word_outside_the_alphabet_or_empty_is_an_error(word):
    with pytest.raises(ValueError, match="empty|outside"):
        g2p.encode_word(word)


@pytest.mark.parametrize("pronunciation", [(), ("AY1",), ("N", "XX")])
def test_an_empty_or_unknown_pronunciation_is_an_error(pronunciation):
    with pytest.raises(ValueError, match="empty|unknown"):
        g2p.encode_pronunciation(pronunciation)


def test_symbols_round_trip():
    assert g2p.encode_word("abz").tolist() == [0, 1, 25]
    ids = g2p.encode_pronunciation(("EH", "G", "Z"))
    assert ids[-1] == g2p.EOS and len(ids) == 4
    assert g2p.decode_pronunciation(ids) == ("EH", "G", "Z")
    assert g2p.decode_pronunciation(list(ids) + [5, 6]) == ("EH", "G", "Z")   # after </s>
    assert g2p.OUTPUTS == 40 and g2p.BOS == 40 and g2p.PAD == 41
    with pytest.raises(ValueError, match="no phoneme"):
        g2p.decode_pronunciation([g2p.BOS])


def test_paired_batches_pad_each_side_and_resume_mid_epoch():
    examples = [("knife", ("N", "AY", "F")), ("exit", ("EH", "G", "Z", "IH", "T")), ("a", ("AH",))]
    (x, y), = list(g2p.PairedBatches(examples, 3)())   # for evaluation: sorted by length
    assert x.tolist()[0] == [0] + [g2p.LETTER_PAD] * 4
    assert x.tolist()[2] == g2p.encode_word("knife").tolist()
    assert y.tolist()[2] == list(g2p.encode_pronunciation(("N", "AY", "F"))) + [IGNORE_INDEX] * 2
    assert y.tolist()[1][-1] == g2p.EOS and y.tolist()[0][2:] == [IGNORE_INDEX] * 4
    source = g2p.PairedBatches(g2p.pairs(g2p.entries("valid", 300)), 16, shuffle=True, seed=3)
    assert isinstance(source, batches.BatchSource)
    whole = [(a.tolist(), b.tolist()) for a, b in source(epoch=2)]
    assert [(a.tolist(), b.tolist()) for a, b in source(epoch=2, start=5)] == whole[5:]
    assert whole != [(a.tolist(), b.tolist()) for a, b in source(epoch=3)]
    words = ["knife", "a", "exit"]
    x, = list(g2p.word_batches(words))
    assert x[1].tolist() == [0] + [g2p.LETTER_PAD] * 4
    with pytest.raises(ValueError, match="no examples"):
        g2p.PairedBatches([], 4)


def test_edit_distance_equals_nltks_on_random_sequences():
    rng = random.Random(0)
    for _ in range(300):
        a = [rng.choice("abc") for _ in range(rng.randint(0, 7))]
        b = [rng.choice("abc") for _ in range(rng.randint(0, 7))]
        assert g2p.edit_distance(a, b) == nltk.edit_distance(a, b)
    assert g2p.edit_distance(("EH", "K", "S"), ("EH", "G", "Z")) == 2


def test_word_and_phoneme_error_rates_score_against_the_closest_reference():
    references = [(("EH", "G", "Z", "IH", "T"), ("EH", "K", "S", "AH", "T")), (("N", "AY", "F"),)]
    right = [("EH", "K", "S", "AH", "T"), ("N", "AY", "F")]
    assert g2p.word_error_rate(right, references) == 0.0
    assert g2p.phoneme_error_rate(right, references) == 0.0
    one_wrong = [("EH", "K", "S", "IH", "T"), ("N", "AY", "F")]   # 1 from the second exit
    assert g2p.word_error_rate(one_wrong, references) == 0.5
    assert g2p.phoneme_error_rate(one_wrong, references) == pytest.approx(1 / 8)
    two_wrong = [("EH", "G", "Z"), ("N", "AY", "F", "EY")]     # 2 from the first exit; 1
    assert g2p.word_error_rate(two_wrong, references) == 1.0
    assert g2p.phoneme_error_rate(two_wrong, references) == pytest.approx(3 / 8)
    with pytest.raises(ValueError, match="one per word"):
        g2p.word_error_rate(right[:1], references)
    with pytest.raises(ValueError, match="one per word"):
        g2p.phoneme_error_rate([], [])


def alignment_score(word, chunks, log_p):
    return sum(log_p.get(l, {}).get(c, g2p.UNSEEN) for l, c in zip(word, chunks))


def brute_force_best_score(word, pronunciation, log_p):
    """Every way to give each letter 0, 1 or 2 phonemes: the best summed log p."""
    best = -math.inf
    for sizes in itertools.product((0, 1, 2), repeat=len(word)):
        if sum(sizes) == len(pronunciation):
            cuts = np.cumsum((0,) + sizes)
            chunks = [pronunciation[a:b] for a, b in zip(cuts, cuts[1:])]
            best = max(best, alignment_score(word, chunks, log_p))
    return best


def test_the_alignment_equals_brute_force_on_random_tables():
    rng = random.Random(1)
    phonemes = ("A", "B", "C")
    for _ in range(200):
        word = "".join(rng.choice("xyz") for _ in range(rng.randint(1, 5)))
        pronunciation = tuple(rng.choice(phonemes) for _ in range(rng.randint(0, 2 * len(word))))
        chunks = [()] + [(p,) for p in phonemes] + list(itertools.product(phonemes, repeat=2))
        log_p = {l: {c: -rng.uniform(0, 5) for c in chunks if rng.random() < 0.7} for l in "xyz"}
        chunks = g2p.align(word, pronunciation, log_p)
        best = brute_force_best_score(word, pronunciation, log_p)
        if best == -math.inf:
            assert chunks is None
            continue
        assert len(chunks) == len(word) and sum(chunks, ()) == pronunciation
        assert all(len(c) <= 2 for c in chunks)
        assert alignment_score(word, chunks, log_p) == pytest.approx(best, abs=1e-9)
    assert g2p.align("ab", ("A", "B", "C", "D", "E"), {}) is None   # > 2 phonemes a letter


def test_hard_em_learns_silent_letters_and_letters_with_two_phonemes():
    log_p = g2p.fit_alignment(g2p.pairs(g2p.entries("train"))[::8], iterations=2)
    lexicon = g2p.lexicon()
    assert g2p.align("knife", lexicon["knife"][0], log_p) == [(), ("N",), ("AY",), ("F",), ()]
    assert g2p.align("exit", lexicon["exit"][0], log_p) == \
        [("EH",), ("G", "Z"), ("IH",), ("T",)]


def test_the_baseline_takes_the_commonest_chunk_of_the_widest_context_seen():
    log_p = {"a": {("A",): 0.0, ("AH",): -1.0}, "b": {("B",): 0.0, (): -1.0}}
    examples = [("ab", ("A", "B")), ("ab", ("A", "B")), ("ba", ("B", "AH")), ("bb", ("B",))]
    baseline = g2p.ChunkBaseline(examples, width=1, log_p=log_p)
    assert baseline.predict("ab") == ("A", "B")           # seen whole
    assert baseline.predict("ba") == ("B", "AH")          # a after b, at the end: AH
    assert baseline.predict("bb") == ("B",)               # the second b was silent
    assert baseline.predict("aa") == ("A", "A")           # unseen: back off to the letter
    with pytest.raises(ValueError, match="outside"):
        baseline.predict("a-b")
    with pytest.raises(ValueError, match="width"):
        g2p.ChunkBaseline(examples, width=-1, log_p=log_p)
