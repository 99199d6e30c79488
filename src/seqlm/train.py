"""The one training loop of the book.

Every chapter's language model follows :class:`LanguageModel`, and every batch
source :class:`seqlm.batches.BatchSource`. :func:`train` runs AdamW or SGD
(:class:`seqlm.config.TrainConfig` says how) with gradient-norm clipping,
evaluates on valid every ``eval_every`` steps, stops early when valid stops
improving (its loss, or a score such as an error rate when one is given), keeps the
best weights, shows a progress bar (none when the run is unattended), and writes a
checkpoint atomically at every evaluation. Called
again with the same checkpoint path it resumes where the checkpoint left off and
ends with the same numbers as a run that was never interrupted.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
import torch.nn.functional as F

from seqlm.config import TrainConfig, resolve_quiet
from seqlm.files import write_atomically

__all__ = ["LanguageModel", "TrainConfig", "History", "train", "evaluate", "evaluating",
           "token_losses", "loss_of", "detach", "learning_rate_factor"]


class LanguageModel(Protocol):
    """What :func:`train` and :func:`evaluate` call: ``model(x, state) -> (logits, state)``.

    ``x`` holds token ids, (B, T) for a recurrent model or (B, n-1) for a
    feed-forward one; ``logits`` are the unnormalised next-token scores, (B, T, |V|)
    or (B, |V|), one row per target in ``y``. ``state`` is what a recurrent model
    carries from one batch to the next (a tensor, a tuple of tensors, or None for a
    feed-forward model); the loop passes back what the model returned, detached, and
    passes None at the start of every epoch and of every evaluation.

    Models of other sequence tasks keep the same contract: a tagger returns
    (B, T, classes) scores for targets (B, T) whose padding is ``IGNORE_INDEX``, a
    classifier (B, classes) for targets (B,), a regressor (B,) predictions for real
    targets (B,); they carry no state between batches and return None.

    A model whose training loss is not a cross-entropy of its outputs (ELMo's biLM: a
    sampled softmax, two directions) also has ``model.loss(x, y, state) -> (loss,
    state)``, the mean loss per target, which :func:`loss_of` then calls instead.
    """

    def __call__(self, x: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]: ...


@dataclass
class History:
    """What a run measured: one entry per evaluation."""

    step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)   # mean since the last evaluation
    valid_loss: list[float] = field(default_factory=list)   # nats per token
    valid_score: list[float] = field(default_factory=list)  # score(model), when train has one
    grad_norm: list[float] = field(default_factory=list)    # mean norm before clipping
    nonfinite_steps: int = 0                                 # steps whose loss was inf or nan
    best_step: int = 0
    best_valid_loss: float = math.inf                        # the kept weights' valid loss
    best_valid_score: float = math.inf                       # their score (with a score only)
    stopped_early: bool = False
    seconds: float = 0.0

    @property
    def best_valid_ppl(self) -> float:
        """exp of the best valid loss (for a language model, its perplexity)."""
        return math.exp(self.best_valid_loss) if self.best_valid_loss < 700 else math.inf


def _map_state(fn, state):
    """Apply ``fn`` to every tensor of a recurrent state (a tensor, a tuple of them, or None)."""
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return fn(state)
    return tuple(_map_state(fn, s) for s in state)


def detach(state):
    """Cut the graph behind a recurrent state."""
    return _map_state(torch.Tensor.detach, state)


IGNORE_INDEX = -100  # a class target that is padding: no loss, not counted


def loss_of(model, x, y, state):
    """The mean loss of one batch, and the new state. Class targets (integer ``y``) give the
    cross-entropy in nats per target, padding (``IGNORE_INDEX``) left out; real-valued
    targets give the mean squared error; a model with its own ``loss`` method computes it."""
    if hasattr(model, "loss"):
        return model.loss(x, y, state)
    output, state = model(x, state)
    if y.is_floating_point():
        return F.mse_loss(output.reshape(y.shape), y), state
    return F.cross_entropy(output.reshape(-1, output.shape[-1]), y.reshape(-1),
                           ignore_index=IGNORE_INDEX), state


def _targets(y: torch.Tensor) -> torch.Tensor:
    """How many targets of a batch count (padding does not): a tensor on y's device."""
    if y.is_floating_point():
        return torch.tensor(y.numel(), device=y.device)
    return (y != IGNORE_INDEX).sum()


