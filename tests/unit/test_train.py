import math

import numpy as np
import pytest
import torch
from torch import nn

from seqlm import batches, train


class TinyLM(nn.Module):
    """A small recurrent LM with dropout, so that RNG state and carried state both matter."""

    def __init__(self, vocab=12, dim=16):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.rnn = nn.RNN(dim, dim, batch_first=True)
        self.drop = nn.Dropout(0.1)
        self.out = nn.Linear(dim, vocab)

    def forward(self, x, state=None):
        h, state = self.rnn(self.drop(self.embed(x)), state)
        return self.out(self.drop(h)), state


def stream(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    return (np.arange(n) % 7 + rng.integers(0, 2, n)).astype(np.int64)  # learnable, noisy


def stream_batches():
    return batches.StreamBatches(stream(), 4, 10), batches.StreamBatches(stream(600, 1), 4, 10)


def config(tmp_path=None, **kw):
    return train.TrainConfig(**{"steps": 60, "lr": 0.01, "eval_every": 10, "progress": False,
                                "checkpoint": tmp_path / "run.pt" if tmp_path else None} | kw)


def fresh_model():
    torch.manual_seed(0)
    return TinyLM()


def test_loss_goes_down():
    model = fresh_model()
    tr, va = stream_batches()
    before = train.evaluate(model, va)
    history = train.train(model, tr, va, config())
    assert history.best_valid_loss < before - 0.5
    assert history.train_loss[-1] < history.train_loss[0]
    assert len(history.step) == 6 and history.step[-1] == 60


class Interrupt:
    """Batches that raise KeyboardInterrupt (as Ctrl-C would) after `after` of them."""

    def __init__(self, inner, after):
        self.inner, self.after, self.seen = inner, after, 0

    def __len__(self):
        return len(self.inner)

    def __call__(self, epoch=0, start=0):
        for batch in self.inner(epoch, start):
            if self.seen == self.after:
                raise KeyboardInterrupt
            self.seen += 1
            yield batch


def test_a_run_killed_half_way_and_resumed_ends_like_an_uninterrupted_one(tmp_path):
    tr, va = stream_batches()
    assert len(tr) == 75
    whole = train.train(fresh_model(), tr, va, config(tmp_path / "a", steps=200))

    model = fresh_model()
    with pytest.raises(KeyboardInterrupt):  # killed in the third epoch, 13 batches in
        train.train(model, Interrupt(tr, 163), va, config(tmp_path / "b", steps=200))
    saved = torch.load(tmp_path / "b" / "run.pt", weights_only=True)
    assert saved["step"] == 160 and saved["state"] is not None

    torch.manual_seed(123)  # the resumed process starts from different RNG state and weights
    resumed_model = TinyLM()
    resumed = train.train(resumed_model, tr, va, config(tmp_path / "b", steps=200))
    assert resumed.valid_loss == whole.valid_loss
    assert resumed.train_loss == whole.train_loss
    assert resumed.best_step == whole.best_step


def test_resuming_a_finished_run_trains_no_more(tmp_path):
    tr, va = stream_batches()
    first = train.train(fresh_model(), tr, va, config(tmp_path, steps=20))
    again = train.train(fresh_model(), tr, va, config(tmp_path, steps=20))
    assert again.valid_loss == first.valid_loss


def test_checkpoints_are_written_atomically_and_load_with_weights_only(tmp_path):
    tr, va = stream_batches()
    train.train(fresh_model(), tr, va, config(tmp_path, steps=20))
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]
    saved = torch.load(tmp_path / "run.pt", weights_only=True)
    assert set(saved) >= {"model", "optimizer", "rng", "step", "state", "best", "history"}


def test_early_stopping_keeps_the_best_weights():
    model = fresh_model()
    tr, va = stream_batches()
    history = train.train(model, tr, va, config(steps=400, lr=0.5, optimizer="sgd", patience=2))
    if history.stopped_early:
        assert len(history.step) - history.step.index(history.best_step) - 1 == 2
    assert math.isclose(train.evaluate(model, va), history.best_valid_loss, rel_tol=1e-6)


def test_clipping_bounds_each_update():
    model = fresh_model()
    tr, va = stream_batches()
    before = [p.detach().clone() for p in model.parameters()]
    train.train(model, tr, va, config(steps=1, lr=1.0, optimizer="sgd", clip=1e-3, eval_every=1))
    change = torch.sqrt(sum(((p - b) ** 2).sum() for p, b in zip(model.parameters(), before)))
    assert change <= 1e-3 * 1.0001


def test_window_and_stream_batches_resume_mid_epoch():
    windows = batches.WindowBatches(np.arange(50), context=3, batch_size=8, pad_id=0, seed=1)
    full = [x.tolist() for x, _ in windows(epoch=2)]
    assert [x.tolist() for x, _ in windows(epoch=2, start=3)] == full[3:]
    assert full != [x.tolist() for x, _ in windows(epoch=3)]  # reshuffled each epoch
    x, y = next(batches.WindowBatches(np.arange(1, 10), 3, 100, pad_id=0, shuffle=False)(0))
    assert x[0].tolist() == [0, 0, 0] and x[4].tolist() == [2, 3, 4] and y[4] == 5
    streams = batches.StreamBatches(np.arange(41), batch_size=2, bptt=4)
    first, second = list(streams(0))[:2]
    assert first[0].tolist() == [[0, 1, 2, 3], [20, 21, 22, 23]]
    assert first[1].tolist() == [[1, 2, 3, 4], [21, 22, 23, 24]]
    assert second[0][:, 0].tolist() == [4, 24]  # each row continues the one before


