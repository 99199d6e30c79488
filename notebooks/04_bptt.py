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

# %% tags=["hide-input"]
# Colab: install the course package when it is missing. Elsewhere this does nothing.
import importlib.util
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("seqlm") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "seqlm @ git+https://github.com/seqlm-course/sequence-models"], check=True)

# %% tags=["parameters"]
profile = None      # smoke | cpu | full | auto; None: $SEQLM_PROFILE, else auto
device = None       # cpu | cuda | auto; None: $SEQLM_DEVICE, else auto
seed = 0
results_dir = None  # where the headline numbers go; None: _build/results
quiet = None        # True: no progress bars; None: quiet under CI

# %% tags=["hide-input"]
import time

import matplotlib.pyplot as plt
import torch

from seqlm import batches, bptt, config, results, rnn, tasks, train, viz

setup = config.setup("04_bptt", profile, device, seed, results_dir, quiet)
size, timer = setup.size, results.Timer()
print(f"profile {setup.profile}, device {setup.device}")

# %% [markdown]
# # 4. Backpropagation through time
#
# Chapter 3 trained recurrent networks with `loss.backward()`. This chapter
# opens that call: it derives the gradient of a recurrent network's loss,
# writes it by hand, checks it against autograd, and shows what the usual
# shortcut, *truncated* backpropagation through time, costs and what it cannot
# learn {cite}`werbos1990backpropagation`.

# %% [markdown]
# ## 4.1 Unrolling
#
# A recurrent network run for $T$ steps is a feed-forward network $T$ layers
# deep in which every layer has the same weights:
#
# $$a_t = W_{xh} x_t + W_{hh} h_{t-1} + b_h, \qquad h_t = f(a_t), \qquad o_t = W_{hy} h_t + b_y,$$
#
# $$L = \frac{1}{T} \sum_{t=1}^{T} L_t, \qquad L_t = -\ln \mathrm{softmax}(o_t)_{y_t}.$$
#
# Backpropagation through this unrolled graph is **backpropagation through
# time** (BPTT). Because the weights are shared, each weight's gradient is a sum
# of one contribution per step.

# %% [markdown]
# ## 4.2 The gradient
#
# Write $\delta_t = \partial L / \partial a_t$. The state $h_t$ influences the
# loss in two ways: through its own output $o_t$, and through $a_{t+1}$, the
# next step. The chain rule adds the two, then passes through $f$:
#
# $$\frac{\partial L}{\partial o_t} = \frac{1}{T}\big(\mathrm{softmax}(o_t) - e_{y_t}\big), \qquad
# \delta_t = \Big(W_{hy}^\top \frac{\partial L}{\partial o_t} + W_{hh}^\top \delta_{t+1}\Big) \odot f'(a_t), \qquad \delta_{T+1} = 0.$$
#
# Sweeping $t$ from $T$ down to 1 gives every $\delta_t$, and then
#
# $$\frac{\partial L}{\partial W_{hh}} = \sum_{t=1}^{T} \delta_t\, h_{t-1}^\top, \quad
# \frac{\partial L}{\partial W_{xh}} = \sum_{t} \delta_t\, x_t^\top, \quad
# \frac{\partial L}{\partial b_h} = \sum_t \delta_t, \quad
# \frac{\partial L}{\partial W_{hy}} = \sum_t \frac{\partial L}{\partial o_t} h_t^\top .$$
#
# Unrolling the recursion for $\delta$ shows what the sum contains: the part of
# $\partial L_t / \partial W_{hh}$ that comes from step $k \le t$ carries a
# product of Jacobians,
#
# $$\frac{\partial h_t}{\partial h_k} = \prod_{j=k+1}^{t} \frac{\partial h_j}{\partial h_{j-1}}
# = \prod_{j=k+1}^{t} \mathrm{diag}\big(f'(a_j)\big)\, W_{hh},$$
#
# a product of $t-k$ matrices. Whether it shrinks or grows with $t-k$ is the
# subject of Chapter 5.

