import math

import pytest
import torch
from torch import nn

from seqlm import batches, gradients, tasks, train


def test_autograd_jacobians_equal_the_product_formula():
    g = torch.Generator().manual_seed(0)
    for activation in ("tanh", "sigmoid", "relu", "linear"):
        W = gradients.random_recurrent_matrix(5, 1.2, g)
        W_ih, b = torch.randn(5, 3, dtype=torch.float64, generator=g), torch.zeros(5).double()
        x = torch.randn(9, 3, dtype=torch.float64, generator=g)
        J = gradients.state_jacobians(W, W_ih, b, x, activation=activation)
        _, pre = gradients.run(W, W_ih, b, x, activation=activation)
        for s in range(9):
            torch.testing.assert_close(J[s], gradients.jacobian_product(W, pre, s, activation),
                                       rtol=0, atol=1e-10)


def test_linear_cells_decay_at_the_spectral_radius_and_the_bound_holds():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(60, 16, dtype=torch.float64, generator=g)
    for radius in (0.6, 1.3):
        W = gradients.random_recurrent_matrix(16, radius, g)
        norms = gradients.norms_by_distance(gradients.state_jacobians(
            W, torch.eye(16).double(), torch.zeros(16).double(), x, activation="linear"))
        rate = gradients.fitted_rate(norms, skip=10)
        assert abs(rate - radius) < 0.05 * radius
        assert rate <= gradients.bound_rate(W, "linear")
        assert gradients.spectral_radius(W) == pytest.approx(radius)


def test_clipping_by_norm_equals_torch_and_keeps_the_direction():
    torch.manual_seed(2)
    a, b = nn.Linear(5, 3), nn.Linear(5, 3)
    b.load_state_dict(a.state_dict())
    a(torch.randn(4, 5)).pow(2).sum().backward()
    for p, q in zip(a.parameters(), b.parameters()):
        q.grad = p.grad.clone()
    before = torch.cat([p.grad.flatten() for p in a.parameters()])
    ours = gradients.clip_grad_norm(a.parameters(), 0.1)
    theirs = torch.nn.utils.clip_grad_norm_(b.parameters(), 0.1)
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-6)
    after = torch.cat([p.grad.flatten() for p in a.parameters()])
    torch.testing.assert_close(after, torch.cat([q.grad.flatten() for q in b.parameters()]))
    assert after.norm().item() == pytest.approx(0.1, rel=1e-4)
    assert torch.nn.functional.cosine_similarity(before, after, dim=0) > 0.9999
    small = [torch.zeros(2, requires_grad=True)]
    small[0].grad = torch.tensor([0.03, 0.04])
    gradients.clip_grad_norm(small, 1.0)
    assert torch.equal(small[0].grad, torch.tensor([0.03, 0.04]))  # short enough: unchanged


def test_clipping_by_value_changes_the_direction():
    p = torch.zeros(3, requires_grad=True)
    p.grad = torch.tensor([4.0, 0.3, -0.2])
    gradients.clip_grad_value([p], 0.5)
    assert p.grad.tolist() == pytest.approx([0.5, 0.3, -0.2])


@pytest.mark.parametrize("call", [lambda: gradients.with_spectral_radius(torch.eye(2), 0),
                                  lambda: gradients.with_spectral_radius(torch.eye(2), -1.0),
                                  lambda: gradients.random_recurrent_matrix(0, 1.0),
                                  lambda: gradients.clip_grad_norm([], 0),
                                  lambda: batches.AddingBatches(1, 4, 1),
                                  lambda: gradients.init_recurrent_(nn.RNN(2, 2), "xavier")])
def test_bad_input_is_a_clear_error(call):
    with pytest.raises(ValueError):
        call()


def test_the_adding_problem_and_its_baseline():
    x, y = next(batches.AddingBatches(50, 8192, 1, seed=3)())
    assert x.shape == (8192, 50, 2) and torch.all(x[..., 1].sum(1) == 2)
    assert torch.all(x[:, :25, 1].sum(1) == 1)  # one marker in each half
    assert ((y - 1) ** 2).mean().item() == pytest.approx(1 / 6, abs=0.01)
    again = batches.AddingBatches(50, 8192, 3, seed=3)
    assert torch.equal(next(again(0, 0))[0], x) and not torch.equal(next(again(1, 0))[0], x)


