"""Profiles, devices, seeds, the sizes of every chapter, and the environment.

A *profile* says how big a run is (CONTRIBUTING.md, "Profiles"):

- ``smoke``: every cell runs in seconds on two CPU cores (CI, nbval);
- ``cpu``: the chapter's claims hold, on a laptop without a GPU;
- ``full``: the same claims with larger models, on one GPU;
- ``auto``: ``full`` when CUDA is available, ``cpu`` otherwise.

A *device* is ``auto`` (CUDA when available), ``cpu`` or ``cuda``.

Configuration flows one way. A notebook's ``parameters`` cell holds plain
defaults (``None``); papermill may override them; :func:`setup` resolves what
is still ``None`` from the environment, once. This module is the only reader
of the environment: ``SEQLM_PROFILE``, ``SEQLM_DEVICE``, ``SEQLM_RESULTS``,
``SEQLM_CACHE``, ``SEQLM_QUIET``, ``SEQLM_THREADS``, ``OMP_NUM_THREADS``, ``CI``,
``XDG_CACHE_HOME``, and ``SEQLM_GRADING_CASES`` (set by the grader in a graded kernel
only).

*Threads* are shared here too (:func:`worker_environment`, :func:`share_cores`): a
process that runs alone uses every core; ``N`` processes that run side by side
(pytest workers, ``seqlm run --jobs N``, the grader's sandboxes) use cores ÷ N
threads each, with a passive OpenMP wait policy, so that they do not spin on each
other's cores.
"""

from __future__ import annotations

import dataclasses
import os
import random
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

