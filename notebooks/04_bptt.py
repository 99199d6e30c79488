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

# %% [markdown]
# # 4. Backpropagation through time
#
# Chapter 3 trained recurrent networks with `loss.backward()`. This chapter
# opens that call: it derives the gradient of a recurrent network's loss,
# backpropagation through time {cite}`werbos1990backpropagation`, writes it by
# hand, checks it against autograd, and shows what the usual shortcut,
# *truncated* backpropagation through time {cite}`williams1990efficient`, costs
# and what it cannot learn.
#
# **In this chapter you will**
#
# - derive backpropagation through time for a recurrent network, and write it by hand;
# - check it against autograd and finite differences;
# - measure what full and truncated BPTT cost in memory and time;
# - see, on the echo task, the dependencies truncation cannot learn.

# %% tags=["hide-input"]
# Colab: install the course package when it is missing. Elsewhere this does nothing.
import importlib.util
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("seqlm") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "seqlm @ git+https://github.com/seqlm-course/sequence-models"], check=True)

# %% tags=["parameters", "hide-input"]
profile = None      # smoke | cpu | full | auto; None: $SEQLM_PROFILE, else auto
device = None       # cpu | cuda | auto; None: $SEQLM_DEVICE, else auto
seed = 0
results_dir = None  # where the headline numbers go; None: _build/results
quiet = None        # True: no progress bars; None: quiet under CI

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import torch

from seqlm import batches, bptt, config, diagrams, results, rnn, tasks, train, viz

setup = config.setup("04_bptt", profile, device, seed, results_dir, quiet)
size, timer = setup.size, results.Timer()
print(f"profile {setup.profile}, device {setup.device}")

# %% [markdown]
# ## 4.1 Unrolling
#
# A recurrent network run for $T$ steps is a feed-forward network $T$ layers
# deep in which every layer has the same weights:
#
# $$a_t = W_{ih} x_t + W_{hh} h_{t-1} + b_h, \qquad h_t = f(a_t), \qquad \ell_t = W_{hy} h_t + b_y,$$
#
# $$L = \frac{1}{T} \sum_{t=1}^{T} L_t, \qquad L_t = -\ln \mathrm{softmax}(\ell_t)_{y_t},$$
#
# where $x_t$ is the vector the layer reads at step $t$ (in a language model, the
# embedding $e_t$ of token $x_t$; in a stack, the layer below's $h_t$), $\ell_t$ are
# the output scores (logits) and $y_t$ is the target at step $t$. Backpropagation
# through this unrolled graph is **backpropagation through time** (BPTT). Because the weights are shared, each weight's gradient is a sum
# of one contribution per step. (Chapter 3's `nn.RNN` has two biases,
# $b_{ih} + b_{hh}$; one $b_h$ does the same work here.)

# %%
diagrams.unrolled_rnn(4)
plt.show()

# %% [markdown]
# ## 4.2 The gradient
#
# Write $\delta_t = \partial L / \partial a_t$, and $\mathbf{1}_{y_t}$ for the one-hot
# vector of the target (1 at $y_t$, 0 elsewhere). The state $h_t$ influences the
# loss in two ways: through its own scores $\ell_t$, and through $a_{t+1}$, the
# next step. The chain rule adds the two, then passes through $f$:
#
# $$\begin{aligned}
# \frac{\partial L}{\partial \ell_t} &= \frac{1}{T}\big(\mathrm{softmax}(\ell_t) - \mathbf{1}_{y_t}\big), \\
# \delta_t &= \Big(W_{hy}^\top \frac{\partial L}{\partial \ell_t} + W_{hh}^\top \delta_{t+1}\Big) \odot f'(a_t), \qquad \delta_{T+1} = 0.
# \end{aligned}$$
#
# Sweeping $t$ from $T$ down to 1 gives every $\delta_t$, and then
#
# $$\begin{aligned}
# \frac{\partial L}{\partial W_{hh}} &= \sum_{t=1}^{T} \delta_t\, h_{t-1}^\top, &
# \frac{\partial L}{\partial W_{ih}} &= \sum_{t=1}^{T} \delta_t\, x_t^\top, &
# \frac{\partial L}{\partial b_h} &= \sum_{t=1}^{T} \delta_t, \\
# \frac{\partial L}{\partial W_{hy}} &= \sum_{t=1}^{T} \frac{\partial L}{\partial \ell_t}\, h_t^\top, &
# \frac{\partial L}{\partial b_y} &= \sum_{t=1}^{T} \frac{\partial L}{\partial \ell_t}. &&
# \end{aligned}$$
#
# The picture: at each $h_t$ the error of its own scores (through $W_{hy}^\top$)
# and the $\delta$ of the step after (through $W_{hh}^\top$) add up to
# $\partial L / \partial h_t$; the box below multiplies that by $f'(a_t)$, element
# by element, which gives $\delta_t$, and $\delta_t$ flows on to the step before.
# So each $\delta_t$ carries every later step's error, scaled at every step it
# passed by a factor $f'$ and by $W_{hh}^\top$.

