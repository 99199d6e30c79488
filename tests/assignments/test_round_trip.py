"""The graded assignments, end to end: release, submit, autograde, export.

For every assignment under assignments/source/: the reference solution scores
full marks, the blank release scores 0, and wrong, crashing, hanging and
cheating submissions lose exactly the parts they should while the run goes on.
"""

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "assignments"
ASSIGNMENTS = sorted(p.name for p in (COURSE / "source").iterdir() if p.is_dir())
SOLUTION = re.compile(r"[ \t]*### BEGIN SOLUTION\n(.*?)[ \t]*### END SOLUTION\n?", re.S)


def course(*args):
    out = subprocess.run([sys.executable, str(COURSE / "course.py"), *args], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    course("release", "--out", str(out))
    return out


def notebooks(folder: Path, name: str):
    return sorted((folder / name).glob("*.ipynb"))


def solution_cells(nb):
    return {c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"]
            if c["metadata"].get("nbgrader", {}).get("solution")}


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_has_no_solutions_and_no_hidden_tests(release, name):
    for source_path in notebooks(COURSE / "source", name):
        source = source_path.read_text()
        released = (release / name / source_path.name).read_text()
        hidden = re.findall(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", source, re.S)
        answers = SOLUTION.findall("".join("".join(c["source"]) + "\n"
                                           for c in json.loads(source)["cells"]))
        assert hidden and answers
        assert "BEGIN SOLUTION" not in released and "HIDDEN TESTS" not in released
        for block in hidden + answers:
            for line in block.strip().splitlines():
                if len(line.strip()) > 25:  # a distinctive line, not "return x"
                    assert json.dumps(line.strip())[1:-1] not in released, line
        assert "raise NotImplementedError()" in released


def filled(release_nb: Path, source_nb: Path, replace=None, prepend=None) -> dict:
    """A submission: the release with every solution cell answered from the source;
    ``replace[grade_id]`` swaps an answer, ``prepend[grade_id]`` adds code before it."""
    nb = json.loads(release_nb.read_text())
    answers = {gid: SOLUTION.sub(lambda m: m.group(1), "".join(cell["source"]))
               for gid, cell in solution_cells(json.loads(source_nb.read_text())).items()}
    for gid, cell in solution_cells(nb).items():
        code = (replace or {}).get(gid, answers[gid])
        cell["source"] = (prepend or {}).get(gid, "") + code
    return nb


# Submissions for Assignment 1, each with the score it must get (of 10: A 3, B 2, C 3, D 2).
OFF_BY_ONE = """
def kneser_ney(word, history, counts, discount):
    c_h = counts.histories[history]
    if c_h == 0:
        return continuation(word, counts, discount)
    followers = sum(1 for (h, w) in counts.pairs if h == history) + 1   # off by one
    kept = max(counts.pairs[(history, word)] - discount, 0) / c_h
    return kept + discount * followers / c_h * continuation(word, counts, discount)
"""
UNSEEN_IS_ZERO = """
def kneser_ney(word, history, counts, discount):
    c_h = counts.histories[history]
    if c_h == 0:
        return 0.0                                      # forgets the back-off
    followers = sum(1 for (h, w) in counts.pairs if h == history)
    kept = max(counts.pairs[(history, word)] - discount, 0) / c_h
    return kept + discount * followers / c_h * continuation(word, counts, discount)
"""
RAISES = "def add_k(word, history, counts, k):\n    return counts.pairs[(history, word)] / 0\n"
HANGS = "while True:\n    pass\n"
CHEAT = """
import math, seqlm.exercises
def check_close(got, want, what):      # the visible-test helper, redefined to pass
    pass
math.isclose = lambda *args, **kwargs: True
seqlm.exercises.close = lambda *args, **kwargs: True
def add_k(word, history, counts, k):
    return 0.5
"""
DELETE = "del check_close\n"

SUBMISSIONS = {
    "reference": ({}, {}, {"test_add_k": 3, "test_continuation": 2, "test_kneser_ney": 3,
                           "test_perplexity": 2}),
    "off_by_one": ({"kneser_ney": OFF_BY_ONE}, {}, {"test_kneser_ney": 0, "score": 7}),
    "unseen_is_zero": ({"kneser_ney": UNSEEN_IS_ZERO}, {}, {"test_kneser_ney": 0, "score": 7}),
    "raises": ({"add_k": RAISES}, {}, {"test_add_k": 0, "test_perplexity": 2, "score": 7}),
    "hangs": ({}, {"continuation": HANGS}, {"test_continuation": 0, "test_add_k": 3,
                                            "test_perplexity": 2}),
    "cheats": ({"add_k": CHEAT}, {}, {"test_add_k": 0}),
    "deletes_helper": ({}, {"kneser_ney": DELETE}, {"test_add_k": 3}),
}


@pytest.fixture(scope="module")
def graded(release, tmp_path_factory):
    """Grade every kind of submission (Assignment 1) plus the blank release of each assignment."""
    submissions = tmp_path_factory.mktemp("submitted")
    for name in ASSIGNMENTS:
        for release_nb in notebooks(release, name):
            folder = submissions / "blank" / name
            folder.mkdir(parents=True, exist_ok=True)
            (folder / release_nb.name).write_text(release_nb.read_text())
            source_nb = COURSE / "source" / name / release_nb.name
            if name != "01_ngrams":
                folder = submissions / "reference" / name
                folder.mkdir(parents=True, exist_ok=True)
                (folder / release_nb.name).write_text(json.dumps(filled(release_nb, source_nb)))
                continue
            for student, (replace, prepend, _) in SUBMISSIONS.items():
                folder = submissions / student / name
                folder.mkdir(parents=True, exist_ok=True)
                nb = filled(release_nb, source_nb, replace, prepend)
                (folder / release_nb.name).write_text(json.dumps(nb))
    out = tmp_path_factory.mktemp("grades")
    course("grade", str(submissions), "--out", str(out), "--timeout", "10")
    with open(out / "grades.csv") as f:
        rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(f)}
    return rows, out


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_reference_scores_full_marks_and_blank_scores_zero(graded, name):
    rows, _ = graded
    reference, blank = rows[("reference", name)], rows[("blank", name)]
    assert float(reference["score"]) == float(reference["max_score"]) > 0
    assert float(blank["score"]) == 0


@pytest.mark.parametrize("student", [s for s in SUBMISSIONS if s != "reference"])
def test_faulty_submissions_lose_their_parts_and_never_full_marks(graded, student):
    rows, _ = graded
    row = rows[(student, "01_ngrams")]
    for column, expected in SUBMISSIONS[student][2].items():
        assert float(row[column]) == expected, (column, row)
    assert float(row["score"]) < float(row["max_score"])


def test_every_student_gets_feedback_without_hidden_tests(graded):
    rows, out = graded
    for student, name in rows:
        pages = list((out / "feedback" / student / name).glob("*.html"))
        assert pages, (student, name)
        for page in pages:
            text = page.read_text()
            assert "HIDDEN TESTS" not in text and "_ex.close" not in text