PROFILES = ("smoke", "cpu", "full")
PROFILE_CHOICES = PROFILES + ("auto",)
DEVICE_CHOICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class TrainConfig:
    """How :func:`seqlm.train.train` trains: the optimiser, its steps, evaluation, stopping."""

    steps: int                          # optimiser steps in all (epochs follow from the batches)
    lr: float = 1e-3
    optimizer: str = "adamw"            # "adamw" or "sgd"
    weight_decay: float = 0.0
    momentum: float = 0.0               # SGD only
    clip: float | None = 1.0            # max gradient norm; None: no clipping
    eval_every: int = 100               # steps between evaluations (and checkpoints)
    eval_batches: int | None = None     # limit the valid batches per evaluation
    patience: int | None = None         # evaluations without improvement before stopping
    schedule: str = "constant"          # "constant" or "cosine" (decays to 0 at `steps`)
    warmup: int = 0                     # steps of linear warm-up before the schedule
    amp: bool = False                   # bfloat16 autocast on CUDA (ignored on the CPU)
    checkpoint: str | Path | None = None
    progress: bool | None = None        # None: a bar unless resolve_quiet()

    def __post_init__(self):
        if self.steps < 1 or self.eval_every < 1:
            raise ValueError("steps and eval_every must be ≥ 1")
        if self.optimizer not in ("adamw", "sgd"):
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose adamw or sgd")
        if self.schedule not in ("constant", "cosine"):
            raise ValueError(f"unknown schedule {self.schedule!r}; choose constant or cosine")
        if not self.lr > 0 or (self.clip is not None and not self.clip > 0):
            raise ValueError("lr and clip must be > 0")
        if self.warmup < 0 or self.weight_decay < 0:
            raise ValueError("warmup and weight_decay must be ≥ 0")

    def replace(self, **changes) -> "TrainConfig":
        """A copy with some fields changed: ``config.replace(steps=100)``."""
        return dataclasses.replace(self, **changes)

    def in_passes(self, steps_per_pass: int, passes: float, per_pass: int = 2,
                  min_eval_every: int = 20) -> "TrainConfig":
        """A copy whose budget is ``passes`` passes over a training set of ``steps_per_pass``
        batches, evaluated ``per_pass`` times a pass but never more often than every
        ``min_eval_every`` steps (a tiny training set is evaluated every few passes). With
        ``patience`` it stops early: a budget in passes, for data of any size."""
        if steps_per_pass < 1 or passes <= 0 or per_pass < 1:
            raise ValueError("steps_per_pass, passes and per_pass must be > 0")
        return self.replace(steps=max(1, round(passes * steps_per_pass)),
                            eval_every=max(min_eval_every, steps_per_pass // per_pass))


# Every size that differs between profiles lives here, one entry per chapter; the
# training part of a chapter's sizes is a TrainConfig under a key ending in "train".
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
        # orders: the n of each model, all built with `model` and trained with `train`
        "smoke": dict(train_tokens=20_000, eval_tokens=4_000, orders=(3,), batch_size=64,
                      model=dict(embed_size=16, hidden_size=32, direct=False, dropout=0.0),
                      train=TrainConfig(steps=40, lr=3e-3, eval_every=20, eval_batches=20)),
        "cpu": dict(train_tokens=None, eval_tokens=None, orders=(3, 5), batch_size=256,
                    model=dict(embed_size=64, hidden_size=128, direct=False, dropout=0.0),
                    train=TrainConfig(steps=2500, lr=3e-3, eval_every=250, eval_batches=20)),
        # A GPU recipe: wider, with direct connections, dropout against overfitting, weight
        # decay, a cosine schedule and bfloat16 matmuls; the features still start small.
        "full": dict(train_tokens=None, eval_tokens=None, orders=(3, 5), batch_size=512,
                     model=dict(embed_size=256, hidden_size=1024, direct=True, dropout=0.4),
                     train=TrainConfig(steps=20_000, lr=2e-3, weight_decay=0.01,
                                       schedule="cosine", warmup=500, eval_every=1000,
                                       eval_batches=20, amp=True)),
    },
    "03_rnn": {
        # batch_size × bptt tokens per step; char_* for the character-level model
        "smoke": dict(train_tokens=20_000, eval_tokens=3_000, batch_size=8, bptt=20,
                      model=dict(embed_size=16, hidden_size=32, dropout=0.0, tie=False),
                      train=TrainConfig(steps=20, lr=3e-3, eval_every=10, eval_batches=20),
                      char_tokens=20_000, char_batch_size=8, char_bptt=100,
                      char_model=dict(embed_size=32, hidden_size=32, dropout=0.0),
                      char_train=TrainConfig(steps=20, lr=3e-3, eval_every=10, eval_batches=10)),
        "cpu": dict(train_tokens=None, eval_tokens=None, batch_size=32, bptt=35,
                    model=dict(embed_size=64, hidden_size=128, dropout=0.0, tie=False),
                    train=TrainConfig(steps=900, lr=3e-3, eval_every=100, eval_batches=20),
                    char_tokens=None, char_batch_size=32, char_bptt=100,
                    char_model=dict(embed_size=32, hidden_size=128, dropout=0.0),
                    char_train=TrainConfig(steps=800, lr=3e-3, eval_every=100, eval_batches=10)),
        # The GPU recipe of a well-regularised RNN LM: 512 units, the embedding tied to the
        # output layer, dropout 0.3, AdamW 2e-3 with a cosine decay, clipping at 0.5.
        "full": dict(train_tokens=None, eval_tokens=None, batch_size=32, bptt=70,
                     model=dict(embed_size=512, hidden_size=512, dropout=0.3, tie=True),
                     train=TrainConfig(steps=10_000, lr=2e-3, weight_decay=0.01, clip=0.5,
                                       schedule="cosine", eval_every=500, eval_batches=None),
                     char_tokens=None, char_batch_size=64, char_bptt=100,
                     char_model=dict(embed_size=64, hidden_size=512, dropout=0.1),
                     char_train=TrainConfig(steps=6000, lr=2e-3, weight_decay=0.01, clip=0.5,
                                            schedule="cosine", eval_every=500, eval_batches=20)),
    },
    "04_bptt": {
        # the echo task: remember each symbol for `delay` steps, trained with each truncation
        # length in `bptt_lengths`; `row_tokens` per batch row
        "smoke": dict(lengths=(20, 40, 80), delay=4, bptt_lengths=(2, 8), row_tokens=400,
                      echo_batch_size=8, hidden_size=16, lr=1e-2),
        "cpu": dict(lengths=(50, 100, 200, 400), delay=4, bptt_lengths=(2, 4, 8, 16),
                    row_tokens=4000, echo_batch_size=32, hidden_size=32, lr=1e-2),
        "full": dict(lengths=(50, 100, 200, 400, 800), delay=8, bptt_lengths=(2, 4, 8, 16, 32),
                     row_tokens=16_000, echo_batch_size=64, hidden_size=64, lr=5e-3),
    },
    "05_gradients": {
        # jacobians: random cells of `jacobian_size` units read `jacobian_length` steps of
        # inputs scaled by 0.5, at each of `radii`; then for `explode_radii`, every input
        # scale of `input_scales` and `jacobian_seeds` seeds, whether tanh cells explode;
        # adding: the adding problem at lengths short and long, `adding_train` each;
        # explode: a ReLU character RNN trained with SGD at a high rate, clipped or not
        "smoke": dict(jacobian_size=8, jacobian_length=20, radii=(0.5, 1.0, 1.5),
                      explode_radii=(3.0,), input_scales=(0.5, 2.0), jacobian_seeds=1,
                      reach_windows=2,
                      adding_lengths=(10, 30), adding_batch_size=16, adding_hidden_size=16,
                      adding_train=TrainConfig(steps=20, lr=3e-3, eval_every=10),
                      identity_lr=1e-3, explode_hidden_size=32, explode_chars=20_000,
                      explode_train=TrainConfig(steps=10, lr=1.0, optimizer="sgd", clip=None,
                                                eval_every=5, eval_batches=2)),
        "cpu": dict(jacobian_size=32, jacobian_length=60, radii=(0.5, 0.75, 1.0, 1.5, 2.0, 3.0),
                    explode_radii=(1.5, 2.0, 3.0), input_scales=(0.1, 0.5, 1.0, 2.0),
                    jacobian_seeds=3, reach_windows=20,
                    adding_lengths=(10, 100), adding_batch_size=64, adding_hidden_size=64,
                    adding_train=TrainConfig(steps=2000, lr=3e-3, eval_every=200),
                    identity_lr=1e-3, explode_hidden_size=128, explode_chars=400_000,
                    explode_train=TrainConfig(steps=300, lr=1.0, optimizer="sgd", clip=None,
                                              eval_every=50, eval_batches=5)),
        "full": dict(jacobian_size=64, jacobian_length=100,
                     radii=(0.5, 0.75, 1.0, 1.5, 2.0, 3.0), explode_radii=(1.5, 2.0, 3.0),
                     input_scales=(0.1, 0.5, 1.0, 2.0), jacobian_seeds=5, reach_windows=50,
                     adding_lengths=(10, 100), adding_batch_size=64, adding_hidden_size=64,
                     adding_train=TrainConfig(steps=4000, lr=3e-3, eval_every=250),
                     identity_lr=1e-3, explode_hidden_size=256, explode_chars=None,
                     explode_train=TrainConfig(steps=600, lr=1.0, optimizer="sgd", clip=None,
                                               eval_every=50, eval_batches=5)),
    },
    "06_lstm": {
        # adding: the LSTM on the adding problem at each length (forget-gate bias 1, and 0);
        # model/train: the word LM (its RNN counterpart is Chapter 3's); char_*: characters;
        # code_*: a character LSTM on Python source, for the interpretable cells; ablation:
        # (label, changes to `model`) trained with `ablation_train`, full only
        "smoke": dict(adding_lengths=(20,), adding_batch_size=16, adding_hidden_size=16,
                      adding_train=TrainConfig(steps=20, lr=3e-3, eval_every=10),
                      train_tokens=20_000, eval_tokens=3_000, batch_size=8, bptt=20,
                      model=dict(embed_size=16, hidden_size=32, cell="lstm"),
                      train=TrainConfig(steps=20, lr=8e-3, eval_every=10, eval_batches=20),
                      char_tokens=20_000, char_batch_size=8, char_bptt=50,
                      char_model=dict(embed_size=16, hidden_size=32, cell="lstm"),
                      char_train=TrainConfig(steps=20, lr=5e-3, eval_every=10, eval_batches=5),
                      code_chars=20_000, code_hidden_size=32,
                      code_train=TrainConfig(steps=20, lr=5e-3, eval_every=10, eval_batches=2),
                      reach_length=20, reach_windows=2, ablation=(), ablation_train=None),
        "cpu": dict(adding_lengths=(100,), adding_batch_size=64, adding_hidden_size=64,
                    adding_train=TrainConfig(steps=2000, lr=3e-3, eval_every=200),
                    train_tokens=None, eval_tokens=None, batch_size=32, bptt=35,
                    model=dict(embed_size=64, hidden_size=128, cell="lstm"),
                    train=TrainConfig(steps=900, lr=8e-3, eval_every=100, eval_batches=20),
                    char_tokens=None, char_batch_size=32, char_bptt=100,
                    char_model=dict(embed_size=32, hidden_size=128, cell="lstm"),
                    char_train=TrainConfig(steps=800, lr=5e-3, eval_every=100, eval_batches=10),
                    code_chars=300_000, code_hidden_size=128,
                    code_train=TrainConfig(steps=600, lr=5e-3, eval_every=200, eval_batches=5),
                    reach_length=60, reach_windows=20, ablation=(), ablation_train=None),
        # The GPU recipe of a well-regularised LSTM LM (65.3 test perplexity in 150 s on
        # an H100): 2 layers of 650 units, tied weights, dropout 0.5, AdamW 2e-3 with a
        # cosine decay, clipping at 0.5, 32 streams of 70 tokens.
        "full": dict(adding_lengths=(100, 200), adding_batch_size=64, adding_hidden_size=64,
                     adding_train=TrainConfig(steps=3000, lr=3e-3, eval_every=250),
                     train_tokens=None, eval_tokens=None, batch_size=32, bptt=70,
                     model=dict(embed_size=650, hidden_size=650, num_layers=2, dropout=0.5,
                                tie=True, cell="lstm"),
                     train=TrainConfig(steps=12_600, lr=2e-3, weight_decay=0.01, clip=0.5,
                                       schedule="cosine", eval_every=600, eval_batches=None),
                     char_tokens=None, char_batch_size=64, char_bptt=200,
                     char_model=dict(embed_size=64, hidden_size=512, num_layers=2, dropout=0.2,
                                     cell="lstm"),
                     char_train=TrainConfig(steps=5000, lr=2e-3, weight_decay=0.01, clip=0.5,
                                            schedule="cosine", eval_every=500, eval_batches=20),
                     code_chars=None, code_hidden_size=256,
                     code_train=TrainConfig(steps=2000, lr=2e-3, eval_every=500, eval_batches=5),
                     reach_length=100, reach_windows=50,
                     ablation=(("without tying", dict(tie=False)),
                               ("without dropout between layers", dict(layer_dropout=0.0)),
                               ("without any dropout", dict(dropout=0.0))),
                     ablation_train=TrainConfig(steps=2000, lr=2e-3, weight_decay=0.01,
                                                clip=0.5, schedule="cosine", eval_every=500,
                                                eval_batches=None)),
    },
    "07_gru": {
        # compare: RNN, LSTM and GRU, each sized to `lstm_hidden_size`'s parameter count and
        # trained at its own rate (`lr`), once per seed, on the adding problem
        # (`adding_train`, each length), the word LM (`word_train`) and the char LM
        # (`char_train`); gates: the LSTM variants of Greff et al. on the adding problem;
        # sweep: learning rates for the character LSTM and GRU (`sweep_train`); the rate
        # in those TrainConfigs is replaced by each cell's (`lr`) or the swept one
        "smoke": dict(seeds=(0,), adding_lengths=(20,), adding_hidden_size=8,
                      adding_train=TrainConfig(steps=20, lr=3e-3, eval_every=10),
                      train_tokens=20_000, eval_tokens=3_000, batch_size=8, bptt=20,
                      word_embed_size=16, word_hidden_size=32,
                      word_train=TrainConfig(steps=10, lr=1.0, eval_every=5, eval_batches=5),
                      char_tokens=20_000, char_batch_size=8, char_bptt=50, char_hidden_size=16,
                      char_train=TrainConfig(steps=10, lr=1.0, eval_every=5, eval_batches=5),
                      lr=dict(rnn=3e-3, lstm=8e-3, gru=8e-3), gate_length=20,
                      sweep_rates=(3e-3, 3e-2), sweep_train=TrainConfig(steps=10, lr=1.0,
                                                                         eval_every=5,
                                                                         eval_batches=2)),
        "cpu": dict(seeds=(0, 1), adding_lengths=(100,), adding_hidden_size=64,
                    adding_train=TrainConfig(steps=2000, lr=3e-3, eval_every=200),
                    train_tokens=None, eval_tokens=None, batch_size=16, bptt=35,
                    word_embed_size=64, word_hidden_size=128,
                    word_train=TrainConfig(steps=250, lr=1.0, eval_every=125, eval_batches=10),
                    char_tokens=None, char_batch_size=32, char_bptt=100, char_hidden_size=128,
                    char_train=TrainConfig(steps=300, lr=1.0, eval_every=100, eval_batches=10),
                    lr=dict(rnn=3e-3, lstm=8e-3, gru=8e-3), gate_length=100,
                    sweep_rates=(1e-3, 3e-3, 1e-2, 3e-2, 1e-1),
                    sweep_train=TrainConfig(steps=200, lr=1.0, eval_every=100, eval_batches=10)),
        "full": dict(seeds=(0, 1, 2), adding_lengths=(100, 200), adding_hidden_size=64,
                     adding_train=TrainConfig(steps=3000, lr=3e-3, eval_every=250),
                     train_tokens=None, eval_tokens=None, batch_size=32, bptt=70,
                     word_embed_size=256, word_hidden_size=512,
                     word_train=TrainConfig(steps=2000, lr=1.0, clip=0.5, eval_every=500,
                                            eval_batches=None),
                     char_tokens=None, char_batch_size=64, char_bptt=100, char_hidden_size=512,
                     char_train=TrainConfig(steps=1500, lr=1.0, clip=0.5, eval_every=500,
                                            eval_batches=20),
                     lr=dict(rnn=2e-3, lstm=2e-3, gru=2e-3), gate_length=100,
                     sweep_rates=(3e-4, 1e-3, 3e-3, 1e-2, 3e-2),
                     sweep_train=TrainConfig(steps=1000, lr=1.0, clip=0.5, eval_every=250,
                                             eval_batches=10)),
    },
    "08_bilstm": {
        # punctuation: taggers on the first `train_lines` labelled lines (None: all), read
        # in batches of `batch_size` lines, each trained from every seed of `seeds` with
        # `tag_train` for at most `tag_passes` passes (evaluated twice a pass, kept and
        # stopped early on valid macro F1); `stacks`: (depth, residual) of the deeper
        # bidirectional stacks; kind: classifiers over speeches (cut at
        # `max_speech_tokens`) trained with `kind_train` (the bag of words with
        # `bow_train`) for at most `kind_passes` passes; the steps come from the passes
        "smoke": dict(train_lines=400, eval_lines=200, batch_size=16, embed_size=16,
                      hidden_size=16, dropout=0.2, seeds=(0,), stacks=((2, True),),
                      tag_train=TrainConfig(steps=1, lr=3e-3, patience=3), tag_passes=2,
                      kind_speeches=300, max_speech_tokens=60, kind_hidden_size=16,
                      kind_train=TrainConfig(steps=1, lr=3e-3, patience=3), kind_passes=1,
                      bow_train=TrainConfig(steps=1, lr=1e-2, patience=3)),
        "cpu": dict(train_lines=30_000, eval_lines=None, batch_size=64, embed_size=64,
                    hidden_size=64, dropout=0.2, seeds=(0, 1),
                    stacks=((2, True), (3, True), (3, False)),
                    tag_train=TrainConfig(steps=1, lr=3e-3, patience=3), tag_passes=8,
                    kind_speeches=None, max_speech_tokens=100, kind_hidden_size=64,
                    kind_train=TrainConfig(steps=1, lr=2e-3, patience=3), kind_passes=8,
                    bow_train=TrainConfig(steps=1, lr=1e-2, weight_decay=1e-2, patience=3)),
        "full": dict(train_lines=None, eval_lines=None, batch_size=64, embed_size=128,
                     hidden_size=256, dropout=0.3, seeds=(0, 1, 2),
                     stacks=((2, True), (3, True), (3, False)),
                     tag_train=TrainConfig(steps=1, lr=2e-3, patience=3), tag_passes=10,
                     kind_speeches=None, max_speech_tokens=300, kind_hidden_size=128,
                     kind_train=TrainConfig(steps=1, lr=1e-3, patience=3), kind_passes=10,
                     bow_train=TrainConfig(steps=1, lr=1e-2, weight_decay=1e-2, patience=3)),
    },
    "09_elmo": {
        # biLM: `bilm_size` units per layer and direction, a token layer of the same size,
        # `samples` negatives of the sampled softmax, windows of `bilm_bptt` tokens in
        # `bilm_batch_size` streams, trained with `bilm_train` on the first `bilm_tokens`
        # unpunctuated training tokens (None: all); taggers as in Chapter 8 on `fractions`
        # of `train_lines` labelled lines spread over the training plays (None: all),
        # `seeds[fraction]` seeds each, each trained with `tag_train` for at most
        # `passes[fraction]` passes over its lines
        # (evaluated twice a pass, at most every `min_eval_every` steps, kept and
        # stopped early on valid macro F1 over `valid_lines`), tested on `eval_lines`
        # (None: all)
        "smoke": dict(bilm_size=16, samples=64, bilm_batch_size=8, bilm_bptt=20,
                      bilm_tokens=20_000, eval_tokens=2_000,
                      bilm_train=TrainConfig(steps=10, lr=3e-3, eval_every=5, eval_batches=2),
                      train_lines=300, valid_lines=100, eval_lines=100, fractions=(0.1, 1.0),
                      seeds={0.1: 1, 1.0: 1}, passes={0.1: 2, 1.0: 1}, min_eval_every=5,
                      tag_train=TrainConfig(steps=1, lr=3e-3, patience=3),
                      batch_size=16, embed_size=16, hidden_size=16, dropout=0.2,
                      neighbour_lines=300),
        "cpu": dict(bilm_size=128, samples=512, bilm_batch_size=32, bilm_bptt=35,
                    bilm_tokens=None, eval_tokens=None,
                    bilm_train=TrainConfig(steps=1000, lr=3e-3, eval_every=250,
                                           eval_batches=20, schedule="cosine"),
                    train_lines=10_000, valid_lines=2_000, eval_lines=None,
                    fractions=(0.01, 0.1, 1.0), seeds={0.01: 5, 0.1: 3, 1.0: 3},
                    passes={0.01: 300, 0.1: 80, 1.0: 12}, min_eval_every=40,
                    tag_train=TrainConfig(steps=1, lr=3e-3, patience=3),
                    batch_size=64, embed_size=64, hidden_size=64, dropout=0.2,
                    neighbour_lines=3000),
        "full": dict(bilm_size=512, samples=2048, bilm_batch_size=64, bilm_bptt=35,
                     bilm_tokens=None, eval_tokens=None,
                     bilm_train=TrainConfig(steps=6000, lr=2e-3, eval_every=1000,
                                            eval_batches=50, schedule="cosine", warmup=200),
                     train_lines=None, valid_lines=None, eval_lines=None,
                     fractions=(0.01, 0.1, 1.0), seeds={0.01: 5, 0.1: 3, 1.0: 3},
                     passes={0.01: 300, 0.1: 80, 1.0: 12}, min_eval_every=50,
                     tag_train=TrainConfig(steps=1, lr=2e-3, patience=3),
                     batch_size=64, embed_size=128, hidden_size=256, dropout=0.3,
                     neighbour_lines=10_000),
    },
    "10_seq2seq": {
        # g2p on cmudict: the first `train_words` training words (None: all, evenly spaced
        # otherwise), every pronunciation of each; models chosen on the greedy WER of
        # `valid_words` valid words, tested on `test_words`; `model`: Seq2Seq's sizes,
        # attention scored with `score`; `train`: the recipe, at most `passes` passes
        # over the training pairs in batches of `batch_size`, evaluated `evals_per_pass`
        # times a pass; `workers` models trained side by side (train.train_all); the
        # baseline aligns every `align_every`-th pair with `align_iterations` rounds of
        # hard EM and reads `baseline_width` letters either side; beam search with
        # `beam`, and WER against every width in `beam_widths`
        "smoke": dict(train_words=500, valid_words=40, test_words=100, seeds=(0,),
                      model=dict(embed_size=8, hidden_size=16, decoder_size=32, dropout=0.0),
                      score="general", batch_size=32, passes=2, evals_per_pass=1,
                      train=TrainConfig(steps=1, lr=3e-3), workers=2,
                      align_every=2, align_iterations=1, baseline_width=1,
                      beam=3, beam_widths=(1, 3)),
        "cpu": dict(train_words=None, valid_words=1000, test_words=None, seeds=(0, 1),
                    model=dict(embed_size=32, hidden_size=64, decoder_size=128, dropout=0.0),
                    score="general", batch_size=64, passes=3, evals_per_pass=2,
                    train=TrainConfig(steps=1, lr=2e-3, patience=2), workers=2,
                    align_every=5, align_iterations=2, baseline_width=2,
                    beam=5, beam_widths=(1, 2, 3, 5)),
        # Not yet measured on a GPU: sized from the cpu runs (wider, with dropout, trained
        # until the valid WER stops improving).
        "full": dict(train_words=None, valid_words=None, test_words=None, seeds=(0, 1, 2),
                     model=dict(embed_size=64, hidden_size=256, decoder_size=512, dropout=0.2),
                     score="general", batch_size=256, passes=30, evals_per_pass=1,
                     train=TrainConfig(steps=1, lr=2e-3, patience=4), workers=1,
                     align_every=1, align_iterations=3, baseline_width=2,
                     beam=5, beam_widths=(1, 2, 3, 5, 10, 20)),
    },
})


