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
