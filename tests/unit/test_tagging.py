"""Chapter 8: the punctuation and play-kind tasks, padded batches, the bidirectional
LSTM from scratch, and taggers whose outputs do not depend on padding."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqlm import batches, bilstm, data, metrics, plays, punctuation, tasks, tokens
from seqlm.train import IGNORE_INDEX


def test_each_word_takes_the_first_mark_after_it():
    line = punctuation.tag_line("Who's there? — Nay, answer me: stand; and unfold yourself!")
    assert line.words == ("who's", "there", "nay", "answer", "me", "stand", "and", "unfold",
                          "yourself")
    assert [punctuation.LABELS[y] for y in line.labels] == [
        "none", "question", "comma", "none", "comma", "comma", "none", "none", "exclamation"]
    assert punctuation.tag_line("Ay, sir.—").labels == (1, 2)   # the dash after a period
    assert line.text().endswith("unfold yourself!")


@pytest.mark.parametrize("line", ["", "   ", "...", "— ! ?", "_"])
def test_a_line_without_words_is_an_error(line):
    with pytest.raises(ValueError, match="no words"):
        punctuation.tag_line(line)
    assert punctuation.words_of(line) == []


def test_the_splits_hold_only_lines_with_words_and_their_labels_add_up():
    for split in data.SPLITS:
        examples = punctuation.lines(split)
        assert examples and all(line.words for line in examples)
        counts = punctuation.label_counts(examples)
        assert sum(counts.values()) == sum(len(line.words) for line in examples)
        assert counts["none"] > counts["comma"] > counts["period"] > 0
    with pytest.raises(ValueError, match="unknown split"):
        punctuation.lines("dev")


@pytest.mark.parametrize("fraction", [0, -0.1, 1.5, float("nan"), "half"])
def test_a_label_fraction_outside_zero_to_one_is_an_error(fraction):
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        punctuation.subset(list(range(10)), fraction)


def test_subsets_are_seeded_nested_in_size_and_never_empty():
    items = list(range(1000))
    assert punctuation.subset(items, 1.0) == items
    assert punctuation.subset(items, 0.1, seed=3) == punctuation.subset(items, 0.1, seed=3)
    assert punctuation.subset(items, 0.1, seed=3) != punctuation.subset(items, 0.1, seed=4)
    assert len(punctuation.subset(items, 1e-9)) == 1


def test_padded_tag_batches_pad_inputs_and_ignore_padded_targets():
    source = batches.PaddedBatches([[1, 2, 3], [4], [5, 6]], [[0, 1, 2], [3], [4, 0]], 2,
                                   pad_id=9, keep_order=True)
    (x1, y1), (x2, y2) = list(source())
    assert x1.tolist() == [[1, 2, 3], [4, 9, 9]]
    assert y1.tolist() == [[0, 1, 2], [3, IGNORE_INDEX, IGNORE_INDEX]]
    assert x2.tolist() == [[5, 6]] and y2.tolist() == [[4, 0]]


def test_evaluation_batches_group_sequences_of_similar_length():
    rng = np.random.default_rng(0)
    seqs = [rng.integers(1, 50, rng.integers(1, 40)) for _ in range(300)]
    sorted_ = batches.PaddedBatches(seqs, list(range(300)), 32, pad_id=0)
    in_order = batches.PaddedBatches(seqs, list(range(300)), 32, pad_id=0, keep_order=True)
    padding = lambda source: sum((x == 0).sum().item() for x, _ in source())
    assert padding(sorted_) < 0.2 * padding(in_order)
    assert sorted(y for _, ys in sorted_() for y in ys.tolist()) == list(range(300))
    assert [ys.tolist() for _, ys in in_order()] == [list(range(i, min(i + 32, 300)))
                                                    for i in range(0, 300, 32)]
    assert [ys.tolist() for _, ys in sorted_()] == [ys.tolist() for _, ys in sorted_(1)]


def test_shuffled_padded_batches_resume_mid_epoch_and_cover_every_sequence():
    rng = np.random.default_rng(0)
    seqs = [rng.integers(0, 50, rng.integers(1, 30)) for _ in range(200)]
    source = batches.PaddedBatches(seqs, list(range(200)), 16, pad_id=99, shuffle=True, seed=1)
    epoch = list(source(epoch=2))
    assert sorted(y for _, ys in epoch for y in ys.tolist()) == list(range(200))
    resumed = list(source(epoch=2, start=5))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(epoch[5:], resumed))
    assert [b[1].tolist() for b in source(epoch=3)] != [b[1].tolist() for b in epoch]


def test_padded_batches_reject_bad_input():
    with pytest.raises(ValueError, match="empty sequence"):
        batches.PaddedBatches([[1], []], [0, 1], 2, pad_id=0)
    with pytest.raises(ValueError, match="as long as its input"):
        batches.PaddedBatches([[1, 2]], [[0]], 2, pad_id=0)
    with pytest.raises(ValueError, match="one label"):
        batches.PaddedBatches([[1, 2]], [0, 1], 2, pad_id=0)


def test_precision_recall_and_macro_f1_by_hand():
    gold = [0, 0, 1, 1, 2, 2, 2]
    predicted = [0, 1, 1, 0, 2, 2, 1]
    counts = metrics.confusion(gold, predicted, 3)
    assert counts.tolist() == [[1, 1, 0], [1, 1, 0], [0, 1, 2]]
    precision, recall, f1 = metrics.precision_recall_f1(counts)
    np.testing.assert_allclose(precision, [1 / 2, 1 / 3, 1])
    np.testing.assert_allclose(recall, [1 / 2, 1 / 2, 2 / 3])
    np.testing.assert_allclose(f1[2], 2 * 1 * (2 / 3) / (1 + 2 / 3))
    assert metrics.macro_f1(counts, exclude=(0,)) == pytest.approx((f1[1] + f1[2]) / 2)
    assert metrics.macro_f1(metrics.confusion([1, 1], [0, 0], 2), exclude=(0,)) == 0.0
    with pytest.raises(ValueError, match="lie in"):
        metrics.confusion([0, 3], [0, 0], 3)


def test_reverse_padded_reverses_each_row_within_its_length():
    x = torch.arange(1, 6).repeat(3, 1)
    out = bilstm.reverse_padded(x, torch.tensor([5, 3, 1]))
    assert out.tolist() == [[5, 4, 3, 2, 1], [3, 2, 1, 4, 5], [1, 2, 3, 4, 5]]
    y = torch.randn(3, 5, 2)
    lengths = torch.tensor([2, 5, 4])
    assert torch.equal(bilstm.reverse_padded(bilstm.reverse_padded(y, lengths), lengths), y)


@pytest.mark.parametrize("layers", [1, 2])
def test_the_bilstm_from_scratch_equals_torch_on_padded_batches(layers):
    torch.manual_seed(0)
    reference = nn.LSTM(4, 6, layers, batch_first=True, bidirectional=True)
    ours = bilstm.BiLSTM(4, 6, layers).copy_from(reference)
    x = torch.randn(4, 7, 4, requires_grad=True)
    lengths = torch.tensor([7, 3, 1, 5])
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    expected, _ = pad_packed_sequence(reference(packed)[0], batch_first=True, total_length=7)
    got = ours(x, lengths)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)
    grads = [torch.autograd.grad(out.pow(2).sum(), [x] + list(model.parameters()))
             for out, model in ((expected, reference), (got, ours))]
    torch.testing.assert_close(grads[1][0], grads[0][0], rtol=0, atol=1e-6)
    # the same parameters in a different order: compare their gradient norms as sets
    assert sorted(g.norm().item() for g in grads[1][1:]) == pytest.approx(
        sorted(g.norm().item() for g in grads[0][1:]), abs=1e-5)


def padded_alone_and_in_a_batch(model, pad_id, length=4, longest=9):
    """A sequence's outputs alone, and in a batch beside longer sequences with its
    padding filled: both directions must ignore what lies past its end."""
    torch.manual_seed(1)
    seq = torch.randint(1, pad_id, (1, length))
    others = torch.randint(1, pad_id, (2, longest))
    batch = torch.full((3, longest), pad_id)
    batch[0, :length], batch[1:] = seq, others
    model.eval()
    with torch.no_grad():
        return model(seq)[0][0], model(batch)[0][0, :length]


@pytest.fixture(scope="module")
def table():
    vocab = data.Vocab(["<unk>", "<eos>", "a", "b", "c", "d", "e"])
    return tokens.TokenTable(vocab, ["a", "zebra", "quux"])


@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layers", [1, 3])
def test_a_taggers_outputs_do_not_depend_on_padding(table, bidirectional, layers, residual):
    torch.manual_seed(0)
    encoder = bilstm.Encoder(bilstm.LearnedEmbedding(table, 5), 6, table.pad_id, layers,
                             bidirectional, residual=residual)
    alone, in_batch = padded_alone_and_in_a_batch(bilstm.Tagger(encoder, 5), table.pad_id)
    torch.testing.assert_close(alone, in_batch, rtol=0, atol=1e-6)


def test_a_residual_stack_adds_each_layers_input_to_its_output(table):
    """With residual, layer k's output is LSTM_k(its input) + its input (k ≥ 2); without,
    the stack equals one multi-layer nn.LSTM with the same weights."""
    torch.manual_seed(0)
    plain = bilstm.Encoder(bilstm.LearnedEmbedding(table, 5), 6, table.pad_id, 3).eval()
    residual = bilstm.Encoder(bilstm.LearnedEmbedding(table, 5), 6, table.pad_id, 3,
                              residual=True).eval()
    residual.load_state_dict(plain.state_dict())
    x = torch.tensor([[2, 3, 4, 5]])
    reference = nn.LSTM(5, 6, 3, batch_first=True, bidirectional=True).eval()
    for k, layer in enumerate(plain.layers):
        for name, value in layer.state_dict().items():
            getattr(reference, name.replace("l0", f"l{k}")).data.copy_(value)
    with torch.no_grad():
        e = plain.embedder(x)
        torch.testing.assert_close(plain(x)[0], reference(e)[0], rtol=0, atol=1e-6)
        h1 = plain.layers[0](e)[0]
        h2 = plain.layers[1](h1)[0] + h1
        h3 = plain.layers[2](h2)[0] + h2
        torch.testing.assert_close(residual(x)[0], h3, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="num_layers"):
        bilstm.Encoder(bilstm.LearnedEmbedding(table, 5), 6, table.pad_id, 0)


@pytest.mark.parametrize("pooling", bilstm.Classifier.POOLING)
def test_a_classifiers_output_does_not_depend_on_padding(table, pooling):
    torch.manual_seed(0)
    encoder = bilstm.Encoder(bilstm.LearnedEmbedding(table, 5), 6, table.pad_id)
    model = bilstm.Classifier(encoder, 3, pooling)
    seq = torch.tensor([[2, 3, 4]])
    batch = torch.tensor([[2, 3, 4, table.pad_id, table.pad_id], [5, 6, 2, 3, 4]])
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(seq)[0][0], model(batch)[0][0], rtol=0, atol=1e-6)


def test_a_row_of_padding_only_and_an_unknown_pooling_are_errors(table):
    encoder = bilstm.Encoder(bilstm.LearnedEmbedding(table, 5), 6, table.pad_id)
    with pytest.raises(ValueError, match="padding only"):
        bilstm.Tagger(encoder, 5)(torch.full((1, 3), table.pad_id))
    with pytest.raises(ValueError, match="pooling"):
        bilstm.Classifier(encoder, 3, "max")


def test_a_sequence_longer_than_any_seen_in_training_is_tagged(table):
    torch.manual_seed(0)
    model = bilstm.Tagger(bilstm.Encoder(bilstm.LearnedEmbedding(table, 5), 6, table.pad_id), 5)
    long_line = torch.randint(0, table.pad_id, (1, 2000))
    assert model(long_line)[0].shape == (1, 2000, 5)


def test_the_token_table_keeps_spellings_of_words_outside_the_vocabulary(table):
    ids = table.encode(["a", "zebra", "never-seen"])
    assert ids[0] == 2 and ids[1] > table.pad_id and ids[2] == 0        # unknown: <unk>
    assert table.vocab_ids[ids].tolist() == [2, 0, 0]                   # zebra: <unk> to a vocab
    assert table.decode(ids[:2]) == ["a", "zebra"]
    assert (table.spellings[table.pad_id] == 0).all()
    zebra = table.spellings[ids[1]].tolist()
    assert zebra[0] == tokens.WORD_START and zebra[6] == tokens.WORD_END and zebra[7] == 0


def test_bag_of_words_counts_words_and_ignores_padding(table):
    model = bilstm.BagOfWords(table, 2)
    with torch.no_grad():
        model.out.weight.zero_()
        model.out.weight[1, 2] = 1.0                                     # word "a"
        model.out.bias.zero_()
    x = torch.tensor([[2, 2, 3, table.pad_id], [3, 4, 5, 6]])
    assert model(x)[0][:, 1].tolist() == [2.0, 0.0]


def test_confusion_matrix_of_a_tagger_skips_padding(table):
    class Oracle(nn.Module):
        """Tags each token with its id's parity; pads get parity too, and must not count."""

        def __init__(self):
            super().__init__()
            self.unused = nn.Parameter(torch.zeros(1))

        def forward(self, x, state=None):
            return nn.functional.one_hot(x % 2, 2).float(), None

    source = batches.PaddedBatches([[2, 3, 4], [5]], [[0, 1, 0], [1]], 2, table.pad_id)
    assert tasks.confusion_matrix(Oracle(), source, 2).tolist() == [[2, 0], [0, 2]]


