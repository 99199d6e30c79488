"""Profiles, devices, seeds and the per-profile sizes of every chapter.

A *profile* says how big a run is (DESIGN.md §3):

- ``smoke``: every cell runs in seconds on two CPU cores (CI, nbval);
- ``cpu``: the chapter's claims hold, on a laptop without a GPU;
- ``full``: the numbers quoted in the prose, on one GPU;
- ``auto``: ``full`` when CUDA is available, ``cpu`` otherwise.

A *device* is ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
Both come from a notebook's parameters (papermill) or, when those are
left as ``None``, from ``SEQLM_PROFILE`` / ``SEQLM_DEVICE``.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

PROFILES = ("smoke", "cpu", "full")
PROFILE_CHOICES = PROFILES + ("auto",)
DEVICE_CHOICES = ("auto", "cpu", "cuda")

# Every size that differs between profiles lives here, one entry per chapter.
SIZES = MappingProxyType({
    "01_ngrams": {
        # word_tokens: how many training tokens to count (None: the whole split)
        # eval_tokens: how many valid/test tokens to score (None: all of them)
        "smoke": dict(word_tokens=60_000, eval_tokens=10_000, max_order=3,
                      char_chars=200_000, char_max_order=5, samples=3),
        "cpu": dict(word_tokens=None, eval_tokens=None, max_order=5,
                    char_chars=None, char_max_order=8, samples=5),
        "full": dict(word_tokens=None, eval_tokens=None, max_order=5,
                     char_chars=None, char_max_order=10, samples=5),
    },
    "02_ffnn": {
        # orders: the n of each model trained; steps: optimiser steps per model
        "smoke": dict(train_tokens=20_000, eval_tokens=4_000, orders=(3,), steps=40, batch=64,
                      embed_dim=16, hidden_dim=32, direct=False, lr=3e-3, eval_every=20),
        "cpu": dict(train_tokens=None, eval_tokens=None, orders=(3, 5), steps=2500, batch=256,
                    embed_dim=64, hidden_dim=128, direct=False, lr=3e-3, eval_every=500),
        "full": dict(train_tokens=None, eval_tokens=None, orders=(3, 5), steps=30_000, batch=512,
                     embed_dim=128, hidden_dim=512, direct=True, lr=2e-3, eval_every=2000),
    },
    "03_rnn": {
        # batch × bptt tokens per step; char_* for the character-level model
        "smoke": dict(train_tokens=20_000, eval_tokens=3_000, batch=8, bptt=20, embed_dim=16,
                      hidden_dim=32, dropout=0.0, steps=20, lr=3e-3, eval_every=10,
                      char_tokens=20_000, char_steps=20),
        "cpu": dict(train_tokens=None, eval_tokens=None, batch=32, bptt=35, embed_dim=64,
                    hidden_dim=128, dropout=0.0, steps=900, lr=3e-3, eval_every=300,
                    char_tokens=None, char_steps=800),
        "full": dict(train_tokens=None, eval_tokens=None, batch=64, bptt=70, embed_dim=256,
                     hidden_dim=1024, dropout=0.3, steps=8000, lr=2e-3, eval_every=1000,
                     char_tokens=None, char_steps=8000),
    },
    "04_bptt": {
        # the echo task: remember each symbol for `delay` steps; `row_tokens` per batch row
        "smoke": dict(lengths=(20, 40, 80), delay=4, windows=(2, 8), row_tokens=400,
                      echo_batch=8, hidden_dim=16, lr=1e-2),
        "cpu": dict(lengths=(50, 100, 200, 400), delay=4, windows=(2, 4, 8, 16),
                    row_tokens=4000, echo_batch=32, hidden_dim=32, lr=1e-2),
        "full": dict(lengths=(50, 100, 200, 400, 800), delay=8, windows=(2, 4, 8, 16, 32),
                     row_tokens=16_000, echo_batch=64, hidden_dim=64, lr=5e-3),
    },
})


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def resolve_profile(profile: str | None = None) -> str:
    """The concrete profile: the argument, else ``SEQLM_PROFILE``, else ``auto``."""
    value = profile if profile is not None else os.environ.get("SEQLM_PROFILE", "auto")
    value = str(value).strip().lower()
    if value not in PROFILE_CHOICES:
        raise ValueError(
            f"unknown profile {value!r}; choose one of {', '.join(PROFILE_CHOICES)}")
    if value == "auto":
        return "full" if _cuda_available() else "cpu"
    return value


def resolve_device(device: str | None = None):
    """The ``torch.device`` to run on: the argument, else ``SEQLM_DEVICE``, else ``auto``."""
    import torch

    value = device if device is not None else os.environ.get("SEQLM_DEVICE", "auto")
    value = str(value).strip().lower()
    if value not in DEVICE_CHOICES:
        raise ValueError(
            f"unknown device {value!r}; choose one of {', '.join(DEVICE_CHOICES)}")
    if value == "auto":
        value = "cuda" if torch.cuda.is_available() else "cpu"
    if value == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            "device 'cuda' was asked for but no CUDA GPU is available; "
            f"choose one of {', '.join(DEVICE_CHOICES)} (auto falls back to cpu)")
    return torch.device(value)


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and torch; return a NumPy generator seeded the same way."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def sizes(chapter: str, profile: str) -> dict:
    """The sizes of ``chapter`` under a concrete ``profile``."""
    if chapter not in SIZES:
        raise KeyError(f"no sizes for chapter {chapter!r}; known: {', '.join(SIZES)}")
    if profile not in PROFILES:
        raise ValueError(f"sizes need a concrete profile, one of {', '.join(PROFILES)}")
    return dict(SIZES[chapter][profile])


@dataclass(frozen=True)
class Setup:
    """What a chapter needs to know about its run, from :func:`setup`."""

    chapter: str
    profile: str
    device: object  # torch.device
    seed: int
    rng: np.random.Generator
    size: dict


def setup(chapter: str, profile: str | None = None, device: str | None = None,
          seed: int = 0) -> Setup:
    """Resolve profile and device, seed everything, and look up the chapter's sizes."""
    concrete = resolve_profile(profile)
    return Setup(chapter=chapter, profile=concrete, device=resolve_device(device),
                 seed=seed, rng=seed_everything(seed), size=sizes(chapter, concrete))


def project_root() -> Path:
    """The repository root for an editable install, else the working directory."""
    here = Path(__file__).resolve().parents[2]
    if (here / "pyproject.toml").is_file() and (here / "notebooks").is_dir():
        return here
    return Path.cwd()
