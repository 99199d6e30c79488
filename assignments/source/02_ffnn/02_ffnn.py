# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Assignment 2: the neural probabilistic language model
#
# Goes with Chapter 2. You will compute the model of Bengio et al. (2003) from
# its weights, without `nn.Linear`:
#
# $$x = [C(w_{t-n+1}); \dots; C(w_{t-1})], \qquad y = b + W x + U \tanh(d + H x).$$
#
# | part | function | points |
# | --- | --- | --- |
# | A | `features(context, C)` | 3 |
# | B | `scores(x, H, d, U, b, W)` | 3 |
#
# Write your code where it says `YOUR CODE HERE`. Visible tests give quick
# feedback; hidden tests decide the grade. Restart and run all before you submit.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import torch

from seqlm import ffnn

def check_close(got, want, what, tol=1e-6):
    """A visible-test helper: got must be a tensor of want's shape, equal within tol."""
    assert isinstance(got, torch.Tensor), f"{what}: return a tensor, not {type(got).__name__}"
    assert got.shape == want.shape, f"{what}: shape {tuple(got.shape)}, expected {tuple(want.shape)}"
    assert torch.allclose(got, want, atol=tol, rtol=0), f"{what}: values differ"

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_a_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part A: the feature vector (3 points)
#
# `context` is a (B, n-1) tensor of word ids and `C` the (|V|, m) table of
# feature vectors. Return the (B, (n-1) m) tensor whose row b is the
# concatenation of the feature vectors of context[b], oldest word first.

# %% nbgrader={"grade": false, "grade_id": "features", "locked": false, "schema_version": 3, "solution": true, "task": false}
def features(context, C):
    """[C(w_1); ...; C(w_{n-1})] for every row of context: (B, (n-1) m)."""
    ### BEGIN SOLUTION
    return C[context].reshape(context.shape[0], -1)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_features", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
C = torch.arange(12.0).reshape(4, 3)  # 4 words, m = 3
check_close(features(torch.tensor([[1, 3]]), C), torch.tensor([[3.0, 4, 5, 9, 10, 11]]), "features")
### BEGIN HIDDEN TESTS
import importlib
import seqlm.ffnn
_ffnn = importlib.reload(seqlm.ffnn)
_g = torch.Generator().manual_seed(11)
for _n, _B in ((2, 1), (4, 5), (6, 3)):
    _model = _ffnn.NeuralLM(30, _n - 1, 7, 5)
    _context = torch.randint(0, 30, (_B, _n - 1), generator=_g)
    _want = _model.C(_context).flatten(1).detach()
    _got = features(_context, _model.C.weight.detach())
    assert isinstance(_got, torch.Tensor) and _got.shape == _want.shape, "features: shape"
    assert float((_got - _want).abs().max()) < 1e-6, f"features, n={_n}"
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "part_b_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Part B: the scores (3 points)
#
# Return $y = b + W x + U \tanh(d + H x)$ for a batch of feature vectors
# `x` (B, (n-1) m). Shapes as in `nn.Linear`: `H` is (h, (n-1) m), `d` (h,),
# `U` (|V|, h), `b` (|V|,), `W` (|V|, (n-1) m). When `W` is None (no direct
# connections) leave out the $W x$ term.

# %% nbgrader={"grade": false, "grade_id": "scores", "locked": false, "schema_version": 3, "solution": true, "task": false}
def scores(x, H, d, U, b, W=None):
    """The unnormalised scores y for every word of the vocabulary: (B, |V|)."""
    ### BEGIN SOLUTION
    y = b + torch.tanh(d + x @ H.T) @ U.T
    if W is not None:
        y = y + x @ W.T
    return y
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_scores", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
x = torch.ones(1, 2)
H, d = torch.zeros(3, 2), torch.zeros(3)
U, b = torch.ones(4, 3), torch.arange(4.0)
check_close(scores(x, H, d, U, b), torch.arange(4.0).unsqueeze(0), "scores with tanh(0) = 0")
### BEGIN HIDDEN TESTS
import importlib
import seqlm.ffnn
_ffnn = importlib.reload(seqlm.ffnn)
_g = torch.Generator().manual_seed(12)
for _direct in (True, False):
    _model = _ffnn.NeuralLM(25, 3, 4, 6, direct=_direct)
    _context = torch.randint(0, 25, (5, 3), generator=_g)
    with torch.no_grad():
        _want, _ = _model(_context)
        _x = _model.C(_context).flatten(1)
        _got = scores(_x, _model.H.weight, _model.H.bias, _model.U.weight, _model.U.bias,
                      _model.W.weight if _direct else None)
    assert isinstance(_got, torch.Tensor) and _got.shape == _want.shape, "scores: shape"
    assert float((_got - _want).abs().max()) < 1e-5, f"scores, direct={_direct}"
### END HIDDEN TESTS