@contextmanager
def evaluating(model: torch.nn.Module):
    """Run a block in eval mode without gradients; yields the model's device, and puts
    the model back in the mode it was in (training or not) afterwards."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield next(model.parameters()).device
    finally:
        model.train(was_training)


def evaluate(model, batches, device=None, max_batches: int | None = None) -> float:
    """Mean loss per target over ``batches``: nats per token for a language model (exp of
    it is the perplexity), the mean squared error for real-valued targets. In full
    precision; the sums stay on the device until the end."""
    state = None
    with evaluating(model) as own_device:
        device = device or own_device
        total = torch.zeros((), dtype=torch.float64, device=device)
        tokens = torch.zeros((), dtype=torch.int64, device=device)
        for i, (x, y) in enumerate(batches(0)):
            if max_batches is not None and i >= max_batches:
                break
            y = y.to(device)
            loss, state = loss_of(model, x.to(device), y, state)
            count = _targets(y)  # a batch of padding only has a NaN mean: it adds nothing
            total += torch.where(count > 0, loss.double() * count, torch.zeros_like(total))
            tokens += count
    if tokens.item() == 0:
        raise ValueError("no targets to evaluate")
    return total.item() / tokens.item()


def token_losses(model, batches, device=None) -> torch.Tensor:
    """The loss (nats) of every target, in the order the batches yield them (row by row
    within a batch), in full precision: a CPU tensor (N,). exp(-loss) is the model's
    probability of each target, for mixing it with another model's."""
    state, losses = None, []
    with evaluating(model) as own_device:
        device = device or own_device
        for x, y in batches(0):
            logits, state = model(x.to(device), state)
            losses.append(F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                          y.to(device).reshape(-1), reduction="none").cpu())
    return torch.cat(losses)


