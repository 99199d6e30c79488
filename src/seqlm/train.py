"""The one training loop of the book.

Every chapter's language model is an ``nn.Module`` called as
``model(x, state) -> (logits, state)``: ``state`` is None for a feed-forward
model and the recurrent state otherwise. Batches come from
:class:`seqlm.data.WindowBatches` or :class:`seqlm.data.StreamBatches`.

:func:`train` runs AdamW or SGD for a number of steps with gradient-norm
clipping, evaluates on valid every ``eval_every`` steps, stops early when valid
stops improving, keeps the best weights, shows a progress bar (quiet under CI),
and writes a checkpoint atomically at every evaluation. Called again with the
same checkpoint path it resumes where the checkpoint left off and ends with
the same numbers as a run that was never interrupted.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F


@dataclass
class TrainConfig:
    steps: int                          # optimiser steps in all (epochs follow from the batches)
    lr: float = 1e-3
    optimizer: str = "adamw"            # "adamw" or "sgd"
    weight_decay: float = 0.0
    momentum: float = 0.0               # SGD only
    clip: float | None = 1.0            # max gradient norm; None: no clipping
    eval_every: int = 100               # steps between evaluations (and checkpoints)
    eval_batches: int | None = None     # limit the valid batches per evaluation
    patience: int | None = None         # evaluations without improvement before stopping
    checkpoint: str | Path | None = None
    progress: bool | None = None        # None: a bar unless $CI or $SEQLM_QUIET is set

    def __post_init__(self):
        if self.steps < 1 or self.eval_every < 1:
            raise ValueError("steps and eval_every must be ≥ 1")
        if self.optimizer not in ("adamw", "sgd"):
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose adamw or sgd")
        if self.lr <= 0 or (self.clip is not None and self.clip <= 0):
            raise ValueError("lr and clip must be > 0")


@dataclass
class History:
    """What a run measured: one entry per evaluation."""

    step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)   # mean since the last evaluation
    valid_loss: list[float] = field(default_factory=list)   # nats per token
    grad_norm: list[float] = field(default_factory=list)    # mean norm before clipping
    best_step: int = 0
    best_valid_loss: float = math.inf
    stopped_early: bool = False
    seconds: float = 0.0

    @property
    def best_valid_ppl(self) -> float:
        return math.exp(self.best_valid_loss)


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


def loss_of(model, x, y, state):
    """Mean cross-entropy (nats per token) of the next-token predictions, and the new state."""
    logits, state = model(x, state)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)), state


@torch.no_grad()
def evaluate(model, batches, device=None, max_batches: int | None = None) -> float:
    """Mean loss per token over ``batches`` (nats); exp of it is the perplexity."""
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    total, tokens, state = 0.0, 0, None
    for i, (x, y) in enumerate(batches(0)):
        if max_batches is not None and i >= max_batches:
            break
        loss, state = loss_of(model, x.to(device), y.to(device), state)
        total += loss.item() * y.numel()
        tokens += y.numel()
    model.train(was_training)
    return total / tokens


def _optimizer(model, config: TrainConfig):
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay)
    return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def _save(path: Path, payload: dict) -> None:
    """Write a checkpoint atomically: a temporary file, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def _load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def _progress(config: TrainConfig, initial: int):
    from tqdm.auto import tqdm

    # quiet under CI, and when the book's driver executes a chapter (nobody watches it)
    unattended = bool(os.environ.get("CI") or os.environ.get("SEQLM_QUIET"))
    quiet = unattended if config.progress is None else not config.progress
    return tqdm(total=config.steps, initial=initial, disable=quiet, unit="step",
                dynamic_ncols=True, leave=False)


def train(model, train_batches, valid_batches, config: TrainConfig, device=None) -> History:
    """Train ``model`` in place; return its :class:`History`. The best weights (by valid
    loss) are loaded into the model at the end."""
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
        torch.set_rng_state(saved["rng"])
        history = History(**saved["history"])
        state = _map_state(lambda t: t.to(device), saved["state"])
        step, best = saved["step"], saved["best"]
    started = time.perf_counter() - history.seconds
    bar = _progress(config, step)
    losses, norms = [], []
    model.train()
    try:
        while step < config.steps and not history.stopped_early:
            epoch, start = divmod(step, len(train_batches))
            if start == 0:
                state = None  # a new pass over the data starts from a fresh state
            for x, y in train_batches(epoch, start):
                loss, state = loss_of(model, x.to(device), y.to(device), state)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                norm = torch.nn.utils.clip_grad_norm_(model.parameters(),
                                                      config.clip if config.clip else math.inf)
                optimizer.step()
                state = detach(state)
                step += 1
                losses.append(loss.item())
                norms.append(norm.item())
                bar.update(1)
                if step % config.eval_every == 0 or step == config.steps:
                    _record(model, valid_batches, config, history, step, losses, norms, device)
                    if history.best_step == step:
                        best = {k: v.detach().clone() for k, v in model.state_dict().items()}
                    losses, norms = [], []
                    bar.set_postfix(train=f"{history.train_loss[-1]:.3f}",
                                    valid_ppl=f"{math.exp(history.valid_loss[-1]):.1f}")
                    history.seconds = time.perf_counter() - started
                    if checkpoint:
                        _save(checkpoint, {"model": model.state_dict(),
                                           "optimizer": optimizer.state_dict(),
                                           "rng": torch.get_rng_state(), "step": step,
                                           "state": state, "best": best,
                                           "history": asdict(history)})
                if step >= config.steps or history.stopped_early:
                    break
    finally:
        bar.close()
    model.load_state_dict(best)
    history.seconds = time.perf_counter() - started
    return history


def _record(model, valid_batches, config, history, step, losses, norms, device):
    valid = evaluate(model, valid_batches, device, config.eval_batches)
    history.step.append(step)
    history.train_loss.append(sum(losses) / len(losses))
    history.grad_norm.append(sum(norms) / len(norms))
    history.valid_loss.append(valid)
    if valid < history.best_valid_loss:
        history.best_valid_loss, history.best_step = valid, step
    elif config.patience is not None:
        evaluations_since_best = sum(1 for s in history.step if s > history.best_step)
        history.stopped_early = evaluations_since_best >= config.patience
