import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlm import bptt


def problem(B, T, input_size, hidden_size, classes, seed):
    g = torch.Generator().manual_seed(seed)
    params = bptt.init_params(input_size, hidden_size, classes, generator=g)
    x = torch.randn(B, T, input_size, dtype=torch.float64, generator=g)
    y = torch.randint(0, classes, (B, T), generator=g)
    h0 = torch.randn(B, hidden_size, dtype=torch.float64, generator=g) * 0.5
    return params, x, y, h0


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(1, 12), st.integers(1, 5), st.integers(1, 6),
       st.integers(2, 6), st.sampled_from(sorted(bptt.ACTIVATIONS)), st.integers(0, 10_000))
def test_hand_written_gradients_equal_autograd(B, T, input_size, hidden_size, classes,
                                               activation, seed):
    params, x, y, h0 = problem(B, T, input_size, hidden_size, classes, seed)
    leaves = {k: v.clone().requires_grad_() for k, v in params.items()}
    h0_leaf = h0.clone().requires_grad_()
    loss, _ = bptt.forward(leaves, x, y, h0_leaf, activation)
    loss.backward()
    _, cache = bptt.forward(params, x, y, h0, activation)
    ours = bptt.backward(params, cache)
    for name in bptt.PARAMETERS:
        torch.testing.assert_close(ours[name], leaves[name].grad, rtol=0, atol=1e-10, msg=name)
    torch.testing.assert_close(ours["h0"], h0_leaf.grad, rtol=0, atol=1e-10)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_gradcheck_passes(activation):
    params, x, y, h0 = problem(2, 5, 3, 4, 3, seed=7)
    inputs = [h0] + [params[k] for k in bptt.PARAMETERS]
    inputs = [t.clone().requires_grad_() for t in inputs]
    assert torch.autograd.gradcheck(lambda *a: bptt.BPTT.apply(x, y, *a, activation), inputs)


def test_unknown_activation():
    params, x, y, h0 = problem(1, 2, 2, 2, 2, 0)
    with pytest.raises(ValueError, match="tanh"):
        bptt.forward(params, x, y, h0, "softplus")


def test_autograd_function_accepts_no_initial_state():
    params, x, y, _ = problem(2, 4, 3, 4, 3, seed=3)
    leaves = [params[k].clone().requires_grad_() for k in bptt.PARAMETERS]
    bptt.BPTT.apply(x, y, None, *leaves).backward()  # h0=None means zeros, as in forward
    reference = {k: v.clone().requires_grad_() for k, v in params.items()}
    bptt.forward(reference, x, y, None)[0].backward()
    for name, leaf in zip(bptt.PARAMETERS, leaves):
        torch.testing.assert_close(leaf.grad, reference[name].grad, rtol=0, atol=1e-12)
