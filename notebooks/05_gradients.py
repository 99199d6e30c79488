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
# # 5. Vanishing and exploding gradients
#
# Chapter 4 found that the gradient a recurrent network receives from $t - s$
# steps back carries a product of $t - s$ Jacobian matrices. This chapter asks
# what such a product does as it grows. Almost always it either shrinks towards
# zero, so that the network cannot learn what depends on the distant past, or
# blows up, so that one step of gradient descent throws the weights far away
# {cite}`bengio1994learning,pascanu2013difficulty`.
#
# **In this chapter you will**
#
# - bound the norm of the Jacobian product, and see when it must vanish and when it
#   can explode;
# - measure the exact norms with autograd, for random and for trained networks;
# - clip gradients by their norm, from scratch, and see what clipping saves;
# - meet the adding problem, which a plain recurrent network does not learn at long
#   range in our budget, and see what a better initialisation does and does not
#   change.

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
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch

from seqlm import batches, config, data, gradients, lm, results, rnn, tasks, train, viz

setup = config.setup("05_gradients", profile, device, seed, results_dir, quiet)
size, timer = setup.size, results.Timer()
print(f"profile {setup.profile}, device {setup.device}")

# %% [markdown]
# ## 5.1 Why distance matters
#
# In *Hamlet*, the ghost's "*Remember* me" closes a speech; a few lines later
# Hamlet answers "*Remember* thee? Ay, thou poor ghost". Less grandly, in "the
# *letters* that my lord the king sent to his brother *were* burnt" the verb
# agrees with a noun ten words back. To learn such a link, the loss at the
# later word must send a gradient back to the state where the earlier word was
# read, through every step between. Chapter 4 wrote that gradient down: with
# $h_t = f(a_t)$ and $a_t = W_{ih} x_t + W_{hh} h_{t-1} + b_h$ (for a layer of a
# network, $x_t$ is whatever vector it reads at step $t$),
#
# $$\frac{\partial h_t}{\partial h_s} = \prod_{j=t}^{s+1} \mathrm{diag}\big(f'(a_j)\big)\, W_{hh}
# = \mathrm{diag}\big(f'(a_t)\big) W_{hh} \cdots \mathrm{diag}\big(f'(a_{s+1})\big) W_{hh},$$
#
# the latest step on the left. Here is the product built one factor at a time,
# on a four-token line read by a small random network: each new token back
# multiplies the gradient by one more factor, and its norm changes by that
# factor's effect.

# %%
torch.manual_seed(seed)
words = "remember me , ghost".split()
embed = torch.randn(len(words), 8, dtype=torch.float64)       # a vector per word
W_hh = gradients.random_recurrent_matrix(8, 0.9)
W_ih = torch.randn(8, 8, dtype=torch.float64) * 0.5
b_h = torch.zeros(8, dtype=torch.float64)
_, pre = gradients.run(W_hh, W_ih, b_h, embed)
for s in reversed(range(len(words))):
    product = gradients.jacobian_product(W_hh, pre, s)
    print(f"∂h_4/∂h_{s} (back to before '{words[s]}'): {len(words) - s} factor(s), "
          f"norm {torch.linalg.matrix_norm(product, ord=2):.3f}")

# %% [markdown]
# ## 5.2 A bound, and what it promises
#
# The norm of a product is at most the product of the norms. The diagonal
# factor's norm is the largest $|f'(a_j)|$, at most $f'_{\max}$, the largest slope
# of the activation: 1 for tanh and ReLU, 1/4 for the sigmoid. The norm of
# $W_{hh}$ is its largest singular value $\sigma_{\max}$. So
#
# $$\Big\lVert \frac{\partial h_t}{\partial h_s} \Big\rVert \le \big(f'_{\max}\, \sigma_{\max}(W_{hh})\big)^{t-s}.$$
#
# If $\sigma_{\max} < 1/f'_{\max}$, the gradient from $t - s$ steps back **must
# vanish** exponentially fast. If $\sigma_{\max} > 1/f'_{\max}$ it **can explode**,
# but need not: the bound is an upper one, and a saturated tanh ($f' \approx 0$)
# shrinks every factor it enters. The activations and their slopes:

# %%
viz.activations()
plt.show()

