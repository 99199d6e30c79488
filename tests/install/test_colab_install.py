"""The course installed the way Colab installs it: a fresh virtual environment, the
package without extras (plus papermill and ipykernel, which Colab has, and the CPU
torch that stands in for Colab's own), then every chapter in the `smoke` profile.

A chapter that imports a module missing from the runtime dependencies fails here
(nltk was once a dev-only dependency and broke Chapter 1 on Colab).

With ``SEQLM_CI_BUILD`` set (``make test`` sets it), the chapters are executed into that
folder, and the book tests then build the HTML from these executions instead of running
every chapter again."""

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _run(command, **kwargs):
    out = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert out.returncode == 0, f"{command}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """A fresh venv with `pip install <repo>` (no extras), every chapter run in it."""
    work = tmp_path_factory.mktemp("colab")
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    _run(pip + ["torch==2.13.0"])  # Colab brings its own torch; this is the CPU stand-in
    _run(pip + [str(ROOT), "papermill", "ipykernel"])
    _run([str(python), "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"])
    extras = _run([str(python), "-m", "pip", "list", "--format=json"]).stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env |= {"JUPYTER_PATH": str(env_dir / "share" / "jupyter"),
            "JUPYTER_DATA_DIR": str(work / "jupyter-data"), "PATH": f"{env_dir / 'bin'}:{env['PATH']}"}
    build = Path(os.environ.get("SEQLM_CI_BUILD") or work / "_build").resolve()
    shutil.rmtree(build, ignore_errors=True)
    out = subprocess.run([str(python), "-m", "seqlm", "run", "--profile", "smoke", "--device", "cpu",
                          "--no-book", "--jobs", "2", "--build-dir", str(build)],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    return {"returncode": out.returncode, "log": out.stdout + out.stderr, "build": build,
            "packages": {p["name"].lower() for p in json.loads(extras)}}


def test_no_dev_extra_was_installed(executed):
    for dev_only in ("pytest", "nbval", "nbgrader", "hypothesis", "jupyter-book"):
        assert dev_only not in executed["packages"], dev_only


def test_every_chapter_runs(executed):
    assert executed["returncode"] == 0, executed["log"][-4000:]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_ran_without_errors_and_saved_its_results(executed, chapter):
    notebook = json.loads((executed["build"] / "executed" / f"{chapter}.ipynb").read_text())
    errors = [o for c in notebook["cells"] for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors == [], errors[:1]
    record = json.loads((executed["build"] / "results" / f"{chapter}.json").read_text())
    assert record["profile"] == "smoke" and record["metrics"]
