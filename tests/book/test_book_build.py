"""The book builds, warnings as errors, from smoke-executed chapters."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    build = tmp_path_factory.mktemp("book") / "_build"
    env = os.environ | {"SEQLM_PROFILE": "smoke", "SEQLM_DEVICE": "cpu"}
    out = subprocess.run([sys.executable, "-m", "seqlm", "run", "--strict", "--build-dir", str(build)],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    return build


def chapters():
    return sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_every_page_is_built(built):
    html = built / "html"
    for page in ["index", "book/setup", "book/notation", "book/results", "book/bibliography"]:
        assert (html / f"{page}.html").is_file(), page
    for chapter in chapters():
        assert (html / "notebooks" / f"{chapter}.html").is_file(), chapter


@pytest.mark.parametrize("chapter", chapters())
def test_chapter_page_has_outputs_and_no_errors(built, chapter):
    page = (built / "html" / "notebooks" / f"{chapter}.html").read_text()
    assert "<img" in page, "the executed chapter's figures are on the page"
    assert "Traceback" not in page and "Error" not in re.sub(r"<[^>]+>", "", page).split("References")[0]
    executed = json.loads((built / "executed" / f"{chapter}.ipynb").read_text())
    assert executed["metadata"]["papermill"]["parameters"] == {"profile": "smoke", "device": "cpu"}


def test_results_page_is_generated_from_the_results_files(built):
    records = [json.loads(p.read_text()) for p in (built / "results").glob("*.json")]
    assert {r["chapter"] for r in records} == set(chapters())
    page = (built / "html" / "book" / "results.html").read_text()
    for r in records:
        assert r["chapter"] in page and r["profile"] == "smoke"
