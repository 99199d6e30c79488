"""Nothing Assignments 5-10 grade is printed in a chapter.

Each of those assignments' ``checks.py`` lists, in ``WRITES``, the functions its
students write and the course's own code that does the same. No chapter may show
either: neither with ``viz.show_source`` (of the object, of the class that holds it,
or of one of its methods) or ``inspect.getsource``, nor by defining a function of that
name in a code cell.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import pkgutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "assignments" / "source"
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
GRADED = [p.name for p in sorted(SOURCE.iterdir()) if p.is_dir() and p.name >= "05"]
sys.path.insert(0, str(ROOT / "assignments"))
from grading.bans import python_of  # noqa: E402


def writes(name: str) -> dict[str, list[str]]:
    spec = importlib.util.spec_from_file_location(f"writes_{name}", SOURCE / name / "checks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.WRITES


def solution_functions(name: str) -> set[str]:
    """The functions defined in the assignment's answer cells."""
    found = set()
    for path in (SOURCE / name).glob("*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("solution"):
                tree = ast.parse("".join(cell["source"]))
                found |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    return found


def _dotted(node) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def shown(chapter: Path) -> tuple[set[str], set[str]]:
    """What a chapter prints: the objects it shows (dotted, through its imports) and the
    functions its code cells define."""
    trees = [ast.parse(code) for code in (python_of(cell) for cell in
                                          chapter.read_text().split("\n# %%")) if code]
    names = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    names[a.asname or a.name.split(".")[0]] = a.name if a.asname else \
                        a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module:
                for a in node.names:
                    names[a.asname or a.name] = f"{node.module}.{a.name}"
    objects, defined = set(), set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                defined.add(node.name)
            elif isinstance(node, ast.Call) and node.args and \
                    (_dotted(node.func) or "").split(".")[-1] in ("show_source", "getsource"):
                target = _dotted(node.args[0])
                if target:
                    head, _, rest = target.partition(".")
                    objects.add(".".join(filter(None, [names.get(head, head), rest])))
    return objects, defined


@pytest.mark.parametrize("name", GRADED)
def test_each_assignment_lists_what_its_students_write(name):
    listed = writes(name)
    assert set(listed) == solution_functions(name), "WRITES must name every answer function"
    for path in (p for paths in listed.values() for p in paths):
        pkgutil.resolve_name(path)  # the course's code that does the same must exist


def conflicts(objects: set[str], defined: set[str], listed: dict) -> list[str]:
    out = [f"defines {f}()" for f in defined if f in listed]
    for function, paths in listed.items():
        for path in paths:
            for target in objects:
                if target == path or path.startswith(target + ".") or \
                        target.startswith(path + "."):
                    out.append(f"shows {target}, which {function}() asks for")
    return out


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_no_chapter_prints_what_an_assignment_grades(chapter):
    objects, defined = shown(chapter)
    found = [f"{name}: {why}" for name in GRADED
             for why in conflicts(objects, defined, writes(name))]
    assert not found, f"{chapter.name} prints what an assignment grades: {found}"


def test_the_check_sees_what_it_must():
    listed = {"highway_backward": ["seqlm.elmo.Highway"], "masked_pool": []}
    assert conflicts({"seqlm.elmo.Highway"}, set(), listed)
    assert conflicts({"seqlm.elmo.Highway.forward"}, set(), listed)
    assert conflicts({"seqlm.elmo"}, set(), listed)
    assert conflicts(set(), {"masked_pool"}, listed)
    assert not conflicts({"seqlm.elmo.ScalarMix", "seqlm.elmo.HighwayNet"}, {"other"}, listed)
    ch9 = [c for c in CHAPTERS if c.stem.startswith("09")]
    if ch9:
        assert "seqlm.elmo.joint_loss" in shown(ch9[0])[0]  # the reader sees show_source
