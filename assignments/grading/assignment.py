"""An assignment as the grader knows it: its source notebooks, parts and checks.

``SOURCE/<name>/`` holds the notebooks with nbgrader metadata (solution cells,
graded cells with points and hidden tests) and ``checks.py`` (see
:mod:`grading.checks`). This module reads them and refuses an assignment whose
graded cells and checks do not match, so an instructor learns it at release
time, not from a class's grades.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .checks import Part

HIDDEN = re.compile(r"[ \t]*### BEGIN HIDDEN TESTS\n.*?### END HIDDEN TESTS[ \t]*\n?", re.S)
HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", re.S)
NO_ANSWER = "# (no answer was submitted in this cell)\n"
DISTINCTIVE = 16   # characters a hidden-test line needs to count as a quotation of it


def source_text(cell: dict) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def nbgrader_meta(cell: dict) -> dict:
    meta = cell.get("metadata")
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else {}


@dataclass
class Graded:
    grade_id: str
    notebook: str
    points: float


@dataclass
class Assignment:
    name: str
    folder: Path
    notebooks: dict[str, dict]               # file name -> the source notebook
    graded: list[Graded]                     # in notebook order
    checks: dict[str, Part]
    hidden_lines: set[str] = field(default_factory=set)

    @property
    def max_score(self) -> float:
        return sum(g.points for g in self.graded)

    def parts_of(self, notebook: str) -> list[Graded]:
        return [g for g in self.graded if g.notebook == notebook]


def assignments(source: Path) -> list[str]:
    return sorted(p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith("."))


def load_checks(path: Path, name: str) -> dict[str, Part]:
    if not path.is_file():
        raise SystemExit(f"{path} is missing: every assignment needs its checks "
                         "(see the book's Assignments page)")
    module_name = "checks_" + re.sub(r"\W", "_", name)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {v.grade_id: v for v in vars(module).values() if isinstance(v, Part)}


def load(source: Path, name: str) -> Assignment:
    """Read and cross-check one assignment of the source folder."""
    folder = source / name
    notebooks = {p.name: json.loads(p.read_text()) for p in sorted(folder.glob("*.ipynb"))}
    if not notebooks:
        raise SystemExit(f"{folder}: no notebook")
    graded, hidden = [], set()
    for file, nb in notebooks.items():
        for cell in nb["cells"]:
            meta = nbgrader_meta(cell)
            if meta.get("grade"):
                graded.append(Graded(meta["grade_id"], file, float(meta.get("points", 0))))
            for block in HIDDEN_BLOCK.findall(source_text(cell)):
                hidden.update(line.strip() for line in block.splitlines()
                              if len(line.strip()) >= DISTINCTIVE)
                hidden.update({"### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"})
    checks = load_checks(folder / "checks.py", name)
    ids = [g.grade_id for g in graded]
    if not ids:
        raise SystemExit(f"{folder}: no graded cell")
    unchecked = [i for i in ids if i not in checks]
    unused = [i for i in checks if i not in ids]
    if unchecked or unused or len(set(ids)) != len(ids):
        raise SystemExit(f"{folder}: graded cells {ids} and checks.py parts {list(checks)} "
                         "must name the same grade ids, once each")
    return Assignment(name, folder, notebooks, graded, checks, hidden)


def assemble(source_nb: dict, submitted: dict) -> list[dict]:
    """The notebook the grader runs: every cell of the source, in the source's order,
    with the student's code in the solution cells (a solution cell the student
    deleted runs empty: never the source's solution); cells the student added,
    and later copies of a solution cell, come after the source cell they followed.
    Test cells, hidden tests and helpers always come from the source, whatever
    the submission did to them."""
    cells = source_nb["cells"]
    by_id = {nbgrader_meta(c).get("grade_id"): c for c in cells}
    answers, extras, last = {}, {}, None
    for cell in submitted.get("cells", []) if isinstance(submitted, dict) else []:
        if not isinstance(cell, dict):
            continue
        gid = nbgrader_meta(cell).get("grade_id")
        original = by_id.get(gid) if isinstance(gid, str) else None
        if original is not None and gid not in answers:
            if (nbgrader_meta(original).get("solution")
                    and cell.get("cell_type") == original["cell_type"]):
                answers[gid] = source_text(cell)
            last = gid
            continue
        if original is not None and not nbgrader_meta(original).get("solution"):
            continue  # a copy of a test cell or helper: the source's own copy runs
        if cell.get("cell_type") in ("code", "markdown"):
            extra = {"cell_type": cell["cell_type"], "metadata": {}, "source": source_text(cell)}
            if cell["cell_type"] == "code":
                extra.update(outputs=[], execution_count=None)
            extras.setdefault(last, []).append(extra)
    out = list(extras.get(None, []))
    for cell in cells:
        cell = copy.deepcopy(cell)
        gid = nbgrader_meta(cell).get("grade_id")
        if gid in answers:
            cell["source"] = answers[gid]
        elif nbgrader_meta(cell).get("solution"):  # never the source's solution
            cell["source"] = NO_ANSWER if cell["cell_type"] == "code" else "(no answer)"
        else:
            cell["source"] = source_text(cell)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        out.append(cell)
        out += extras.get(gid, [])
    return out


def without_hidden_tests(source: str) -> str:
    return HIDDEN.sub("", source)
