"""Staging and building the HTML book (``make book``, ``seqlm run``).

The book is built with execution off, from a staged copy of the sources in
``_build/site`` in which every executed chapter replaces its clean twin and the
results page is filled from ``_build/results``. MathJax, require.js and the
widget manager are installed from npm (pinned in ``book/vendor``) and served by
the book itself, so the pages work offline; without npm they come from CDNs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from seqlm import results

RESULTS_MARKER = "<!-- results tables -->"
# What the pages load from the book itself instead of a CDN: npm package path -> vendor/ path.
VENDORED = {
    "mathjax/es5": "mathjax",
    "requirejs/require.js": "require.js",
    "@jupyter-widgets/html-manager/dist": "npm/@jupyter-widgets/html-manager/dist",
}


def chapter_title(notebook: dict) -> str | None:
    """The page title: the first ``# `` heading of the notebook's Markdown cells."""
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return None


def _page(source: Path, target: Path, record: dict | None) -> None:
    """Copy a chapter for the book: papermill's injected-parameters cell removed from the
    page, and under the title a note of the run that produced the page's numbers."""
    notebook = json.loads(source.read_text())
    for cell in notebook["cells"]:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    if record is not None:
        note = (f"The numbers on this page come from a run with profile `{record['profile']}` "
                f"on `{record['device']}` that took {record['seconds']:.0f} s "
                "(see {doc}`../book/results`).")
        title = next(i for i, c in enumerate(notebook["cells"]) if c["cell_type"] == "markdown")
        notebook["cells"].insert(title + 1, {"cell_type": "markdown", "metadata": {},
                                             "source": f":::{{note}}\n{note}\n:::\n"})
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


def stage(root: Path, build: Path, chapters: list[str]) -> Path:
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
    records = {r["chapter"]: r for r in results.load_all(build / "results")}
    titles = {}
    for chapter in chapters:
        executed = build / "executed" / f"{chapter}.ipynb"
        source = executed if executed.is_file() else root / "notebooks" / f"{chapter}.ipynb"
        _page(source, site / "notebooks" / f"{chapter}.ipynb",
              records.get(chapter) if executed.is_file() else None)
        titles[chapter] = chapter_title(json.loads(source.read_text())) or chapter
    _vendor_into(site, install_vendored(root, build))
    shutil.rmtree(site / "book" / "vendor")  # the npm pins, not a page of the book
    page = site / "book" / "results.md"
    tables = results.render_markdown(list(records.values()), titles)
    page.write_text(page.read_text().replace(RESULTS_MARKER, tables))
    return site


def html_dir(build: Path) -> Path:
    """Where :func:`build_html` writes the pages of a build folder: jupyter-book writes into
    <path-output>/_build/html, so ``build/html`` when the folder is called _build (the
    default), and ``build/_build/html`` otherwise."""
    return (build.parent if build.name == "_build" else build) / "_build" / "html"


def build_html(root: Path, build: Path, chapters: list[str], strict: bool = False) -> Path:
    """Build the HTML with jupyter-book (execution off) into :func:`html_dir`; returns the
    path of its index page."""
    site = stage(root, build, chapters)
    path_output = html_dir(build).parents[1]
    # jupyter-book's own entry point, from this interpreter whatever PATH says
    command = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build",
               str(site), "--path-output", str(path_output), "--builder", "html"]
    if strict:
        command += ["-W", "-n", "--keep-going"]
    subprocess.run(command, check=True)
    return html_dir(build) / "index.html"
