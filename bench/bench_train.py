"""Steps per second of the training loop, against the loop of an earlier commit.

    python bench/bench_train.py [--baseline REV] [--steps 300] [--repeats 3] [--device cpu]

Both loops train the same recurrent LM (a Chapter 3 model, 128 units over a
10,835-word vocabulary by default, batches of 32 × 35) on the same stream from the same
seed, one after the other (alternating which goes first), `repeats` times; the script
prints each loop's median steps per second and the median of the run-by-run ratios. The baseline's ``train.py`` is read from git
(``git show REV:src/seqlm/train.py``) and loaded as a separate module.
"""

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from seqlm import batches, rnn, train

ROOT = Path(__file__).resolve().parents[1]


def baseline_module(rev: str):
    source = subprocess.run(["git", "show", f"{rev}:src/seqlm/train.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "train_baseline.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("train_baseline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def steps_per_second(loop, steps: int, device: str, vocab: int = 10_835) -> float:
    ids = np.random.default_rng(0).integers(0, vocab, 400_000)
    source = batches.StreamBatches(ids, 32, 35)
    valid = batches.StreamBatches(ids[:20_000], 16, 100)
    torch.manual_seed(0)
    model = rnn.RNNLM(vocab, 64, 128).to(device)
    config = loop.TrainConfig(steps=steps, lr=3e-3, eval_every=steps, eval_batches=2,
                              progress=False)
    if device == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    loop.train(model, source, valid, config, device)
    if device == "cuda":
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="e7e55ca", help="the commit to compare with")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--vocab", type=int, default=10_835,
                        help="output classes; a small one makes the loop's own cost visible")
    args = parser.parse_args()
    loops = {"baseline": baseline_module(args.baseline), "current": train}
    speeds = {name: [] for name in loops}
    steps_per_second(train, 20, args.device, args.vocab)  # warm-up
    for r in range(args.repeats):  # alternate which loop goes first
        for name in (["baseline", "current"] if r % 2 == 0 else ["current", "baseline"]):
            speeds[name].append(steps_per_second(loops[name], args.steps, args.device, args.vocab))
    ratios = sorted(c / b for c, b in zip(speeds["current"], speeds["baseline"]))
    print(f"training loop, {args.steps} steps on {args.device} (|V| = {args.vocab:,}), "
          f"{args.repeats} alternating runs each")
    for name, values in speeds.items():
        label = args.baseline if name == "baseline" else "working tree"
        print(f"{name:>9s} ({label}): median {statistics.median(values):6.1f} steps/s "
              f"(min {min(values):.1f}, max {max(values):.1f})")
    print(f"ratio current / baseline, run by run: median {statistics.median(ratios):.3f} "
          f"(min {ratios[0]:.3f}, max {ratios[-1]:.3f})")


if __name__ == "__main__":
    sys.exit(main())
