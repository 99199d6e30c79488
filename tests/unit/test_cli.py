import subprocess
import sys
from pathlib import Path

import pytest

from seqlm import run

ROOT = Path(__file__).resolve().parents[2]


def seqlm(*args):
    return subprocess.run([sys.executable, "-m", "seqlm", *args], capture_output=True, text=True,
                          cwd=ROOT)


def test_help_documents_every_option():
    out = seqlm("run", "--help")
    assert out.returncode == 0
    for option in ("--profile", "--device", "--only", "--no-book", "--book-only", "--strict",
                   "--build-dir", "smoke, cpu, full, auto", "auto, cpu, cuda"):
        assert option in out.stdout, option


@pytest.mark.parametrize("args, listed", [
    (["--profile", "huge"], "smoke, cpu, full, auto"),
    (["--device", "tpu"], "auto, cpu, cuda"),
    (["--profile", "smoke", "--only", "42_nothing"], "01_ngrams"),
])
def test_bad_choices_are_errors_that_list_the_choices(args, listed):
    out = seqlm("run", *args, "--no-book")
    assert out.returncode == 2
    assert "seqlm: error:" in out.stderr and listed in out.stderr
    assert "Traceback" not in out.stderr


def test_the_seqlm_script_is_installed():
    script = Path(sys.executable).parent / "seqlm"
    assert script.exists(), "pip install -e . should install the seqlm command"


def test_chapters_are_found_in_book_order():
    chapters = run.chapters(ROOT)
    assert chapters[0] == "01_ngrams" and chapters == sorted(chapters)
    assert run.choose_chapters(ROOT, None) == chapters
    assert run.choose_chapters(ROOT, ["01_ngrams"]) == ["01_ngrams"]


def test_jobs_run_chapters_side_by_side_and_report_a_failure(monkeypatch, tmp_path):
    import threading
    import time

    running, most, seen = [0], [0], []
    lock = threading.Lock()

    def fake_execute(root, chapter, profile, device, build):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            seen.append(chapter)
        time.sleep(0.2)
        with lock:
            running[0] -= 1
        if chapter == "b":
            raise RuntimeError("chapter b failed")
        return 0.2

    monkeypatch.setattr(run, "execute", fake_execute)
    run.execute_all(ROOT, ["a", "c"], "smoke", "cpu", tmp_path, jobs=2)
    assert most[0] == 2 and sorted(seen) == ["a", "c"]
    with pytest.raises(RuntimeError, match="chapter b failed"):
        run.execute_all(ROOT, ["a", "b", "c", "d"], "smoke", "cpu", tmp_path, jobs=3)
    assert sorted(seen[2:]) == ["a", "b", "c", "d"]  # the others still ran
    with pytest.raises(ValueError, match="jobs"):
        run.execute_all(ROOT, ["a"], "smoke", "cpu", tmp_path, jobs=0)


def test_pages_say_which_run_produced_their_numbers(tmp_path):
    import json

    from seqlm import book

    notebook = {"cells": [{"cell_type": "code", "metadata": {"tags": ["injected-parameters"]},
                           "source": "profile = 'cpu'", "outputs": []},
                          {"cell_type": "markdown", "metadata": {}, "source": "# 3. RNNs\n\ntext"}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    source, target = tmp_path / "a.ipynb", tmp_path / "b.ipynb"
    source.write_text(json.dumps(notebook))
    record = {"profile": "cpu", "device": "cpu", "seconds": 118.4}
    book._page(source, target, record)
    cells = json.loads(target.read_text())["cells"]
    assert "remove-cell" in cells[0]["metadata"]["tags"]
    assert "profile `cpu` on `cpu` that took 118 s" in cells[2]["source"]
    assert book.chapter_title(notebook) == "3. RNNs"