# %% [markdown]
# ## 5.3 Measured, not just argued
#
# Now the exact norms, from autograd (`seqlm.gradients.state_jacobians`
# back-propagates from each coordinate of the last state to every earlier one),
# for random recurrent matrices scaled to spectral radius $\rho$ (the largest modulus
# of an eigenvalue; $\rho \le \sigma_{\max}$) between 0.5 and 3, for tanh cells and
# for linear ones ($f(a) = a$), reading random inputs. First a check that autograd
# and the product formula agree:

# %%
H, T = size["jacobian_size"], size["jacobian_length"]
gen = torch.Generator().manual_seed(seed)
x = torch.randn(T, H, dtype=torch.float64, generator=gen) * 0.5
W_in = torch.eye(H, dtype=torch.float64)
W = gradients.random_recurrent_matrix(H, 1.0, gen)
exact = gradients.state_jacobians(W, W_in, torch.zeros(H, dtype=torch.float64), x)
_, pre = gradients.run(W, W_in, torch.zeros(H, dtype=torch.float64), x)
gap = max((exact[s] - gradients.jacobian_product(W, pre, s)).abs().max().item()
          for s in range(0, T, max(1, T // 6)))
print(f"largest difference between autograd and the product formula: {gap:.1e}")
assert gap < 1e-10


# %%
def curves_for(activation, radii, generator_seed=seed):
    """For each spectral radius: the norms by distance, the fitted rate and the bound's."""
    out = {}
    for radius in radii:
        g = torch.Generator().manual_seed(generator_seed)
        W = gradients.random_recurrent_matrix(H, radius, g)
        J = gradients.state_jacobians(W, W_in, torch.zeros(H, dtype=torch.float64), x,
                                      activation=activation)
        norms = gradients.norms_by_distance(J)
        out[radius] = (norms, gradients.fitted_rate(norms, skip=5),
                       gradients.bound_rate(W, activation))
    return out


measured = {act: curves_for(act, size["radii"]) for act in ("tanh", "linear")}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for ax, (act, curves) in zip(axes, measured.items()):
    viz.gradient_decay({f"ρ = {r}": c[0] for r, c in curves.items()}, f"{act} cells", ax=ax)
plt.show()
print(f"{'':8s}" + "".join(f"{'ρ = ' + str(r):>11s}" for r in size["radii"]))
for act, curves in measured.items():
    print(f"{act:8s}" + "".join(f"{c[1]:>11.3f}" for c in curves.values()) + "   fitted rate")
    print(f"{'':8s}" + "".join(f"{c[2]:>11.3f}" for c in curves.values()) + "   bound f'max σmax")
ratio = gradients.largest_singular_value(W) / gradients.spectral_radius(W)
print(f"σ_max / ρ of these random matrices: {ratio:.2f}")

# %% [markdown]
# Every norm stays under the bound, $\lVert \partial h_T / \partial h_{T-k} \rVert
# \le (f'_{\max}\,\sigma_{\max})^k$, and the bound is loose: the largest singular
# value of these random matrices is well above their spectral radius (the ratio is
# printed above). For linear cells the rate is the spectral radius itself (the
# powers of a matrix grow like $\rho^k$), so the norms vanish below $\rho = 1$ and
# explode above it. For these random matrices, tanh cells vanish below $\rho = 1$
# as well (in general only $\sigma_{\max} < 1$ guarantees it: a product of
# matrices whose spectral radius is below 1 can still grow for a while), and above
# it they can explode too, only more slowly than linear ones: as the states grow the
# tanh saturates, its slope shrinks, and every factor
# $\mathrm{diag}(f'(a_j))\,W_{hh}$ is cut down.

# %%
for act, curves in measured.items():
    for radius, (norms, rate, bound) in curves.items():
        k = torch.arange(1, len(norms) + 1, dtype=torch.float64)
        assert (norms <= bound ** k * (1 + 1e-9)).all()  # under the bound at every distance
        if act == "linear":
            assert abs(rate - radius) < 0.1 * radius  # the rate is ρ
        if radius < 1:
            assert rate < 1                           # vanishing
largest = max(size["radii"])
assert measured["linear"][largest][1] > 1                           # exploding
assert measured["tanh"][largest][1] < measured["linear"][largest][1]  # damped by saturation

# %% [markdown]
# How much saturation damps depends on how hard the inputs drive the units: the
# larger $\lVert W_{ih} x_t \rVert$, the more units sit near $\pm 1$ where $f' \approx 0$.
# Here is the fitted rate of tanh cells over several seeds (a new $W_{hh}$ and new
# inputs each) and input scales, for spectral radii above 1, with the norm of the
# whole product $\lVert \partial h_T / \partial h_0 \rVert$ beside it:

# %%
def tanh_rates(radius, scale):
    """Fitted rates of tanh cells over seeds, inputs scaled by `scale`, and how many times
    larger ‖∂h_T/∂h_0‖ is than ‖∂h_T/∂h_{T-1}‖."""
    rates, whole = [], []
    for s in range(size["jacobian_seeds"]):
        g = torch.Generator().manual_seed(seed + s)
        inputs = torch.randn(T, H, dtype=torch.float64, generator=g) * scale
        W = gradients.random_recurrent_matrix(H, radius, g)
        norms = gradients.norms_by_distance(gradients.state_jacobians(
            W, W_in, torch.zeros(H, dtype=torch.float64), inputs))
        rates.append(gradients.fitted_rate(norms, skip=5))
        whole.append((norms[-1] / norms[0]).item())
    return rates, whole


explosion = {(r, scale): tanh_rates(r, scale) for r in size["explode_radii"]
             for scale in size["input_scales"]}
print(f"{'input scale':>12s}" + "".join(f"{'ρ = ' + str(r):>26s}" for r in size["explode_radii"]))
for scale in size["input_scales"]:   # (not x: the sliders below read the inputs x)
    cells = [explosion[r, scale] for r in size["explode_radii"]]
    print(f"{scale:>12g}" + "".join(f"{min(a):>8.2f}–{max(a):.2f} ({min(n):6.0e}–{max(n):6.0e})"
                                for a, n in cells))

# %% [markdown]
# Each entry is the range over the seeds of the fitted rate per step and, in
# brackets, of how many times larger the gradient from $T$ steps back is than the
# one from the last step, $\lVert \partial h_T / \partial h_0 \rVert /
# \lVert \partial h_T / \partial h_{T-1} \rVert$. With weak or moderate inputs, tanh
# cells explode once $\rho$ is large enough: rates above 1, and ratios in the
# thousands or millions. A random tanh network with enough gain is chaotic: nearby
# states drift apart, and the Jacobian products that measure that drift grow
# {cite}`sompolinsky1988chaos`. The same matrices driven by strong inputs explode
# later or not at all: strong inputs suppress the chaos {cite}`rajan2010stimulus`.
# (Both papers study networks in continuous time; the table shows the discrete-time
# cells of this book behaving alike.)
# Saturation damps the growth; it does not forbid it. The checks below: at the
# largest radius every seed explodes for every input scale up to 1, and at every
# radius the weakest inputs give a higher mean rate than the strongest.

# %%
if setup.profile != "smoke":
    top = max(size["explode_radii"])
    weak, strong = min(size["input_scales"]), max(size["input_scales"])
    assert all(rate > 1 for scale in size["input_scales"] if scale <= 1
               for rate in explosion[top, scale][0])
    for r in size["explode_radii"]:
        assert np.mean(explosion[r, weak][0]) > np.mean(explosion[r, strong][0])

# %% [markdown]
# Try it: the slider sets the spectral radius of the recurrent matrix, the menu
# the activation. (The static page shows the starting values; run the notebook
# to move them.)

# %%
def show_decay(radius=1.0, activation="tanh"):
    norms, rate, bound = curves_for(activation, [radius])[radius]
    viz.gradient_decay({f"{activation}, ρ = {radius:.2f}": norms},
                       f"fitted rate {rate:.3f} per step, bound {bound:.3f}")
    plt.show()


widgets.interact(show_decay,
                 radius=widgets.FloatSlider(value=1.0, min=0.25, max=4.0, step=0.05,
                                            description="ρ"),
                 activation=widgets.Dropdown(options=["tanh", "sigmoid", "relu", "linear"],
                                             description="activation"));

# %% [markdown]
# ## 5.4 In a trained network
#
# Random matrices are one thing; what about the weights gradient descent found?
# Here is Chapter 3's word-level RNN language model (loaded from Chapter 3's run
# when it ran with this profile and this code, else trained again here with
# Chapter 3's recipe and seed, which on a CPU gives the same weights), reading
# windows of the test plays. How strongly does its last state depend on each
# earlier word, $\lVert \partial h_T / \partial e_{T-d} \rVert$ against the distance
# $d$, relative to the last word and averaged over many windows? And how many words
# back does that dependence keep 1 % of its size? (Chapter 6 measures its LSTM the
# same way.)

# %%
corpus = data.load_shakespeare("word")
V, EOS = len(corpus.vocab), corpus.vocab.stoi[data.EOS]
chapter3 = config.sizes("03_rnn", setup.profile)
torch.manual_seed(seed)
word_model = rnn.RNNLM(V, **chapter3["model"])
lm.load_or_fit(setup, "03_rnn", "word_model", word_model, corpus, chapter3)
word_model = word_model.cpu().double().eval()

# %%
dependence = gradients.input_dependence(word_model, corpus.ids("test"), T,
                                        size["reach_windows"])
reach = gradients.reach(dependence, 0.01)
print(f"averaged over {size['reach_windows']} windows of {T} words: the last state keeps 1 % "
      f"of its dependence on the last word up to {reach} words back; fitted rate "
      f"{gradients.fitted_rate(dependence[1:]):.2f} per word; "
      f"ρ(W_hh) = {gradients.spectral_radius(word_model.rnn.weight_hh_l0):.2f}")
viz.gradient_decay({"Chapter 3's word RNN": dependence[1:]}, "A trained RNN, on the test plays",
                   floor=0.01, ylabel="‖∂h_T / ∂e_{T-d}‖, relative to d = 0")
plt.show()
if setup.profile != "smoke":
    assert 1 <= reach < T // 2  # the dependence fades well within the window

# %% [markdown]
# The trained network forgets fast: the dependence shrinks by the fitted rate with
# every word, and beyond the distance printed above it is under a hundredth of its
# size at the last word, so whatever depends on more distant words is learnt from a
# signal buried under the near ones.
#
# ## 5.5 Exploding gradients, and clipping
#
# The other failure is sudden. Near a place where the network's dynamics change
# qualitatively (a bifurcation), the loss can rise like a cliff: it stays smooth,
# but its slope there is enormous, and one ordinary gradient step can throw the
# weights far from where they were. Here is the loss of the smallest recurrent
# network there is, one sigmoid unit $h_t = \sigma(W_{hh}\,h_{t-1} + b)$ with a
# scalar weight $W_{hh}$ and bias $b$, run for 50 steps from $h_0 = 0.5$, with loss
# $(h_{50} - 0.7)^2$, over its weight and its bias. It is a variant of the one-unit model of
# {cite:t}`pascanu2013difficulty`, whose unit applies the sigmoid before the weight,
# $h_t = W_{hh}\,\sigma(h_{t-1}) + b$; both have the same wall.

# %%
w_grid = torch.linspace(2, 12, 201, dtype=torch.float64)           # values of W_hh
b_grid = torch.linspace(-7, 2, 181, dtype=torch.float64)
Wg, Bg = torch.meshgrid(w_grid, b_grid, indexing="ij")
surface = gradients.one_unit_loss(Wg, Bg)
cliff_lr = 0.5
paths = {clip: gradients.descend(7.0, -3.9, lr=cliff_lr, steps=300, clip=clip)
         for clip in (None, 0.5)}
fig, ax = plt.subplots(figsize=(7, 4.5))
image = ax.contourf(Wg, Bg, surface, levels=30, cmap="viridis")
fig.colorbar(image, ax=ax, label="loss")
for (clip, path), color in zip(paths.items(), ("white", "red")):
    label = "no clipping" if clip is None else f"clipped at norm {clip}"
    ax.plot(path[:, 0], path[:, 1], marker=".", ms=3, color=color, label=label)
ax.set(xlabel="$W_{hh}$", ylabel="$b$", title="A one-unit RNN: loss surface and gradient descent")
ax.legend()
plt.show()
jumps = {clip: (p[1:] - p[:-1]).norm(dim=1).max().item() for clip, p in paths.items()}
final = {clip: gradients.one_unit_loss(p[-1, 0], p[-1, 1]).item() for clip, p in paths.items()}
for clip in paths:
    print(f"clip {clip}: largest step {jumps[clip]:.2f}, final loss {final[clip]:.4f}")
print(f"steepest gradient met on the way: norm {jumps[None] / cliff_lr:.1f} (steep, and finite)")
assert jumps[None] > 5 * jumps[0.5] and final[0.5] < final[None]

# %% [markdown]
# Without clipping, the descent creeps down the slope, reaches the wall, and
# one step flings it to the far side; clipped, it takes a short step at the wall
# and carries on down. **Clipping by norm** {cite}`pascanu2013difficulty` keeps
# the direction of the gradient $g$ and bounds its length:
#
# $$g \leftarrow g \cdot \min\Big(1, \frac{g_{\max}}{\lVert g \rVert}\Big),
# \qquad \lVert g \rVert = \sqrt{\textstyle\sum_i \lVert g_i \rVert^2}$$
#
# over all the parameters together. Why does a bounded step help? A gradient step
# trusts the slope measured where it starts over the whole step. That is safe when
# the slope changes slowly: if the gradient changes by at most $M$ per unit of
# distance in weight space (the loss is $M$-*smooth*), any step of length up to
# about $1/M$ goes downhill. The lectures (deck 000) make the argument with the
# loss itself Lipschitz, changing by at most a constant times the step's length;
# taken literally that cannot describe a cliff, because a loss that is Lipschitz
# with a small constant has no huge gradients, but the point carries over. At the
# wall the gradient is huge *and* changes fast: the step $\eta g$ is a leap far past
# the short distance over which the slope measured at its start means anything,
# and it lands wherever the surface happens to put it. Clipping caps the step of
# gradient descent at $\eta\, g_{\max}$ whatever the slope: a cliff then costs one
# short step in the right direction, and where $\lVert g \rVert \le g_{\max}$ nothing
# changes. It does not make progress faster; it limits how far one step can go
# wrong. (With Adam or AdamW, which the rest of the book uses, a step is already
# about $\eta$ per coordinate however large the gradient; clipping there mostly
# keeps one huge gradient from swamping the running averages Adam divides by.
# Deck 004's code clips with the *squared* norm; the rule is the norm itself.)
# From scratch:

# %%
viz.show_source(gradients.clip_grad_norm)

# %% [markdown]
# It must agree with PyTorch's, which `seqlm.train` uses. **Clipping by value**,
# the other common recipe, cuts each coordinate to $[-c, c]$ on its own, so a
# clipped gradient points somewhere else:

# %%
torch.manual_seed(seed)
ours, theirs = torch.nn.Linear(6, 4), torch.nn.Linear(6, 4)
theirs.load_state_dict(ours.state_dict())
ours(torch.randn(8, 6)).pow(2).sum().backward()
theirs.weight.grad, theirs.bias.grad = ours.weight.grad.clone(), ours.bias.grad.clone()
norm_ours = gradients.clip_grad_norm(ours.parameters(), 0.5)
norm_theirs = torch.nn.utils.clip_grad_norm_(theirs.parameters(), 0.5)
gap = max((a.grad - b.grad).abs().max().item() for a, b in zip(ours.parameters(),
                                                                   theirs.parameters()))
print(f"norm before clipping {norm_ours:.3f} (torch {norm_theirs:.3f}); "
      f"largest difference {gap:.1e}")
assert gap < 1e-7 and abs(norm_ours - norm_theirs) < 1e-5
g = torch.tensor([4.0, 0.3, -0.2])
by_value = g.clamp(-0.5, 0.5)
cosine = torch.dot(g, by_value) / (g.norm() * by_value.norm())
print(f"g = {g.tolist()} clipped by value to {by_value.tolist()}: cosine with g {cosine:.2f}")
assert cosine < 0.95

# %% [markdown]
# Now a real training run that falls off a cliff: a character-level RNN with
# ReLU units, trained with plain SGD at a high learning rate (1.0), once without
# clipping and once clipped at norm 1.

# %%
chars = data.load_shakespeare("char")
char_train = chars.ids("train")[:size["explode_chars"]]
char_valid = chars.ids("valid")[:40_000]
explode_runs = []
for clip in (None, 1.0):  # the same network from the same seed, trained side by side
    torch.manual_seed(seed)
    model = rnn.RNNLM(len(chars.vocab), 32, size["explode_hidden_size"], nonlinearity="relu")
    explode_runs.append((model, batches.StreamBatches(char_train, 32, 50),
                         batches.StreamBatches(char_valid, 16, 200),
                         size["explode_train"].replace(clip=clip, progress=False)))
runs = dict(zip((None, 1.0), train.train_all(explode_runs, setup.device)))
fig, ax = plt.subplots(figsize=(6.5, 3.5))
for clip, history in runs.items():
    ax.plot(history.step, history.grad_norm, marker="o",
            label="no clipping" if clip is None else f"clipped at {clip}")
ax.set(xlabel="step", ylabel="mean gradient norm before clipping", yscale="log",
       title="ReLU character RNN, SGD at rate 1.0")
ax.legend()
plt.show()
for clip, history in runs.items():
    best = (f"best valid loss {history.best_valid_loss:.2f} nats per character"
            if math.isfinite(history.best_valid_loss) else "no finite valid loss")
    print(f"clip {clip}: {history.nonfinite_steps} of {history.step[-1]} losses not finite; {best}")
if setup.profile != "smoke":
    assert runs[None].nonfinite_steps > 0 and runs[1.0].nonfinite_steps == 0

# %% [markdown]
# Without clipping the first large gradients send the weights to infinity, and
# from then on every loss is `nan`; clipped, the same run trains. Clipping does
# nothing for vanishing gradients, though: a short step in the right direction
# is still a step that carries no information about the distant past.
#
# ## 5.6 The adding problem
#
# {cite:t}`hochreiter1997long` designed tasks that a network can only solve by
# remembering across a long gap; one of them is the **adding problem**. We use the
# simpler variant of {cite:t}`le2015simple` (the original draws its values from
# $[-1, 1]$, places the markers differently and scales the target): each sequence
# has $T$ steps, each with two inputs, a random number in $[0, 1]$ and a marker
# that is 1 at exactly two steps (one in each half) and 0 elsewhere. The target is
# the sum of the two marked numbers. Predicting the constant 1 (the mean of the
# sum) gives a mean squared error equal to the variance of a sum of two
# independent uniform numbers, $2 \times 1/12 = 1/6 \approx 0.167$: that is the
# baseline to beat. A recurrent network reads the sequence and
# predicts the sum from its last state (`seqlm.tasks.LastStateRegressor`).

# %%
BASELINE = 1 / 6
short, long = size["adding_lengths"]


def adding_run(length, nonlinearity="tanh", init="default", lr=None):
    """A recurrent regressor for the adding problem, and what to train it on and with."""
    torch.manual_seed(seed)
    model = tasks.LastStateRegressor("rnn", 2, size["adding_hidden_size"], nonlinearity, init)
    config_ = size["adding_train"].replace(progress=False)
    config_ = config_ if lr is None else config_.replace(lr=lr)
    return (model, batches.AddingBatches(length, size["adding_batch_size"], config_.steps,
                                         seed=1),
            batches.AddingBatches(length, 256, 4, seed=2), config_)


# the four runs of this section, trained side by side (small models: two cores both busy)
adding_histories = dict(zip(
    ["default, T short", "default, tanh", "orthogonal, tanh", "identity, ReLU"],
    train.train_all([adding_run(short), adding_run(long),
                     adding_run(long, "tanh", "orthogonal"),
                     adding_run(long, "relu", "identity", size["identity_lr"])], setup.device)))
mse = {}
for length, name in ((short, "default, T short"), (long, "default, tanh")):
    history = adding_histories[name]
    mse[length] = history.best_valid_loss
    print(f"T = {length:3d}: best valid MSE {history.best_valid_loss:.4f} "
          f"(baseline {BASELINE:.3f})")
if setup.profile != "smoke":
    assert mse[short] < 0.05          # learns it over a short gap
    assert mse[long] > 0.9 * BASELINE  # stays at the baseline over a long one

# %% [markdown]
# At $T = 10$ the RNN learns the task; at $T = 100$ it stays at the baseline in
# this budget: the first marked number is tens of steps before the prediction, and
# in a network like this one (5.3, and the default start plotted below) the
# gradient from there is negligible.
#
# **Can a better start help?** Two recipes give the product of Jacobians a chance
# at the start of training: an **orthogonal** $W_{hh}$ (all singular values 1),
# and, for ReLU units, the **identity** $W_{hh} = I$ with zero biases (the IRNN of
# {cite:t}`le2015simple`), which at the start copies the state unchanged from
# step to step. (Le et al. trained it with plain SGD and a small rate; we train it
# with AdamW like every other model here, at the profile's `identity_lr`, a lower
# rate than the others' (1e-3 against 3e-3 in `cpu`), as unbounded ReLU units ask.)
# At initialisation they do what they promise:

# %%
starts = {}
xs, _ = next(batches.AddingBatches(long, 1, 1, seed=3)())
for name, nonlinearity, init in [("default, tanh", "tanh", "default"),
                                 ("orthogonal, tanh", "tanh", "orthogonal"),
                                 ("identity, ReLU", "relu", "identity")]:
    torch.manual_seed(seed)
    layer = tasks.LastStateRegressor("rnn", 2, size["adding_hidden_size"], nonlinearity,
                                     init).rnn.double()
    J = gradients.state_jacobians(layer.weight_hh_l0, layer.weight_ih_l0,
                                  layer.bias_ih_l0 + layer.bias_hh_l0, xs[0].double(),
                                  activation=nonlinearity)
    starts[name] = gradients.norms_by_distance(J).detach()
viz.gradient_decay(starts, f"At initialisation, T = {long}")
plt.show()
far = {name: norms[-1].item() for name, norms in starts.items()}
print("norm from the first step:", ", ".join(f"{n} {v:.2g}" for n, v in far.items()))
assert far["identity, ReLU"] > 0.99 and far["orthogonal, tanh"] > far["default, tanh"]

# %% [markdown]
# And after the same training budget as above (these runs trained beside the
# first two)?

# %%
init_mse = {name: adding_histories[name].best_valid_loss
            for name in ("default, tanh", "orthogonal, tanh", "identity, ReLU")}
for name, value in init_mse.items():
    print(f"T = {long}, {name:17s}: best valid MSE {value:.4f}")
if setup.profile != "smoke":
    assert all(value > 0.8 * BASELINE for value in init_mse.values())

# %% [markdown]
# Neither learns the task in this budget. A good start keeps the gradient alive
# at step 0, but training changes the weights, and nothing keeps them in the
# regime where the product neither vanishes nor explodes. {cite:t}`le2015simple`
# trained their IRNN far longer and did solve the adding problem, up to $T = 400$;
# a plain recurrent network is not unable to learn long gaps, it is slow and
# fragile at it. What is missing is a path through
# time along which the gradient is *designed* to survive. That is the long
# short-term memory of Chapter 6.
#
# ## 5.7 Results

# %%
headline = {f"adding problem valid MSE, RNN, T={length}": value for length, value in mse.items()}
headline |= {f"adding problem valid MSE, RNN {name}, T={long}": value
             for name, value in init_mse.items() if name != "default, tanh"}
headline |= {"words back with 1% of the gradient, RNN (Chapter 3)": reach,
             "non-finite losses without clipping": runs[None].nonfinite_steps,
             "non-finite losses clipped at 1": runs[1.0].nonfinite_steps}
path = results.save(setup, headline, timer.seconds)
print(f"{len(headline)} numbers written to {path.name} after {timer.seconds:.1f} s")

# %% [markdown]
# ## Exercises
#
# 1. **The sigmoid.** Repeat 5.3 with sigmoid cells. For which spectral radii
#    must the gradient vanish? Check against $f'_{\max} = 1/4$: the bound says
#    $\sigma_{\max} < 4$, not $\rho < 4$.
# 2. **Clipping thresholds.** Train the ReLU character RNN at rate 1.0 with
#    clipping at 0.1, 1 and 10. Which learns fastest, and why does the smallest
#    threshold not win?
# 3. **Where the state saturates.** For the trained word RNN, plot the fraction
#    of units with $|h| > 0.99$ along the speech. How does it relate to how fast
#    the gradient fades?
# 4. **Graded assignment.** Compute the norms of Jacobian products, and clip a
#    list of gradients by their global norm (assignment `05_gradients`).
