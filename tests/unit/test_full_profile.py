"""The `full` profile's model shapes run on the CPU for a few steps.

The `full` sizes are meant for a GPU and are checked there; these tests make
sure that nothing in them only breaks once a GPU is at hand: every model builds
from its sizes, and two training steps run on batches of the full shapes."""

import pytest
import torch

from seqlm import batches, config, ffnn, rnn, tasks, train

V = 10_835  # the book's word vocabulary


def two_steps(model, source, train_config):
    history = train.train(model, source, source, train_config.replace(
        steps=2, eval_every=2, eval_batches=1, warmup=0, progress=False), "cpu")
    assert len(history.valid_loss) == 1 and torch.isfinite(torch.tensor(history.valid_loss[0]))


@pytest.mark.parametrize("n", config.sizes("02_ffnn", "full")["orders"])
def test_chapter_2(n):
    size = config.sizes("02_ffnn", "full")
    ids = torch.randint(0, V, (3 * size["batch_size"],)).numpy()
    model = ffnn.NeuralLM(V, n - 1, **size["model"])
    two_steps(model, batches.WindowBatches(ids, n - 1, size["batch_size"], 1), size["train"])


@pytest.mark.parametrize("level", ["word", "char"])
def test_chapter_3(level):
    size = config.sizes("03_rnn", "full")
    prefix = "" if level == "word" else "char_"
    vocab = V if level == "word" else 80
    rows, bptt = size[f"{prefix}batch_size"], size[f"{prefix}bptt"]
    ids = torch.randint(0, vocab, (rows * (2 * bptt + 1),)).numpy()
    model = rnn.RNNLM(vocab, **size[f"{prefix}model"])
    if level == "word":
        assert model.out.weight is model.embed.weight  # tied
    two_steps(model, batches.StreamBatches(ids, rows, bptt), size[f"{prefix}train"])


@pytest.mark.parametrize("level", ["word", "char"])
def test_chapter_6(level):
    size = config.sizes("06_lstm", "full")
    prefix = "" if level == "word" else "char_"
    vocab = V if level == "word" else 80
    rows, bptt = size[f"{prefix}batch_size"], 8  # the full width and depth, a short window
    ids = torch.randint(0, vocab, (rows * (2 * bptt + 1),)).numpy()
    for label, changes in (("full recipe", {}),) + (size["ablation"] if level == "word" else ()):
        model = rnn.RNNLM(vocab, **(size[f"{prefix}model"] | changes))
        two_steps(model, batches.StreamBatches(ids, rows, bptt), size[f"{prefix}train"])


def test_chapter_6_adding():
    size = config.sizes("06_lstm", "full")
    for length in size["adding_lengths"]:
        model = tasks.LastStateRegressor("lstm", 2, size["adding_hidden_size"], forget_bias=1.0)
        two_steps(model, batches.AddingBatches(length, size["adding_batch_size"], 3),
                  size["adding_train"])


def test_chapter_5():
    size = config.sizes("05_gradients", "full")
    for length in size["adding_lengths"]:
        for init in ("default", "orthogonal", "identity"):
            model = tasks.LastStateRegressor("rnn", 2, size["adding_hidden_size"],
                                             nonlinearity="relu" if init == "identity" else "tanh",
                                             init=init)
            two_steps(model, batches.AddingBatches(length, size["adding_batch_size"], 3),
                      size["adding_train"])
    ids = torch.randint(0, 80, (16 * 41,)).numpy()
    model = rnn.RNNLM(80, 32, size["explode_hidden_size"], nonlinearity="relu")
    two_steps(model, batches.StreamBatches(ids, 16, 40), size["explode_train"])


