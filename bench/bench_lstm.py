"""Why the chapters train with nn.LSTM: the from-scratch LSTM against torch's, timed.

    python bench/bench_lstm.py [--device cpu] [--batch 32] [--steps 35] [--hidden 256]
                               [--repeats 5] [--no-compile]

Forward and backward of one batch through a one-layer LSTM: ``seqlm.lstm.LSTM`` (a
Python loop over time), the same module under ``torch.compile``, and ``nn.LSTM``
(oneDNN on a CPU, cuDNN on a GPU), with the same weights; each timed after a
warm-up (synchronised on a GPU), best of ``repeats``. Their outputs are checked to
agree before any time is printed. Prints seconds and the ratios to nn.LSTM.
"""

import argparse

import torch
from torch import nn

from seqlm import lstm, results


def step(model, x):
    """One forward and backward pass; the output, for the agreement check."""
    model.zero_grad(set_to_none=True)
    out, _ = model(x)
    out.sum().backward()
    return out.detach()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=35, help="time steps T")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    args = parser.parse_args()
    torch.manual_seed(0)
    reference = nn.LSTM(args.hidden, args.hidden, batch_first=True).to(args.device)
    scratch = lstm.LSTM(args.hidden, args.hidden).to(args.device)
    scratch.load_state_dict(reference.state_dict())
    x = torch.randn(args.batch, args.steps, args.hidden, device=args.device)
    models = {"nn.LSTM": reference, "seqlm.lstm.LSTM (Python loop)": scratch}
    if not args.no_compile:
        models["seqlm.lstm.LSTM, torch.compile"] = torch.compile(scratch)
    timings = {}
    for name, model in models.items():
        out, seconds = results.timed(lambda: step(model, x), args.device, warmup=2,
                                     repeats=args.repeats)
        gap = (out - step(reference, x)).abs().max().item()
        assert gap < (1e-3 if args.device == "cuda" else 1e-5), f"{name} disagrees by {gap}"
        timings[name] = seconds
    print(f"forward + backward, batch {args.batch} × {args.steps} steps × {args.hidden} units, "
          f"on {args.device}, best of {args.repeats}")
    for name, seconds in timings.items():
        print(f"{name:32s} {seconds * 1000:9.2f} ms   {seconds / timings['nn.LSTM']:6.1f}× nn.LSTM")


if __name__ == "__main__":
    main()
