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
# Write your code where it says `YOUR CODE HERE`. The checks in each test cell
# give quick feedback; the grade comes from the grader, which calls your function
# on inputs it draws when it grades and compares every answer with the
# reference (warnings never fail a part). Restart and run all before you submit.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import torch

from seqlm.exercises import check_close

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
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_features", lambda c: features(c["context"], c["C"]))
### END HIDDEN TESTS
C = torch.arange(12.0).reshape(4, 3)  # 4 words, m = 3
check_close(features(torch.tensor([[1, 3]]), C), torch.tensor([[3.0, 4, 5, 9, 10, 11]]), "features")

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
### BEGIN HIDDEN TESTS
import seqlm.exercises as _grader
_grader.answer("test_scores",
               lambda c: scores(c["x"], c["H"], c["d"], c["U"], c["b"], c["W"]))
### END HIDDEN TESTS
x = torch.ones(1, 2)
H, d = torch.zeros(3, 2), torch.zeros(3)
U, b = torch.ones(4, 3), torch.arange(4.0)
check_close(scores(x, H, d, U, b), torch.arange(4.0).unsqueeze(0), "scores with tanh(0) = 0")
