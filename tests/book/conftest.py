import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def chapters():
    return sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The whole book built once, warnings as errors, from smoke-executed chapters."""
    build = tmp_path_factory.mktemp("book") / "_build"
    env = os.environ | {"SEQLM_PROFILE": "smoke", "SEQLM_DEVICE": "cpu"}
    out = subprocess.run([sys.executable, "-m", "seqlm", "run", "--strict", "--build-dir", str(build)],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    return build