# %% [markdown]
# ## 4.3 By hand
#
# `seqlm.bptt.backward` is the derivation above, line by line (batched, and
# averaged over the batch as well):

# %%
viz.show_source(bptt.backward)

# %% [markdown]
# It must agree with autograd. In float64, for random sizes, lengths and
# activations, the largest difference over all gradients is at the level of
# rounding errors; `torch.autograd.gradcheck` compares it with finite
# differences as well. (A unit test checks hundreds of random cases.)

# %%
gen = torch.Generator().manual_seed(seed)
worst = 0.0
for B, T, D, H, K, activation in [(2, 7, 3, 5, 4, "tanh"), (3, 15, 4, 6, 5, "sigmoid"),
                                  (1, 30, 2, 8, 3, "relu")]:
    params = bptt.init_params(D, H, K, generator=gen)
    x = torch.randn(B, T, D, dtype=torch.float64, generator=gen)
    y = torch.randint(0, K, (B, T), generator=gen)
    leaves = {k: v.clone().requires_grad_() for k, v in params.items()}
    bptt.forward(leaves, x, y, activation=activation)[0].backward()
    ours = bptt.backward(params, bptt.forward(params, x, y, activation=activation)[1])
    gap = max((ours[k] - leaves[k].grad).abs().max().item() for k in bptt.PARAMETERS)
    print(f"{activation:7s} T={T:2d}: largest difference from autograd {gap:.1e}")
    worst = max(worst, gap)
assert worst < 1e-10

# %%
params = bptt.init_params(3, 4, 3, generator=gen)
x, y = torch.randn(2, 6, 3, dtype=torch.float64, generator=gen), torch.randint(0, 3, (2, 6))
inputs = [torch.zeros(2, 4, dtype=torch.float64)] + [params[k] for k in bptt.PARAMETERS]
inputs = [t.clone().requires_grad_() for t in inputs]
assert torch.autograd.gradcheck(lambda *a: bptt.BPTT.apply(x, y, *a), inputs)
print("gradcheck passed")

# %% [markdown]
# ## 4.4 Truncated BPTT: what a long sequence costs
#
# The backward pass needs every $h_t$ of the forward pass, so full BPTT stores
# activations for all $T$ steps and its memory grows linearly with $T$, as does
# its time. **Truncated BPTT** reads the sequence in windows of $k$ steps,
# carries the state from window to window, but calls `detach()` on it at each
# window's start: the gradient stops there. Memory then depends on $k$ only.
# This is what Chapter 3's training loop did. We measure both on a small
# recurrent LM: bytes that autograd saves for the backward pass, and seconds.

# %%
model = rnn.RNNLM(50, 32, 128).to(setup.device)
k = min(size["lengths"])  # the truncation length


def truncated(x, k):
    """Windows of k steps, the state carried but detached; the peak saved bytes."""
    state, peak = None, 0
    for start in range(0, x.shape[1], k):
        piece = x[:, start:start + k]
        (loss, state), saved = bptt.saved_activation_bytes(lambda: _window_loss(piece, state))
        loss.backward()
        state, peak = train.detach(state), max(peak, saved)
    return peak


def _window_loss(x, state):
    logits, state = model(x, state)
    return logits.logsumexp(-1).mean(), state


def full(x):
    """The whole sequence as one window: the gradient reaches every step."""
    return _window_loss(x, None)[0]

# %%
cost = {"full": {}, "truncated": {}}
for T in size["lengths"]:
    x = torch.randint(0, 50, (16, T), device=setup.device)
    started = time.perf_counter()
    loss, saved = bptt.saved_activation_bytes(lambda: full(x))
    loss.backward()
    cost["full"][T] = (saved, time.perf_counter() - started)
    started = time.perf_counter()
    cost["truncated"][T] = (truncated(x, k), time.perf_counter() - started)
    print(f"T={T:4d}: full {cost['full'][T][0] / 2**20:6.2f} MiB {cost['full'][T][1]:.3f} s   "
          f"truncated (k={k}) {cost['truncated'][T][0] / 2**20:5.2f} MiB "
          f"{cost['truncated'][T][1]:.3f} s")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
