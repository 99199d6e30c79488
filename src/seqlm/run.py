"""The driver behind ``make book``: execute chapters with papermill, then build the book.

``seqlm run --profile cpu --device cpu --only 01_ngrams`` executes the chosen
chapters into ``_build/executed/``, their results go to ``_build/results/``, and
:mod:`seqlm.book` builds the HTML from them. ``--jobs N`` executes N chapters at
once, each in its own kernel. ``seqlm data`` prepares the corpora and prints their
statistics.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from seqlm import book, config


def chapters(root: Path) -> list[str]:
    """The chapter notebooks, by name (``01_ngrams``), in book order."""
    return sorted(p.stem for p in (root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def choose_chapters(root: Path, only: list[str] | None) -> list[str]:
    known = chapters(root)
    if not only:
        return known
    unknown = [c for c in only if c not in known]
    if unknown:
        raise ValueError(f"unknown chapter {', '.join(map(repr, unknown))}; "
                         f"choose from {', '.join(known)}")
    return [c for c in known if c in only]


def execute(root: Path, chapter: str, profile: str, device: str, build: Path) -> float:
    """Run one chapter with papermill into ``build/executed``; return its seconds.

    The chapter's ``parameters`` cell receives the profile and device, where its
    results go, and that nobody watches it (no progress bars saved into the pages)."""
    import papermill

    source = root / "notebooks" / f"{chapter}.ipynb"
    target = build / "executed" / f"{chapter}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    parameters = {"profile": profile, "device": device,
                  "results_dir": str(build / "results"), "quiet": True}
    start = time.perf_counter()
    papermill.execute_notebook(
        str(source), str(target), parameters=parameters, cwd=str(source.parent),
        kernel_name="python3", language="python", progress_bar=False, log_output=False)
    return time.perf_counter() - start


def execute_all(root: Path, chosen: list[str], profile: str, device: str, build: Path,
                jobs: int = 1) -> None:
    """Execute chapters, ``jobs`` at a time, each in its own kernel; raise the first
    chapter's error after every chapter has finished or failed."""
    if jobs < 1:
        raise ValueError(f"--jobs must be ≥ 1, got {jobs}")
    if jobs > 1:  # the kernels share the cores: cores ÷ jobs threads each, waiting passively
        settings = config.share_cores(jobs)
        print(f"[seqlm] {jobs} chapters at a time, {settings['OMP_NUM_THREADS']} thread(s) each "
              f"(set SEQLM_THREADS to change it)", flush=True)

    def one(chapter: str):
        print(f"[seqlm] {chapter}: executing (profile {profile}, device {device})", flush=True)
        try:
            seconds = execute(root, chapter, profile, device, build)
        except Exception as error:  # reported below, once the others are done
            print(f"[seqlm] {chapter}: failed", flush=True)
            return error
        print(f"[seqlm] {chapter}: done in {seconds:.1f} s -> "
              f"{build / 'executed' / (chapter + '.ipynb')}", flush=True)
        return None

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        errors = [e for e in pool.map(one, chosen) if e is not None]
    if errors:
        raise errors[0]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seqlm", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="execute chapters with papermill and build the book",
        description="Execute chapter notebooks with papermill, then build the HTML book.")
    run.add_argument("--profile", default=None,
                     help=f"size of the run: {', '.join(config.PROFILE_CHOICES)} "
                          "(auto: full with CUDA, else cpu; default: $SEQLM_PROFILE or auto)")
    run.add_argument("--device", default=None,
                     help=f"hardware: {', '.join(config.DEVICE_CHOICES)} "
                          "(default: $SEQLM_DEVICE or auto)")
    run.add_argument("--only", nargs="+", metavar="CHAPTER",
                     help="run only these chapters, e.g. 01_ngrams (default: all)")
    run.add_argument("--jobs", type=int, default=1, metavar="N",
                     help="execute N chapters at once, each in its own kernel with the CPU "
                          "cores shared among them (default: 1; $SEQLM_THREADS sets the "
                          "threads per chapter)")
    run.add_argument("--no-book", action="store_true", help="execute only, do not build the HTML")
    run.add_argument("--book-only", action="store_true",
                     help="build the HTML from what is already executed, run nothing")
    run.add_argument("--strict", action="store_true",
                     help="treat every Sphinx warning as an error (-W -n --keep-going)")
    run.add_argument("--build-dir", type=Path, default=None,
                     help="where executed/, results/ and html/ go (default: _build in the repository)")
    data = commands.add_parser("data", help="prepare the corpora and print their statistics",
                               description="Prepare the cached corpora and print statistics.")
    data.add_argument("--force", action="store_true", help="prepare again even if the cache is valid")
    data.add_argument("--markdown", action="store_true",
                      help="print the statistics table that data/README.md shows")
    return parser


def _run(args) -> int:
    root = config.project_root()
    if not (root / "notebooks").is_dir():
        raise SystemExit(f"seqlm run needs the course repository; no notebooks/ under {root}")
    profile = config.resolve_profile(args.profile)
    device = str(config.resolve_device(args.device))
    chosen = choose_chapters(root, args.only)
    build = (args.build_dir or root / "_build").resolve()
    if not args.book_only:
        execute_all(root, chosen, profile, device, build, args.jobs)
    if not args.no_book:
        index = book.build_html(root, build, chapters(root), args.strict)
        print(f"[seqlm] book: {index}", flush=True)
    return 0


def _data(args) -> int:
    from seqlm import data, data_stats

    path = data.prepare_shakespeare(force=args.force)
    if not args.markdown:
        print(f"prepared corpora in {path}")
    print(data_stats.markdown(data_stats.statistics()), end="")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args) if args.command == "run" else _data(args)
    except (ValueError, RuntimeError) as error:
        print(f"seqlm: error: {error}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as error:
        print(f"seqlm: error: the book build failed ({error.returncode})", file=sys.stderr)
        return error.returncode or 1
    except Exception as error:  # a chapter that failed under papermill
        if type(error).__name__ != "PapermillExecutionError":
            raise
        print(f"seqlm: error: a chapter failed in cell {error.exec_count}: {error.ename}: "
              f"{error.evalue}\n(the executed notebook under _build/executed shows where)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
