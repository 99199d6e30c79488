import pytest
import torch

from seqlm import batches, bptt, rnn, tasks


def test_echo_targets_are_the_inputs_delay_steps_back():
    echo = batches.EchoBatches(symbols=5, delay=3, batch_size=2, bptt=4, batches=3)
    xs, ys = zip(*echo())
    x, y = torch.cat(xs, 1), torch.cat(ys, 1)
    assert torch.equal(y[:, 3:], x[:, :-3])
    assert len(echo) == 3 and [b[0].tolist() for b in echo(start=1)] == [xs[1].tolist(), xs[2].tolist()]
    with pytest.raises(ValueError):
        batches.EchoBatches(1, 3, 2, 4, 3)


def test_accuracy_of_a_perfect_and_a_constant_model():
    class Copy(torch.nn.Module):  # outputs the true target, read from a side channel
        def __init__(self, source):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))
            self.targets = iter([y for _, y in source()])

        def forward(self, x, state=None):
            return torch.nn.functional.one_hot(next(self.targets), 4).float(), state

    echo = batches.EchoBatches(4, 2, 3, 5, 4)
    assert tasks.accuracy(Copy(echo), echo) == 1.0
    model = rnn.RNNLM(4, 3, 3)
    assert 0.0 <= tasks.accuracy(model, echo, skip=2) <= 1.0
    assert model.training, "accuracy puts the model back in the mode it found it in"


def test_saved_activation_memory_grows_with_length():
    model = rnn.RNNLM(10, 8, 16)
    sizes = []
    for T in (10, 20, 40):
        x = torch.randint(0, 10, (2, T))
        _, saved = bptt.saved_activation_bytes(lambda: model(x)[0].sum())
        sizes.append(saved)
    assert sizes[0] < sizes[1] < sizes[2]
    assert sizes[2] > 3 * sizes[0]