def test_play_kind_batches_label_each_speech_with_its_kind(table):
    speeches = plays.speeches("valid")[:5]
    x, y = next(plays.kind_batches(speeches, table, 5, max_length=7, keep_order=True)())
    assert x.shape[1] <= 7 and y.tolist() == [plays.KINDS.index(s.kind) for s in speeches]


def test_evenly_spaced_samples_cover_the_list():
    assert plays.evenly_spaced(list(range(10)), 3) == [0, 3, 6]
    assert plays.evenly_spaced(list(range(10)), None) == list(range(10))
    assert plays.evenly_spaced(list(range(3)), 10) == [0, 1, 2]
    with pytest.raises(ValueError):
        plays.evenly_spaced([1], 0)


def test_line_ends_and_the_words_after_a_mark_by_hand():
    lines = [punctuation.tag_line("To be, or not to be."), punctuation.tag_line("Who's there?"),
             punctuation.tag_line("Nay, answer me: stand"), punctuation.tag_line("and unfold")]
    ending, on_last = punctuation.line_ends(lines)
    assert ending["period"] == ending["question"] == 0.25 and ending["none"] == 0.5
    assert on_last["period"] == on_last["question"] == 1.0 and on_last["comma"] == 0.0
    assert punctuation.words_after(lines, "comma") == [("or", 1 / 3), ("answer", 1 / 3),
                                                        ("stand", 1 / 3)]
