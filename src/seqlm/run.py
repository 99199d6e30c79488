"""The driver behind ``make book``: execute chapters with papermill, then build the book.

``seqlm run --profile cpu --device cpu --only 01_ngrams`` executes the chosen
chapters into ``_build/executed/``, their results go to ``_build/results/``,
and the book is built with execution off from a staged copy of the sources in
which every executed chapter replaces its clean twin. ``seqlm data`` prepares
the corpora and prints their statistics.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from seqlm import config, results

RESULTS_MARKER = "<!-- results tables -->"
# What the pages load from the book itself instead of a CDN: npm package path -> vendor/ path.
VENDORED = {
    "mathjax/es5": "mathjax",
    "requirejs/require.js": "require.js",
    "@jupyter-widgets/html-manager/dist": "npm/@jupyter-widgets/html-manager/dist",
}


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
    """Run one chapter with papermill into ``build/executed``; return its seconds."""
    import papermill

    source = root / "notebooks" / f"{chapter}.ipynb"
    target = build / "executed" / f"{chapter}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    os.environ["SEQLM_RESULTS"] = str(build / "results")  # the kernel inherits these
    os.environ["SEQLM_QUIET"] = "1"  # no progress bars saved into the pages
    start = time.perf_counter()
    papermill.execute_notebook(
        str(source), str(target), parameters={"profile": profile, "device": device},
        cwd=str(source.parent), kernel_name="python3", language="python",
        progress_bar=sys.stderr.isatty(), log_output=False)
    return time.perf_counter() - start


def _hide_injected_parameters(source: Path, target: Path) -> None:
    """Copy a notebook, removing papermill's injected-parameters cell from the page
    (the setup cell prints the profile and device that were used)."""
    notebook = json.loads(source.read_text())
    for cell in notebook["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    target.write_text(json.dumps(notebook, indent=1))


def install_vendored(root: Path, build: Path) -> Path | None:
    """``npm ci`` the pinned scripts of ``book/vendor`` into ``build/vendor`` (again only
    when the lock file changes); their ``node_modules``, or None without npm."""
    npm = shutil.which("npm")
    if npm is None:
        return None
    pinned = root / "book" / "vendor"
    target = build / "vendor"
    lock = (pinned / "package-lock.json").read_text()
    stamp = target / "node_modules" / ".installed-lock.json"
    if not (stamp.is_file() and stamp.read_text() == lock):
        target.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(pinned / name, target / name)
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target,
                       check=True)
        stamp.write_text(lock)
    return target / "node_modules"


def _vendor_into(site: Path, modules: Path | None) -> None:
    """Copy the vendored scripts under the site's extra path, or fall back to CDNs."""
    if modules is None:
        print("[seqlm] npm not found: the pages will load MathJax and the widget manager "
              "from CDNs (install Node.js for a book that works offline)", file=sys.stderr)
        import yaml

        config = yaml.safe_load((site / "_config.yml").read_text())
        for key in ("html_extra_path", "mathjax_path", "nb_ipywidgets_js"):
            config["sphinx"]["config"].pop(key, None)
        (site / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        return
    vendor = site / "_extra" / "vendor"
    for source, target in VENDORED.items():
        if (modules / source).is_dir():
            shutil.copytree(modules / source, vendor / target,
                            ignore=shutil.ignore_patterns("*.map", "*.md"))
        else:
            vendor.mkdir(parents=True, exist_ok=True)
            shutil.copy2(modules / source, vendor / target)
    shutil.copy2(site / "book" / "vendor" / "widgets-base.js", vendor / "widgets-base.js")


def stage(root: Path, build: Path) -> Path:
    """Copy the book's sources to ``build/site``, executed chapters replacing clean ones,
    and fill the results page from ``build/results``."""
    site = build / "site"
    if site.exists():
        shutil.rmtree(site)
    site.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(root / name, site / name)
    shutil.copytree(root / "book", site / "book")
    shutil.copytree(root / "_static", site / "_static")
    (site / "notebooks").mkdir()
    for chapter in chapters(root):
        executed = build / "executed" / f"{chapter}.ipynb"
        source = executed if executed.is_file() else root / "notebooks" / f"{chapter}.ipynb"
        _hide_injected_parameters(source, site / "notebooks" / f"{chapter}.ipynb")
    _vendor_into(site, install_vendored(root, build))
    shutil.rmtree(site / "book" / "vendor")  # the npm pins, not a page of the book
    page = site / "book" / "results.md"
    tables = results.render_markdown(results.load_all(build / "results"))
    page.write_text(page.read_text().replace(RESULTS_MARKER, tables))
    return site


def build_book(root: Path, build: Path, strict: bool) -> Path:
    """Build the HTML with jupyter-book (execution off) into ``build/html``."""
    site = stage(root, build)
    # jupyter-book's own entry point, from this interpreter whatever PATH says
    command = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build", str(site),
               "--path-output", str(build.parent), "--builder", "html"]
    if strict:
        command += ["-W", "-n", "--keep-going"]
    subprocess.run(command, check=True)
    return build / "html" / "index.html"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seqlm", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="execute chapters with papermill and build the book",
        description="Execute chapter notebooks with papermill, then build the HTML book.")
    run.add_argument("--profile", default=os.environ.get("SEQLM_PROFILE", "auto"),
                     help=f"size of the run: {', '.join(config.PROFILE_CHOICES)} "
                          "(auto: full with CUDA, else cpu; default: $SEQLM_PROFILE or auto)")
    run.add_argument("--device", default=os.environ.get("SEQLM_DEVICE", "auto"),
                     help=f"hardware: {', '.join(config.DEVICE_CHOICES)} "
                          "(default: $SEQLM_DEVICE or auto)")
    run.add_argument("--only", nargs="+", metavar="CHAPTER",
                     help="run only these chapters, e.g. 01_ngrams (default: all)")
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
        for chapter in chosen:
            print(f"[seqlm] {chapter}: executing (profile {profile}, device {device})", flush=True)
            seconds = execute(root, chapter, profile, device, build)
            print(f"[seqlm] {chapter}: done in {seconds:.1f} s -> "
                  f"{build / 'executed' / (chapter + '.ipynb')}", flush=True)
    if not args.no_book:
        index = build_book(root, build, args.strict)
        print(f"[seqlm] book: {index}", flush=True)
    return 0


def _data(args) -> int:
    from seqlm import data

    path = data.prepare_shakespeare(force=args.force)
    stats = data.statistics()
    if args.markdown:
        print(data.statistics_markdown(stats), end="")
    else:
        print(f"prepared corpora in {path}")
        print(data.statistics_markdown(stats), end="")
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