# %%
diagrams.backward_unrolled(4)
plt.show()

# %% [markdown]
#
# Unrolling the recursion for $\delta$ shows what the sum contains: the part of
# $\partial L_t / \partial W_{hh}$ that comes from an earlier step $s \le t$
# carries a product of Jacobians. Matrices do not commute, so the order
# matters: the chain rule puts the latest step on the left,
#
# $$\begin{aligned}
# \frac{\partial h_t}{\partial h_s} &= \frac{\partial h_t}{\partial h_{t-1}}\,
# \frac{\partial h_{t-1}}{\partial h_{t-2}} \cdots \frac{\partial h_{s+1}}{\partial h_s} \\
# &= \mathrm{diag}\big(f'(a_t)\big) W_{hh}\; \mathrm{diag}\big(f'(a_{t-1})\big) W_{hh}
# \cdots \mathrm{diag}\big(f'(a_{s+1})\big) W_{hh},
# \end{aligned}$$
#
# a product of $t-s$ Jacobian matrices. Whether it shrinks or grows with $t-s$ is
# the subject of Chapter 5.

# %% [markdown]
# ## 4.3 By hand
#
# `seqlm.bptt.backward` is the derivation above, line by line (batched, and
# averaged over the batch as well). One detail: it never stores $a_t$. For the
# usual activations $f'(a_t)$ is a function of $h_t = f(a_t)$, which the forward
# pass keeps anyway: $1 - h_t^2$ for tanh, $h_t(1 - h_t)$ for the sigmoid, and
# $[h_t > 0]$ for ReLU, so `f_prime` is applied to `h[:, t + 1]` (which is $h_t$,
# because `h[:, 0]` holds $h_0$).

# %%
viz.show_source(bptt.backward)

# %% [markdown]
# It must agree with autograd. In float64, for random sizes, lengths and
# activations, the largest difference over all gradients is at the level of
# rounding errors; `torch.autograd.gradcheck` compares it with finite
# differences as well. (A unit test checks 40 more random cases, drawn by
# hypothesis.)

# %%
gen = torch.Generator().manual_seed(seed)
worst = 0.0
for B, T, input_size, hidden_size, classes, activation in [
        (2, 7, 3, 5, 4, "tanh"), (3, 15, 4, 6, 5, "sigmoid"), (1, 30, 2, 8, 3, "relu")]:
    params = bptt.init_params(input_size, hidden_size, classes, generator=gen)
    x = torch.randn(B, T, input_size, dtype=torch.float64, generator=gen)
    y = torch.randint(0, classes, (B, T), generator=gen)
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
# activations for all $T$ steps: its memory grows linearly with $T$. Its time
# grows with $T$ too, and worse, it cannot be spread out: step $t$ of the
# forward pass needs $h_{t-1}$, and step $t$ of the backward pass needs
# $\delta_{t+1}$, so the $T$ steps run one after another however many
# processors there are (only the work *within* a step, over the batch and the
# units, runs in parallel). **Truncated BPTT** reads the sequence in windows of
# $K$ steps, carries the state from window to window, but calls `detach()` on it
# at each window's start: the gradient stops there. Memory then depends on $K$
# only. This is what Chapter 3's training loop did.

# %%
diagrams.truncation_windows(12, 4)
plt.show()

# %% [markdown]
# We measure both on a small recurrent LM: the bytes that autograd saves for the
# backward pass, and seconds (after a warm-up; on a GPU the clock waits for it to
# finish). What is measured is the cost of a backward pass, which does not depend
# on what the loss is, so the loss here is simply a scalar of the model's outputs
# (the mean of their log-sum-exp), with no targets to prepare.

# %%
model = rnn.RNNLM(50, 32, 128).to(setup.device)
K = min(size["lengths"])  # the truncation length


def truncated(x, K):
    """Windows of K steps, the state carried but detached; the peak saved bytes."""
    state, peak = None, 0
    for start in range(0, x.shape[1], K):
        piece = x[:, start:start + K]
        (loss, state), saved = bptt.saved_activation_bytes(lambda: _window_loss(piece, state))
        loss.backward()
        state, peak = train.detach(state), max(peak, saved)
    return peak


def _window_loss(x, state):
    """Any scalar of the outputs serves to time a backward pass: this one needs no targets."""
    logits, state = model(x, state)
    return logits.logsumexp(-1).mean(), state


def full(x):
    """The whole sequence as one window: the gradient reaches every step."""
    return _window_loss(x, None)[0]

# %%
def full_step(x):
    """Forward and backward over the whole sequence; the bytes saved for backward."""
    loss, saved = bptt.saved_activation_bytes(lambda: full(x))
    loss.backward()
    return saved