# --------------------------------------------------------------------------- the environment

def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value else None


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _choice(given: str | None, variable: str, choices: tuple[str, ...], what: str) -> str:
    """The argument, else the environment variable, else "auto"; one of ``choices``."""
    value = str(given if given is not None else (_env(variable) or "auto")).strip().lower()
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}; choose one of {', '.join(choices)}")
    return value


def resolve_profile(profile: str | None = None) -> str:
    """The concrete profile: the argument, else ``SEQLM_PROFILE``, else ``auto``."""
    value = _choice(profile, "SEQLM_PROFILE", PROFILE_CHOICES, "profile")
    if value == "auto":
        return "full" if _cuda_available() else "cpu"
    return value


def resolve_device(device: str | None = None):
    """The ``torch.device`` to run on: the argument, else ``SEQLM_DEVICE``, else ``auto``."""
    import torch

    value = _choice(device, "SEQLM_DEVICE", DEVICE_CHOICES, "device")
    if value == "auto":
        value = "cuda" if torch.cuda.is_available() else "cpu"
    if value == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            "device 'cuda' was asked for but no CUDA GPU is available; "
            f"choose one of {', '.join(DEVICE_CHOICES)} (auto falls back to cpu)")
    return torch.device(value)


def _checkout() -> Path | None:
    """The repository this package is imported from (an editable install), else None."""
    here = Path(__file__).resolve().parents[2]
    if (here / "pyproject.toml").is_file() and (here / "notebooks").is_dir():
        return here
    return None


