import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def chapters():
    return sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def executed_elsewhere() -> Path | None:
    """A build folder where every chapter was already executed in smoke (``make test``'s
    fresh-venv stage executes them into ``SEQLM_CI_BUILD``), else None."""
    folder = os.environ.get("SEQLM_CI_BUILD")
    if not folder:
        return None
    build = Path(folder).resolve()
    done = all((build / "executed" / f"{c}.ipynb").is_file() and
               (build / "results" / f"{c}.json").is_file() for c in chapters())
    return build if done else None


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The whole book built once, warnings as errors, from smoke-executed chapters: those
    of the fresh-venv stage when it ran, else executed here."""
    build = executed_elsewhere()
    command = [sys.executable, "-m", "seqlm", "run", "--strict", "--build-dir"]
    if build is not None:
        command += [str(build), "--book-only"]
    else:
        build = tmp_path_factory.mktemp("book") / "_build"
        command += [str(build)]
    env = os.environ | {"SEQLM_PROFILE": "smoke", "SEQLM_DEVICE": "cpu"}
    out = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    return build