@pytest.mark.parametrize("level", ["word", "char"])
def test_chapter_7(level):
    from seqlm import layers

    size = config.sizes("07_gru", "full")
    prefix = "word_" if level == "word" else "char_"
    vocab, embed = (V, size["word_embed_size"]) if level == "word" else (80, 32)
    rows, bptt = size["batch_size" if level == "word" else "char_batch_size"], 8
    ids = torch.randint(0, vocab, (rows * (2 * bptt + 1),)).numpy()
    budget = layers.parameter_count(rnn.RNNLM(vocab, embed, size[f"{prefix}hidden_size"],
                                              cell="lstm"))
    for cell in ("rnn", "lstm", "gru"):
        hidden = layers.matching_size(budget, lambda H: layers.parameter_count(
            rnn.RNNLM(vocab, embed, H, cell=cell)), high=4 * size[f"{prefix}hidden_size"])
        model = rnn.RNNLM(vocab, embed, hidden, cell=cell)
        assert abs(layers.parameter_count(model) - budget) / budget < 0.02
        two_steps(model, batches.StreamBatches(ids, rows, bptt),
                  size[f"{prefix}train"].replace(lr=size["lr"][cell]))
    for length in size["adding_lengths"]:
        for variant in ("no_forget", "no_output", "coupled"):
            model = tasks.LastStateRegressor("lstm", 2, size["adding_hidden_size"],
                                             forget_bias=1.0, variant=variant)
            two_steps(model, batches.AddingBatches(length, 64, 3), size["adding_train"])


@pytest.fixture(scope="module")
def table():
    from seqlm import tokens

    return tokens.plays_table()


def tagging_source(table, rows):
    from seqlm import punctuation

    lines = punctuation.lines("valid")[:rows]
    return punctuation.batches(lines, table, rows)


def test_chapter_8(table):
    from seqlm import bilstm, plays, punctuation

    size = config.sizes("08_bilstm", "full")
    source = tagging_source(table, size["batch_size"])
    for layers, residual in ((1, False),) + tuple(size["stacks"]):
        embedder = bilstm.LearnedEmbedding(table, size["embed_size"])
        encoder = bilstm.Encoder(embedder, size["hidden_size"], table.pad_id, layers,
                                 dropout=size["dropout"], residual=residual)
        recipe = size["tag_train"].in_passes(len(source), size["tag_passes"])
        two_steps(bilstm.Tagger(encoder, len(punctuation.LABELS)), source, recipe)
    speeches = plays.kind_batches(plays.speeches("valid")[:size["batch_size"]], table,
                                  size["batch_size"], size["max_speech_tokens"])
    embedder = bilstm.LearnedEmbedding(table, size["embed_size"])
    encoder = bilstm.Encoder(embedder, size["kind_hidden_size"], table.pad_id)
    two_steps(bilstm.Classifier(encoder, 3), speeches, size["kind_train"])
    two_steps(bilstm.BagOfWords(table, 3), speeches, size["bow_train"])


def test_chapter_9(table):
    from seqlm import bilstm, elmo, punctuation

    size = config.sizes("09_elmo", "full")
    counts = torch.ones(table.pad_id)
    bilm = elmo.BiLM(table, counts, size["bilm_size"], samples=size["samples"])
    ids = torch.randint(0, table.pad_id, (size["bilm_batch_size"] * 2 * size["bilm_bptt"],))
    stream = batches.AlignedStreams(ids.numpy(), ids.numpy(), size["bilm_batch_size"],
                                    size["bilm_bptt"])
    two_steps(bilm, stream, size["bilm_train"])
    source = tagging_source(table, size["batch_size"])
    frozen = elmo.FrozenBiLM(bilm, eos_id=1)
    for kind in elmo.ElmoInput.KINDS:
        inputs = elmo.ElmoInput(kind, table, size["embed_size"],
                                frozen if kind != "learned" else None, layer_norm=True)
        encoder = bilstm.Encoder(inputs, size["hidden_size"], table.pad_id,
                                 dropout=size["dropout"])
        recipe = size["tag_train"].in_passes(len(source), size["passes"][1.0])
        two_steps(bilstm.Tagger(encoder, len(punctuation.LABELS)), source, recipe)


def test_chapter_10():
    from seqlm import g2p, seq2seq

    size = config.sizes("10_seq2seq", "full")
    entries = g2p.entries("valid", size["batch_size"])
    source = g2p.PairedBatches(g2p.pairs(entries), size["batch_size"])
    for score in (None, size["score"]):
        model = seq2seq.Seq2Seq(len(g2p.LETTERS) + 1, g2p.LETTER_PAD, g2p.OUTPUTS,
                                **size["model"], score=score)
        two_steps(model, source, size["train"])
        guesses = g2p.pronounce(model, [e.word for e in entries[:4]], max(size["beam_widths"]))
        assert len(guesses) == 4
