"""Why the chapters train with torch's fused layers: every from-scratch recurrent layer
against its fused replacement, timed side by side.

    python bench/bench_cells.py [--device cpu] [--batch 32] [--steps 35] [--hidden 128]
                                [--repeats 5] [--compile]

Forward and backward of one batch through a one-layer layer, for each cell:

- RNN: ``seqlm.rnn.ElmanRNN`` (a Python loop over time) against ``nn.RNN``;
- LSTM: ``seqlm.lstm.LSTM`` against ``nn.LSTM``;
- coupled LSTM (f = 1 - i): ``seqlm.lstm.LSTM(variant="coupled")`` against
  ``seqlm.lstm.CoupledLSTM`` (nn.LSTM's kernel with the forget rows tied);
- GRU: ``seqlm.gru.GRU`` against ``nn.GRU``;

each pair with the same weights, whose outputs are checked to agree before any time is
printed; each timed after a warm-up (synchronised on a GPU), best of ``repeats``. With
``--compile`` the loops are also timed under ``torch.compile``. Prints milliseconds and
the ratio loop / fused per cell.
"""

import argparse

import torch
from torch import nn

from seqlm import gru, lstm, results, rnn


def step(model, x):
    """One forward and backward pass; the output, for the agreement check."""
    model.zero_grad(set_to_none=True)
    out, _ = model(x)
    out.sum().backward()
    return out.detach()


def pairs(hidden: int):
    """(name, from-scratch loop, fused layer), with the loop's weights copied from the fused one."""
    fused = {"RNN": nn.RNN(hidden, hidden, batch_first=True),
             "LSTM": nn.LSTM(hidden, hidden, batch_first=True),
             "coupled LSTM": lstm.CoupledLSTM(hidden, hidden),
             "GRU": nn.GRU(hidden, hidden, batch_first=True)}
    loops = {"RNN": rnn.ElmanRNN(hidden, hidden), "LSTM": lstm.LSTM(hidden, hidden),
             "coupled LSTM": lstm.LSTM(hidden, hidden, variant="coupled"),
             "GRU": gru.GRU(hidden, hidden)}
    for name, layer in fused.items():
        loops[name].load_state_dict(layer.state_dict())
        yield name, loops[name], layer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=35, help="time steps T")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--compile", action="store_true", help="also time the compiled loops")
    args = parser.parse_args()
    torch.manual_seed(0)
    x = torch.randn(args.batch, args.steps, args.hidden, device=args.device)
    tolerance = 1e-3 if args.device == "cuda" else 1e-5
    print(f"forward + backward, batch {args.batch} × {args.steps} steps × {args.hidden} units, "
          f"on {args.device}, best of {args.repeats}")
    for name, loop, fused in pairs(args.hidden):
        loop, fused = loop.to(args.device), fused.to(args.device)
        models = {"loop": loop, "fused": fused}
        if args.compile:
            models["loop, compiled"] = torch.compile(loop)
        times = {}
        for kind, model in models.items():
            out, times[kind] = results.timed(lambda: step(model, x), args.device, warmup=2,
                                             repeats=args.repeats)
            gap = (out - step(fused, x)).abs().max().item()
            assert gap < tolerance, f"{name}, {kind}: disagrees with the fused layer by {gap}"
        print(f"{name:13s} " + "  ".join(f"{kind} {t * 1000:8.2f} ms" for kind, t in times.items())
              + f"   loop / fused {times['loop'] / times['fused']:5.1f}×")


if __name__ == "__main__":
    main()
