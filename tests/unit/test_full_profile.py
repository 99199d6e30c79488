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