def _optimizer(model, config: TrainConfig):
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay)
    return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def learning_rate_factor(config: TrainConfig, step: int) -> float:
    """The learning rate at ``step`` as a fraction of ``config.lr``: a linear warm-up over
    ``config.warmup`` steps, then constant or, with ``schedule="cosine"``, half a cosine
    from 1 down to 0 at ``config.steps``."""
    if step < config.warmup:
        return (step + 1) / config.warmup
    if config.schedule == "constant":
        return 1.0
    progress = (step - config.warmup) / max(1, config.steps - config.warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def _save(path: Path, payload: dict) -> None:
    write_atomically(path, lambda tmp: torch.save(payload, tmp))


def _load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def _rng_states() -> dict:
    """Every random generator a training step draws from: dropout on a GPU uses CUDA's."""
    states = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def _set_rng_states(states: dict) -> None:
    torch.set_rng_state(states["cpu"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def _progress(config: TrainConfig, initial: int):
    from tqdm.auto import tqdm

    quiet = resolve_quiet() if config.progress is None else not config.progress
    return tqdm(total=config.steps, initial=initial, disable=quiet, unit="step",
                dynamic_ncols=True, leave=False)


def _autocast(config: TrainConfig, device: torch.device):
    """bfloat16 autocast on CUDA when the config asks for it; full precision otherwise."""
    return torch.autocast("cuda", dtype=torch.bfloat16, enabled=config.amp and device.type == "cuda")


class _Running:
    """Sums of the training loss and gradient norm since the last evaluation, kept on the
    device so that a step never waits for the host; read once per evaluation."""

    def __init__(self, device):
        self.device = device
        self.reset()

    def reset(self):
        self.loss = torch.zeros((), dtype=torch.float64, device=self.device)
        self.norm = torch.zeros((), dtype=torch.float64, device=self.device)
        self.nonfinite = torch.zeros((), dtype=torch.int64, device=self.device)
        self.count = 0

    def add(self, loss: torch.Tensor, norm: torch.Tensor):
        self.loss += loss.detach().double()
        self.norm += norm.detach().double()
        self.nonfinite += (~torch.isfinite(loss.detach())).long()
        self.count += 1

    def means(self) -> tuple[float, float, int]:
        """Mean loss and gradient norm, and how many losses were not finite."""
        return self.loss.item() / self.count, self.norm.item() / self.count, self.nonfinite.item()


def train(model, train_batches, valid_batches, config: TrainConfig, device=None,
          score=None) -> History:
    """Train ``model`` in place; return its :class:`History`. The best weights (by valid
    loss) are loaded into the model at the end.

    ``score``: optionally ``score(model) -> float``, lower is better (a validation error
    rate, say), called at every evaluation in eval mode without gradients. When given, it
    replaces the valid loss in choosing the weights to keep and in early stopping (the
    loss is still recorded)."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device)
    optimizer = _optimizer(model, config)
    history, step, state = History(), 0, None
    best = {k: v.detach().clone() for k, v in model.state_dict().items()}
    checkpoint = Path(config.checkpoint) if config.checkpoint else None
    if checkpoint and checkpoint.is_file():
        saved = _load(checkpoint)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        _set_rng_states(saved["rng"])
        history = History(**saved["history"])
        state = _map_state(lambda t: t.to(device), saved["state"])
        step, best = saved["step"], saved["best"]
    started = time.perf_counter() - history.seconds
    bar, running = _progress(config, step), _Running(device)
    model.train()
    try:
        while step < config.steps and not history.stopped_early:
            epoch, start = divmod(step, len(train_batches))
            if start == 0:
                state = None  # a new pass over the data starts from a fresh state
            for x, y in train_batches(epoch, start):
                state = _step(model, optimizer, config, x.to(device), y.to(device), state,
                              step, running)
                step += 1
                bar.update(1)
                if step % config.eval_every == 0 or step == config.steps:
                    _record(model, valid_batches, config, history, step, running, device,
                            score)
                    if history.best_step == step:
                        best = {k: v.detach().clone() for k, v in model.state_dict().items()}
                    bar.set_postfix(train=f"{history.train_loss[-1]:.3f}",
                                    valid=f"{history.valid_loss[-1]:.3f}")
                    history.seconds = time.perf_counter() - started
                    if checkpoint:
                        _save(checkpoint, {"model": model.state_dict(),
                                           "optimizer": optimizer.state_dict(),
                                           "rng": _rng_states(), "step": step,
                                           "state": state, "best": best,
                                           "history": asdict(history)})
                if step >= config.steps or history.stopped_early:
                    break
    finally:
        bar.close()
    model.load_state_dict(best)
    history.seconds = time.perf_counter() - started
    return history


def _step(model, optimizer, config, x, y, state, step, running):
    """One optimiser step on one batch; returns the state to carry, detached."""
    for group in optimizer.param_groups:
        group["lr"] = config.lr * learning_rate_factor(config, step)
    with _autocast(config, x.device):
        loss, state = loss_of(model, x, y, state)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(),
                                          config.clip if config.clip else math.inf)
    optimizer.step()
    running.add(loss, norm)
    return detach(state)


def _record(model, valid_batches, config, history, step, running, device, score=None):
    valid = evaluate(model, valid_batches, device, config.eval_batches)
    train_loss, grad_norm, nonfinite = running.means()
    running.reset()
    history.nonfinite_steps += nonfinite
    history.step.append(step)
    history.train_loss.append(train_loss)
    history.grad_norm.append(grad_norm)
    history.valid_loss.append(valid)
    if score is not None:
        with evaluating(model):
            history.valid_score.append(float(score(model)))
    # the kept weights are the best by score when there is one, else by valid loss
    current, best = (history.valid_score[-1], history.best_valid_score) if score is not None \
        else (valid, history.best_valid_loss)
    if current < best:
        history.best_valid_loss, history.best_step = valid, step
        if score is not None:
            history.best_valid_score = current
    elif config.patience is not None:
        evaluations_since_best = sum(1 for s in history.step if s > history.best_step)
        history.stopped_early = evaluations_since_best >= config.patience


def train_all(runs: list[tuple], device=None, workers: int = 4) -> list[History]:
    """Train several models at once: ``runs`` holds ``(model, train_batches, valid_batches,
    config)`` tuples (or ``(…, config, score)``, see :func:`train`), trained in a pool of
    ``workers`` threads with one intra-op thread each; returns their histories in order.

    For many small recurrent models (the adding problem, small character models), whose
    steps are too short to keep two cores busy, this gets close to twice the work done
    per second on two cores; large matrix products gain nothing. Build (and seed) every
    model before calling: the models are trained in parallel, and a training step must
    not draw from the shared random generator (no dropout)."""
    from concurrent.futures import ThreadPoolExecutor

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            jobs = [pool.submit(train, *run[:4], device, *run[4:]) for run in runs]
            return [job.result() for job in jobs]
    finally:
        torch.set_num_threads(threads)
