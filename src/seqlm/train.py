"""The one training loop of the book.

Every chapter's language model follows :class:`LanguageModel`, and every batch
source :class:`seqlm.batches.BatchSource`. :func:`train` runs AdamW or SGD
(:class:`seqlm.config.TrainConfig` says how) with gradient-norm clipping,
evaluates on valid every ``eval_every`` steps, stops early when valid stops
improving, keeps the best weights, shows a progress bar (none when the run is
unattended), and writes a checkpoint atomically at every evaluation. Called
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
           "loss_of", "detach"]


class LanguageModel(Protocol):
    """What :func:`train` and :func:`evaluate` call: ``model(x, state) -> (logits, state)``.

    ``x`` holds token ids, (B, T) for a recurrent model or (B, n-1) for a
    feed-forward one; ``logits`` are the unnormalised next-token scores, (B, T, |V|)
    or (B, |V|), one row per target in ``y``. ``state`` is what a recurrent model
    carries from one batch to the next (a tensor, a tuple of tensors, or None for a
    feed-forward model); the loop passes back what the model returned, detached, and
    passes None at the start of every epoch and of every evaluation.
    """

    def __call__(self, x: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]: ...


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
    """Mean loss per token over ``batches`` (nats); exp of it is the perplexity."""
    total, tokens, state = 0.0, 0, None
    with evaluating(model) as own_device:
        device = device or own_device
        for i, (x, y) in enumerate(batches(0)):
            if max_batches is not None and i >= max_batches:
                break
            loss, state = loss_of(model, x.to(device), y.to(device), state)
            total += loss.item() * y.numel()
            tokens += y.numel()
    return total / tokens


def _optimizer(model, config: TrainConfig):
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay)
    return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def _save(path: Path, payload: dict) -> None:
    write_atomically(path, lambda tmp: torch.save(payload, tmp))


def _load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def _progress(config: TrainConfig, initial: int):
    from tqdm.auto import tqdm

    quiet = resolve_quiet() if config.progress is None else not config.progress
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