@pytest.mark.parametrize("bad", [dict(steps=0), dict(optimizer="adam"), dict(lr=0), dict(clip=-1)])
def test_bad_configs(bad):
    with pytest.raises(ValueError):
        train.TrainConfig(**{"steps": 10} | bad)


def test_cosine_schedule_with_warmup():
    config = train.TrainConfig(steps=110, lr=1.0, schedule="cosine", warmup=10)
    factors = [train.learning_rate_factor(config, s) for s in range(110)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert factors[10] == pytest.approx(1.0) and factors[60] == pytest.approx(0.5)
    assert all(a >= b for a, b in zip(factors[10:], factors[11:]))  # decays monotonically
    assert factors[-1] < 1e-3
    constant = train.TrainConfig(steps=5)
    assert [train.learning_rate_factor(constant, s) for s in range(5)] == [1.0] * 5


def test_the_schedule_reaches_the_optimiser_and_survives_a_resume(tmp_path):
    tr, va = stream_batches()
    kw = dict(steps=40, schedule="cosine", warmup=5)
    whole = train.train(fresh_model(), tr, va, config(tmp_path / "a", **kw))
    model = fresh_model()
    with pytest.raises(KeyboardInterrupt):
        train.train(model, Interrupt(tr, 25), va, config(tmp_path / "b", **kw))
    resumed = train.train(TinyLM(), tr, va, config(tmp_path / "b", **kw))
    assert resumed.valid_loss == whole.valid_loss


def test_mixed_precision_is_ignored_on_the_cpu():
    tr, va = stream_batches()
    plain = train.train(fresh_model(), tr, va, config(steps=20))
    amp = train.train(fresh_model(), tr, va, config(steps=20, amp=True))
    assert amp.valid_loss == plain.valid_loss


def test_token_losses_average_to_the_evaluated_loss():
    model = fresh_model()
    _, va = stream_batches()
    losses = train.token_losses(model, va)
    assert losses.shape == (sum(y.numel() for _, y in va()),)
    assert math.isclose(losses.double().mean().item(), train.evaluate(model, va), rel_tol=1e-6)


def test_checkpoints_keep_every_random_generator(tmp_path):
    tr, va = stream_batches()
    train.train(fresh_model(), tr, va, config(tmp_path, steps=10))
    saved = torch.load(tmp_path / "run.pt", weights_only=True)
    assert "cpu" in saved["rng"]
    assert ("cuda" in saved["rng"]) == torch.cuda.is_available()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_run_resumed_on_the_gpu_ends_like_an_uninterrupted_one(tmp_path):
    tr, va = stream_batches()  # dropout on a GPU draws from CUDA's generator
    whole = train.train(fresh_model(), tr, va, config(tmp_path / "a", steps=120), "cuda")
    with pytest.raises(KeyboardInterrupt):
        train.train(fresh_model(), Interrupt(tr, 90), va, config(tmp_path / "b", steps=120), "cuda")
    torch.cuda.manual_seed_all(99)
    resumed = train.train(TinyLM(), tr, va, config(tmp_path / "b", steps=120), "cuda")
    assert resumed.valid_loss == whole.valid_loss and resumed.train_loss == whole.train_loss


@pytest.mark.parametrize("bad", [dict(schedule="linear"), dict(warmup=-1), dict(weight_decay=-1),
                                 dict(lr=float("nan"))])
def test_more_bad_configs(bad):
    with pytest.raises(ValueError):
        train.TrainConfig(**{"steps": 10} | bad)


class ScriptedScore:
    """A validation score that follows a script, whatever the model does, and remembers
    the weights and the mode it was called with."""

    def __init__(self, values):
        self.values, self.calls = list(values), []

    def __call__(self, model):
        self.calls.append((model.out.weight.detach().clone(), model.training,
                           torch.is_grad_enabled()))
        return self.values[len(self.calls) - 1]


def test_a_score_chooses_the_kept_weights_and_stops_early_instead_of_the_loss():
    model = fresh_model()
    tr, va = stream_batches()
    score = ScriptedScore([0.9, 0.4, 0.6, 0.5, 0.7, 0.1])
    history = train.train(model, tr, va, config(patience=3), score=score)
    assert history.valid_score == [0.9, 0.4, 0.6, 0.5, 0.7]  # 3 evaluations without a gain
    assert history.stopped_early and history.best_step == 20
    assert history.best_valid_score == 0.4
    assert history.best_valid_loss == history.valid_loss[1]  # the kept weights' loss
    assert torch.equal(model.out.weight, score.calls[1][0])  # the weights scored 0.4
    assert not any(training or grad for _, training, grad in score.calls)
    assert model.training                                    # back in training mode


def test_without_a_score_the_loss_chooses_as_before():
    tr, va = stream_batches()
    plain = train.train(fresh_model(), tr, va, config())
    assert plain.valid_score == [] and plain.best_valid_score == math.inf
    assert plain.best_valid_loss == min(plain.valid_loss)
    assert plain.best_step == plain.step[plain.valid_loss.index(min(plain.valid_loss))]


def test_train_all_passes_each_run_its_score():
    tr, va = stream_batches()
    score = ScriptedScore([3.0, 1.0, 2.0])
    scored, plain = train.train_all([(fresh_model(), tr, va, config(steps=30), score),
                                     (fresh_model(), tr, va, config(steps=30))], "cpu")
    assert scored.valid_score == [3.0, 1.0, 2.0] and scored.best_step == 20
    assert plain.valid_score == []
