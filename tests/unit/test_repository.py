"""The repository's own conventions (CONTRIBUTING.md, "Layout" and "Notebook conventions")."""

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ASSIGNMENTS = sorted((ROOT / "assignments" / "source").glob("*/*.ipynb"))


def test_there_are_chapters():
    assert NOTEBOOKS


GENERATED = re.compile(r"(^|/)(data/cache|_build|\.ipynb_checkpoints|__pycache__)/|\.(pt|ckpt|pyc)$")


def test_no_generated_file_is_committed():
    """Caches, build output, executed notebooks and checkpoints are made by runs, never
    committed (a run from an installed package once cached the corpora under notebooks/)."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    generated = [f for f in tracked.stdout.splitlines() if GENERATED.search(f)]
    assert generated == [], f"generated files are committed: {generated[:5]}"


# a line of Python in prose: a statement, possibly commented out (which markdown would show as
# a heading or as text under a caption)
PYTHON_IN_PROSE = re.compile(r"^\s*#*\s*(assert |for \w[\w, ]* in .*:$|if .*:$|import \w|from \w+ import |"
                             r"print\(|\w+ = \w+\()")


def test_python_in_prose_is_recognised():
    assert PYTHON_IN_PROSE.match("# for hist in histories.values():")
    assert PYTHON_IN_PROSE.match("#     assert hist.valid_loss[-1] < 6, 'it learnt'")
    assert not PYTHON_IN_PROSE.match("# 9. ELMo: words in context")
    assert not PYTHON_IN_PROSE.match("for each seed, the tagger is trained on its lines")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_conventions(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert all(not c.get("outputs") and not c.get("execution_count") for c in code), \
        "commit notebooks with outputs cleared"
    assert "google.colab" in "".join(code[0]["source"]), "the first cell is the Colab install guard"
    params = "".join(code[1]["source"])
    assert "parameters" in code[1]["metadata"].get("tags", [])
    for name in ("profile", "device", "results_dir", "quiet"):  # plain defaults: config resolves
        assert re.search(rf"^{name} = None\b", params, re.M), name
    assert re.search(r"^seed = \d+", params, re.M)
    assert "environ" not in params, "only seqlm.config reads the environment"
    for cell in nb["cells"]:
        lines = "".join(cell["source"]).splitlines()
        assert len(lines) <= 40, "a cell longer than a screen"
        if cell["cell_type"] == "code":
            assert max(map(len, lines), default=0) <= 100, "a code line wider than the page"
        else:
            code_like = [line for line in lines if PYTHON_IN_PROSE.match(line)]
            assert not code_like, f"Python in a markdown cell (make it a code cell): {code_like}"


@pytest.mark.parametrize("path", NOTEBOOKS + ASSIGNMENTS, ids=lambda p: p.parent.name + "/" + p.stem)
def test_notebook_and_its_script_twin_agree(path, tmp_path):
    twin = path.with_suffix(".py")
    assert twin.is_file(), f"{twin.name} is missing: run `make sync`"
    out = tmp_path / "from_ipynb.py"
    subprocess.run([sys.executable, "-m", "jupytext", "--to", "py:percent", str(path), "-o", str(out)],
                   check=True, capture_output=True)
    assert out.read_text() == twin.read_text(), f"{path.name} and {twin.name} differ: run `make sync`"


def _names(requirements):
    return {re.split(r"[<>=!~ \[]", r, maxsplit=1)[0].lower(): r for r in requirements}


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared += [r for r in extra if not r.startswith("seqlm")]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert _names([p for p in pip if not p.startswith("-e")]) == _names(declared)


def test_torch_is_a_range_so_colab_keeps_its_build():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "torch>=2.3" in project["dependencies"]


@pytest.mark.parametrize("path", ASSIGNMENTS, ids=lambda p: p.stem)
def test_assignment_cells_all_carry_nbgrader_metadata(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    ids = [c["metadata"]["nbgrader"]["grade_id"] for c in nb["cells"]]  # KeyError if missing
    assert len(ids) == len(set(ids))
    graded = [c for c in nb["cells"] if c["metadata"]["nbgrader"]["grade"]]
    assert graded and all(c["metadata"]["nbgrader"]["points"] > 0 for c in graded)
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