def test_a_regressor_trains_with_the_one_loop_on_real_targets():
    torch.manual_seed(0)
    model = tasks.LastStateRegressor("lstm", 2, 8, forget_bias=1.0)
    source = batches.AddingBatches(5, 32, 50, seed=1)
    history = train.train(model, source, batches.AddingBatches(5, 256, 2, seed=2),
                          train.TrainConfig(steps=150, lr=1e-2, eval_every=50, progress=False))
    assert history.best_valid_loss < 0.1 < 1 / 6  # a short adding problem is learnt


def test_initialisations():
    layer = gradients.init_recurrent_(nn.LSTM(3, 6, batch_first=True), "orthogonal")
    for block in layer.weight_hh_l0.split(6):
        torch.testing.assert_close(torch.linalg.svdvals(block), torch.ones(6))
    irnn = gradients.init_recurrent_(nn.RNN(3, 6, nonlinearity="relu"), "identity")
    assert torch.equal(irnn.weight_hh_l0, torch.eye(6)) and irnn.bias_ih_l0.abs().sum() == 0
    lstm = gradients.set_forget_bias_(nn.LSTM(3, 4), 1.0)
    assert torch.allclose(lstm.bias_ih_l0[4:8] + lstm.bias_hh_l0[4:8], torch.ones(4))
    with pytest.raises(ValueError, match="LSTM"):
        gradients.set_forget_bias_(nn.GRU(3, 4), 1.0)


def test_the_cliff_throws_an_unclipped_step_far():
    free, clipped = (gradients.descend(7.0, -3.9, lr=0.5, steps=300, clip=c) for c in (None, 0.5))
    jump = lambda path: (path[1:] - path[:-1]).norm(dim=1).max().item()
    assert jump(free) > 5 * jump(clipped) and jump(clipped) <= 0.5 * 0.5 + 1e-9
    assert gradients.one_unit_loss(*clipped[-1]) < gradients.one_unit_loss(*free[-1])
    assert math.isfinite(gradients.one_unit_loss(torch.tensor(3.0), torch.tensor(-1.0)).item())


def test_reach_is_the_farthest_distance_above_the_floor():
    relative = torch.tensor([1.0, 0.5, 0.02, 0.005, 0.003, 0.3, 0.001])
    assert gradients.reach(relative, 0.01) == 5     # 0.3 at distance 5 is still above
    assert gradients.reach(relative, 0.6) == 0
    assert gradients.reach(relative, 2.0) == 0


def test_input_dependence_averages_relative_norms_over_windows():
    from seqlm import rnn

    torch.manual_seed(0)
    model = rnn.RNNLM(20, 4, 6).double().eval()
    ids = torch.randint(0, 20, (100,))
    curve = gradients.input_dependence(model, ids, 8, 3)
    assert curve.shape == (8,) and curve[0].item() == pytest.approx(1.0)
    by_hand = []
    for start in (0, 46, 92):
        with torch.no_grad():
            e = model.embed(ids[start:start + 8])
        norms = gradients.input_gradient_norms(model.rnn, e)
        by_hand.append(norms / norms[0])
    torch.testing.assert_close(curve, torch.stack(by_hand).mean(0))


def test_a_coupled_lstm_starts_its_forget_gate_where_a_standard_one_does():
    from seqlm import lstm

    torch.manual_seed(0)
    coupled = gradients.set_forget_bias_(lstm.CoupledLSTM(3, 4), 1.0)
    standard = gradients.set_forget_bias_(torch.nn.LSTM(3, 4, batch_first=True), 1.0)
    for layer in (coupled, standard):
        for p in layer.parameters():
            if p.dim() == 2:
                torch.nn.init.zeros_(p)  # no weights: the gates are their biases alone
    x = torch.randn(1, 5, 3)
    forget_coupled = lstm.forget_path_norms(coupled, x[0])
    forget_standard = lstm.forget_path_norms(standard, x[0])
    torch.testing.assert_close(forget_coupled, forget_standard)
    assert forget_standard[0].item() == pytest.approx(torch.sigmoid(torch.tensor(1.0)).item())
