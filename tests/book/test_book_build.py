"""The book builds, warnings as errors, from smoke-executed chapters."""

import json
import re

import pytest
import yaml

from conftest import ROOT, chapters
from seqlm.book import html_dir


def test_every_page_is_built(built):
    html = html_dir(built)
    for page in ["index", "book/setup", "book/notation", "book/results", "book/assignments",
                 "book/bibliography"]:
        assert (html / f"{page}.html").is_file(), page
    for chapter in chapters():
        assert (html / "notebooks" / f"{chapter}.html").is_file(), chapter


@pytest.mark.parametrize("chapter", chapters())
def test_chapter_page_has_outputs_and_no_errors(built, chapter):
    page = (html_dir(built) / "notebooks" / f"{chapter}.html").read_text()
    assert "<img" in page, "the executed chapter's figures are on the page"
    assert "Traceback" not in page and "Error" not in re.sub(r"<[^>]+>", "", page).split("References")[0]
    executed = json.loads((built / "executed" / f"{chapter}.ipynb").read_text())
    parameters = executed["metadata"]["papermill"]["parameters"]
    assert parameters == {"profile": "smoke", "device": "cpu",
                          "results_dir": str(built / "results"), "quiet": True}


def test_results_page_is_generated_from_the_results_files(built):
    records = [json.loads(p.read_text()) for p in (built / "results").glob("*.json")]
    assert {r["chapter"] for r in records} == set(chapters())
    page = (html_dir(built) / "book" / "results.html").read_text()
    for r in records:
        assert r["chapter"] in page and r["profile"] == "smoke"


def test_pages_request_nothing_from_a_cdn(built):
    html = html_dir(built)
    for page in html.rglob("*.html"):
        text = page.read_text()
        for host in ("cdn.jsdelivr.net", "cdnjs.cloudflare.com", "unpkg.com"):
            assert f"src=\"https://{host}" not in text, (page.name, host)
    assert (html / "vendor" / "mathjax" / "tex-chtml.js").is_file()
    assert (html / "vendor" / "require.js").is_file()
    manager = html / "vendor" / "npm" / "@jupyter-widgets" / "html-manager" / "dist"
    assert (manager / "embed-amd.js").is_file() and (html / "vendor" / "widgets-base.js").is_file()


@pytest.mark.parametrize("chapter", chapters())
def test_every_chapter_starts_with_the_colab_guard_for_this_repository(chapter):
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    notebook = json.loads((ROOT / "notebooks" / f"{chapter}.ipynb").read_text())
    first = "".join(next(c for c in notebook["cells"] if c["cell_type"] == "code")["source"])
    assert "google.colab" in first and f"git+{url}" in first


def test_the_setup_page_clones_the_repository_of_the_config():
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert f"git clone {url} " in (ROOT / "book" / "setup.md").read_text()