def project_root() -> Path:
    """The repository root for an editable install, else the working directory."""
    return _checkout() or Path.cwd()


def resolve_results_dir(directory: str | Path | None = None) -> Path:
    """Where chapters write their headline numbers: the argument, else ``SEQLM_RESULTS``,
    else ``_build/results`` under the repository (or the working directory)."""
    value = directory if directory is not None else _env("SEQLM_RESULTS")
    return Path(value) if value else project_root() / "_build" / "results"


def cache_dir() -> Path:
    """Where prepared corpora are cached: ``SEQLM_CACHE``, else ``data/cache`` of the
    repository for an editable install, else the user's cache folder
    (``$XDG_CACHE_HOME/seqlm``, by default ``~/.cache/seqlm``): an installed package never
    writes into whatever folder it runs from."""
    value = _env("SEQLM_CACHE")
    if value:
        return Path(value)
    checkout = _checkout()
    if checkout is not None:
        return checkout / "data" / "cache"
    return Path(_env("XDG_CACHE_HOME") or Path.home() / ".cache") / "seqlm"


GRADING_CASES = "SEQLM_GRADING_CASES"


def grading_cases() -> Path | None:
    """The grader's cases file in a kernel that is being graded (``SEQLM_GRADING_CASES``),
    else None."""
    value = _env(GRADING_CASES)
    return Path(value) if value else None


