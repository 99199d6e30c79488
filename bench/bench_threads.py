"""Threads on a shared machine: a word-LM training step alone, and two processes side by
side with torch's default threads against the shared setting of seqlm.config.

    python bench/bench_threads.py [--steps 30] [--repeats 3]

Each measurement runs ``--steps`` training steps of Chapter 3's word RNN LM (128 units,
the 10,835-word softmax, 32 × 35 tokens) in a fresh process and reports its median
seconds per step; "side by side" starts two such processes at once and reports the
slower one. Printed: seconds per step for

- one process alone, with every core (torch's default);
- two processes side by side, each with torch's default threads;
- two processes side by side, sharing the cores as ``seqlm run --jobs 2`` and
  ``pytest -n 2`` do (``seqlm.config.worker_environment(2)``: cores ÷ 2 threads,
  a passive OpenMP wait),

and the ratios between them. On 2 cores the default setting has measured several
times slower than the shared one (issue 16); a regression shows as that ratio
falling back towards 1 while the shared setting slows down.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

from seqlm import config

CHILD = r"""
import json, sys, time
import torch
from seqlm import batches, data, rnn, train
steps = int(sys.argv[1])
corpus = data.load_shakespeare("word")
torch.manual_seed(0)
model = rnn.RNNLM(len(corpus.vocab), 64, 128)
source = batches.StreamBatches(corpus.ids("train"), 32, 35)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
times, state = [], None
for i, (x, y) in enumerate(source()):
    if i == steps + 3:
        break
    start = time.perf_counter()
    loss, state = train.loss_of(model, x, y, state)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    state = train.detach(state)
    if i >= 3:  # after a warm-up
        times.append(time.perf_counter() - start)
print(json.dumps({"seconds": sorted(times)[len(times) // 2], "threads": torch.get_num_threads()}))
"""


def run(processes: int, env: dict, steps: int) -> tuple[float, int]:
    """Start `processes` children at once; the slowest median step and their threads."""
    children = [subprocess.Popen([sys.executable, "-c", CHILD, str(steps)], env=env,
                                 stdout=subprocess.PIPE, text=True) for _ in range(processes)]
    out = [json.loads(child.communicate()[0]) for child in children]
    return max(o["seconds"] for o in out), out[0]["threads"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    own = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY",
                        "OPENBLAS_NUM_THREADS", "SEQLM_THREADS")}
    shared = own | config.worker_environment(2)
    settings = {"alone, default threads": (1, own), "two side by side, default threads": (2, own),
                "two side by side, shared cores": (2, shared)}
    results = {name: [] for name in settings}
    threads = {}
    for _ in range(args.repeats):  # alternate the settings, so a drifting machine hits all
        for name, (processes, env) in settings.items():
            seconds, threads[name] = run(processes, env, args.steps)
            results[name].append(seconds)
    median = {name: statistics.median(values) for name, values in results.items()}
    print(f"word RNN LM training step, {config.cpu_cores()} cores, median of {args.repeats} runs "
          f"of {args.steps} steps")
    for name, seconds in median.items():
        print(f"{name:36s} {seconds * 1000:8.1f} ms a step ({threads[name]} thread(s) each)")
    default, shared_ = median["two side by side, default threads"], median["two side by side, shared cores"]
    print(f"side by side: default threads are {default / shared_:.1f}× slower than shared cores; "
          f"shared cores cost {shared_ / median['alone, default threads']:.1f}× a step alone")


if __name__ == "__main__":
    main()