for name, by_length in cost.items():
    lengths = list(by_length)
    left.plot(lengths, [by_length[T][0] / 2**20 for T in lengths], marker="o", label=name)
    right.plot(lengths, [by_length[T][1] for T in lengths], marker="o", label=name)
left.set(xlabel="sequence length T", ylabel="MiB saved for backward", title="Memory")
right.set(xlabel="sequence length T", ylabel="seconds", title="Time (forward + backward)")
left.legend()
plt.show()
lengths = size["lengths"]
ratio = lengths[-1] / lengths[0]
assert cost["full"][lengths[-1]][0] > 0.8 * ratio * cost["full"][lengths[0]][0]  # linear in T
assert len({cost["truncated"][T][0] for T in lengths}) == 1                       # flat in T

# %% [markdown]
# ## 4.5 What truncation cannot learn
#
# The price of truncation: no gradient connects an output to an input more
# than $k$ steps back, so a dependency longer than the window cannot be
# *learnt*, even though the carried state could in principle hold it. The
# **echo task** makes this exact: read random symbols from an alphabet of 4 and
# output, at every step, the symbol read `delay` steps ago. Guessing gives 25 %.
# We train the same small RNN with several windows $k$, on the same number of
# symbols each, and measure accuracy on a fresh stream.

# %%
delay, accuracy = size["delay"], {}
for k in size["bptt_lengths"]:
    torch.manual_seed(seed)
    echo_model = rnn.RNNLM(4, 8, size["hidden_size"])
    echo = batches.EchoBatches(4, delay, size["echo_batch_size"], k, size["row_tokens"] // k,
                               seed=1)
    check = batches.EchoBatches(4, delay, 8, 50, 4, seed=2)
    train.train(echo_model, echo, check, train.TrainConfig(
        steps=len(echo), lr=size["lr"], eval_every=len(echo), progress=not setup.quiet),
        setup.device)
    accuracy[k] = tasks.accuracy(echo_model, check, skip=delay)
    print(f"window k={k:2d} (delay {delay}): accuracy {accuracy[k]:.1%}")

# %%
plt.bar([str(k) for k in accuracy], list(accuracy.values()))
plt.axhline(0.25, color="grey", ls=":", label="chance")
plt.gca().set(xlabel="truncation window k", ylabel="echo accuracy",
              title=f"Remembering a symbol for {delay} steps")
plt.legend()
plt.show()
if setup.profile != "smoke":
    assert all(accuracy[k] < 0.4 for k in accuracy if k <= delay)      # cannot learn it
    assert all(accuracy[k] > 0.9 for k in accuracy if k >= 2 * delay)  # learns it

# %% [markdown]
# With $k \le$ `delay` the network stays at chance: every window starts after
# the symbol it has to recall, so the gradient never reaches it. With a window
# of twice the delay or more it learns the task outright. Choosing $k$ is a trade:
# memory and time against the longest dependency the model can learn.

# %% [markdown]
# ## 4.6 Results

# %%
headline = {f"echo accuracy, delay {delay}, window {k}": a for k, a in accuracy.items()}
headline |= {f"MiB saved for backward, full BPTT, T={T}": cost["full"][T][0] / 2**20
             for T in size["lengths"]}
path = results.save(setup, headline, timer.seconds)
print(f"{len(headline)} numbers written to {path} after {timer.seconds:.1f} s")

# %% [markdown]
# ## Exercises
#
# 1. **Jacobians.** For a trained echo model, compute $\lVert \partial h_t / \partial h_k \rVert$
#    for $t - k = 1 \dots 20$ with autograd and plot it on a log scale.
# 2. **Memory.** Predict the bytes saved by full BPTT for $T = 1000$ from the
#    table above, then measure it.
# 3. **Windows.** With `delay` = 4, find the smallest window that learns the
#    echo task. Explain why it is larger than 4.
# 4. **Graded assignment.** Implement `backward` yourself; hidden tests compare
#    it with autograd (assignment `04_bptt`).