def cpu_cores() -> int:
    """The processor cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


THREADS = "SEQLM_THREADS"


def threads_per_worker(workers: int) -> int:
    """Intra-op threads for each of ``workers`` processes that run side by side:
    ``SEQLM_THREADS`` when set (the user's override), else cores ÷ workers, at least 1."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer ≥ 1, got {workers!r}")
    given = _env(THREADS)
    if given is not None:
        if not given.isdigit() or int(given) < 1:
            raise ValueError(f"{THREADS} must be a whole number ≥ 1, got {given!r}")
        return int(given)
    return max(1, cpu_cores() // workers)


def worker_environment(workers: int) -> dict[str, str]:
    """The environment variables for a process started to run beside ``workers - 1``
    others: OpenMP and MKL limited to :func:`threads_per_worker` threads, waiting
    passively (a thread that has finished its share sleeps instead of spinning on a
    core another process needs). Empty for a process that runs alone, unless
    ``SEQLM_THREADS`` asks for a number; an ``OMP_NUM_THREADS`` the user set is kept."""
    if workers == 1 and _env(THREADS) is None:
        return {}
    threads = str(threads_per_worker(workers))
    if _env(THREADS) is None and _env("OMP_NUM_THREADS") is not None:
        threads = _env("OMP_NUM_THREADS")
    return {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
            "OPENBLAS_NUM_THREADS": threads, "OMP_WAIT_POLICY": "PASSIVE"}


def share_cores(workers: int) -> dict[str, str]:
    """Prepare this process to start ``workers`` processes that run side by side: their
    environment (:func:`worker_environment`) goes into ``os.environ``, which child
    processes inherit. Returns what was set."""
    settings = worker_environment(workers)
    os.environ.update(settings)
    return settings


def resolve_quiet(value: bool | None = None) -> bool:
    """Whether nobody watches this run (no progress bars): the argument, else whether
    ``SEQLM_QUIET`` or ``CI`` is set."""
    if value is not None:
        return bool(value)
    return bool(_env("SEQLM_QUIET") or _env("CI"))


# --------------------------------------------------------------------------- a chapter's run

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
    """What a chapter knows about its run, resolved once by :func:`setup`."""

    chapter: str
    profile: str
    device: object  # torch.device
    seed: int
    rng: np.random.Generator
    size: dict      # the chapter's sizes for this profile; TrainConfigs know `quiet`
    results_dir: Path
    quiet: bool     # nobody watches: no progress bars


def setup(chapter: str, profile: str | None = None, device: str | None = None, seed: int = 0,
          results_dir: str | Path | None = None, quiet: bool | None = None) -> Setup:
    """Resolve profile, device, results directory and quietness, seed everything, and look
    up the chapter's sizes. Arguments left as ``None`` come from the environment."""
    concrete = resolve_profile(profile)
    silent = resolve_quiet(quiet)
    size = {k: v.replace(progress=not silent) if isinstance(v, TrainConfig) else v
            for k, v in sizes(chapter, concrete).items()}
    return Setup(chapter=chapter, profile=concrete, device=resolve_device(device), seed=seed,
                 rng=seed_everything(seed), size=size,
                 results_dir=resolve_results_dir(results_dir), quiet=silent)