cost = {"full": {}, "truncated": {}}
for T in size["lengths"]:  # timed after a warm-up, the GPU synchronised
    x = torch.randint(0, 50, (16, T), device=setup.device)
    cost["full"][T] = results.timed(lambda: full_step(x), setup.device)
    cost["truncated"][T] = results.timed(lambda: truncated(x, K), setup.device)
    print(f"T={T:4d}: full {cost['full'][T][0] / 2**20:6.2f} MiB {cost['full'][T][1]:.3f} s   "
          f"truncated (K={K}) {cost['truncated'][T][0] / 2**20:5.2f} MiB "
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
# Memory is linear in $T$ for full BPTT and flat for truncated BPTT (both
# asserted). The seconds are printed, not claimed: both methods read every step,
# so both take longer on longer sequences, but by how much depends on the
# machine (on a GPU a short sequence costs mostly the fixed price of launching
# its kernels) and on what else it is doing. Truncation is not a way to save time
# on a sequence: it does the same forward and backward work, only in $T/K$ pieces,
# each paying the fixed cost of a backward call but touching less memory, so which
# of the two is faster varies with the machine and the length (compare the rows
# above). What it gains in time is elsewhere: it can update the weights after
# every window, $T/K$ updates per pass over the sequence where full BPTT makes one.

# %% [markdown]
# ## 4.5 What truncation cannot learn
#
# The price of truncation: inside a window of $K$ steps, an output is connected by
# the gradient to inputs at most $K - 1$ steps back, so a dependency longer than
# that cannot be *learnt*, even though the carried state could in principle hold
# it. The
# **echo task** makes this exact: read random symbols from an alphabet of 4 and
# output, at every step, the symbol read `delay` steps ago. Guessing gives 25 %.
# We train the same small RNN with several truncation lengths $K$, on the same
# number of symbols each, and measure accuracy on a fresh stream.

# %%
delay, accuracy = size["delay"], {}
for K in size["bptt_lengths"]:
    torch.manual_seed(seed)
    echo_model = rnn.RNNLM(4, 8, size["hidden_size"])
    echo = batches.EchoBatches(4, delay, size["echo_batch_size"], K, size["row_tokens"] // K,
                               seed=1)
    check = batches.EchoBatches(4, delay, 8, 50, 4, seed=2)
    train.train(echo_model, echo, check, train.TrainConfig(
        steps=len(echo), lr=size["lr"], eval_every=len(echo), progress=not setup.quiet),
        setup.device)
    accuracy[K] = tasks.accuracy(echo_model, check, skip=delay)
    print(f"truncation K={K:2d} (delay {delay}): accuracy {accuracy[K]:.1%}")

# %%
plt.bar([str(K) for K in accuracy], list(accuracy.values()))
plt.axhline(0.25, color="grey", ls=":", label="chance")
plt.gca().set(xlabel="truncation length K", ylabel="echo accuracy",
              title=f"Remembering a symbol for {delay} steps")
plt.legend()
plt.show()
if setup.profile != "smoke":
    assert all(0.25 < accuracy[K] < 0.4 for K in accuracy if K <= delay)  # a little above chance
    assert all(accuracy[K] > 0.9 for K in accuracy if K >= 2 * delay)     # learns it

# %% [markdown]
# With $K \le$ `delay` the network cannot learn the task: the symbol to recall
# always lies in an earlier window than the output that needs it, so no gradient
# ever asks the network to store it. It is not quite at chance, though. The state
# carried into a window still holds a faint trace of the last symbols of the
# window before, left there by weights that were never trained to keep them, and
# the output layer *can* learn to read such a trace; what the network cannot
# learn is to lay the trace down on purpose. With a window of twice the delay or
# more it learns the task outright. Choosing $K$ is a trade: memory, and how
# often the weights are updated, against the longest dependency the model can
# learn.

# %% [markdown]
# ## 4.6 Results

# %%
headline = {f"echo accuracy, delay {delay}, window {K}": a for K, a in accuracy.items()}
headline |= {f"MiB saved for backward, full BPTT, T={T}": cost["full"][T][0] / 2**20
             for T in size["lengths"]}
path = results.save(setup, headline, timer.seconds)
print(f"{len(headline)} numbers written to {path.name} after {timer.seconds:.1f} s")

# %% [markdown]
# ## Exercises
#
# 1. **Jacobians.** For a trained echo model, compute $\lVert \partial h_t / \partial h_s \rVert$
#    for $t - s = 1 \dots 20$ with autograd and plot it on a log scale.
# 2. **Memory.** Predict the bytes saved by full BPTT for $T = 1000$ from the
#    table above, then measure it.
# 3. **Windows.** With `delay` = 4, find the smallest truncation length $K$ that
#    learns the echo task. Explain why it is larger than 4.
# 4. **Graded assignment.** Derive and implement `backward_last_step`, BPTT for a
#    loss on the last step only (as when a whole sequence gets one label), inputs
#    included; hidden tests compare it with autograd (assignment `04_bptt`).
