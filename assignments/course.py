"""The course's nbgrader workflow: release assignments, grade submissions.

    python assignments/course.py release              # -> assignments/release/<assignment>/
    python assignments/course.py grade SUBMISSIONS [--out DIR]

SUBMISSIONS holds one folder per student, each with one folder per assignment:
``SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb`` (nbgrader's own layout).
Grading writes ``DIR/grades.csv`` (one row per student and assignment) and
``DIR/feedback/<student>/<assignment>/<notebook>.html``. Every assignment is a
folder under ``assignments/source/``; nothing else needs to know about it.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

COURSE = Path(__file__).resolve().parent
ROOT = COURSE.parent


def assignments() -> list[str]:
    return sorted(p.name for p in (COURSE / "source").iterdir() if p.is_dir())


def nbgrader(course_root: Path, *args: str) -> None:
    """Run one nbgrader command inside a course directory (it reads nbgrader_config.py there)."""
    subprocess.run([sys.executable, "-m", "nbgrader", *args, "--force", "--log-level=WARN"],
                   cwd=course_root, check=True)


def _check_config() -> None:
    """nbgrader ignores a configuration file that fails to load; we do not."""
    import runpy

    from traitlets.config import Config

    runpy.run_path(str(COURSE / "nbgrader_config.py"), {"get_config": Config})


def _course_copy(work: Path) -> Path:
    """A private course directory: the sources and the configuration, nothing else."""
    _check_config()
    shutil.copy2(COURSE / "nbgrader_config.py", work / "nbgrader_config.py")
    shutil.copytree(COURSE / "source", work / "source",
                    ignore=shutil.ignore_patterns("*.py", ".ipynb_checkpoints"))
    return work


def release(out: Path) -> Path:
    """Generate the student version of every assignment into ``out``."""
    with tempfile.TemporaryDirectory() as tmp:
        work = _course_copy(Path(tmp))
        for name in assignments():
            nbgrader(work, "generate_assignment", name)
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(work / "release", out)
    return out


def _collect(submissions: Path, work: Path) -> list[tuple[str, str]]:
    found = []
    known = set(assignments())
    for student in sorted(p for p in submissions.iterdir() if p.is_dir()):
        for folder in sorted(p for p in student.iterdir() if p.is_dir()):
            if folder.name not in known:
                raise SystemExit(f"{folder}: unknown assignment {folder.name!r}; "
                                 f"expected one of {', '.join(sorted(known))}")
            shutil.copytree(folder, work / "submitted" / student.name / folder.name)
            found.append((student.name, folder.name))
    if not found:
        raise SystemExit(f"no submissions under {submissions}: expected "
                         "<student>/<assignment>/<notebook>.ipynb")
    return found


def grade(submissions: Path, out: Path, timeout: int | None = None) -> Path:
    """Autograde every submission; write grades.csv and per-student feedback to ``out``."""
    limit = [f"--Execute.timeout={timeout}"] if timeout else []
    if not submissions.is_dir():
        raise SystemExit(f"SUBMISSIONS={submissions} is not a folder")
    with tempfile.TemporaryDirectory() as tmp:
        work = _course_copy(Path(tmp))
        found = _collect(submissions, work)
        for name in sorted({a for _, a in found}):
            nbgrader(work, "generate_assignment", name)  # records the hidden tests and points
            nbgrader(work, "autograde", name, "--create", *limit)
            nbgrader(work, "generate_feedback", name)
        out.mkdir(parents=True, exist_ok=True)
        _write_grades(work, found, out / "grades.csv")
        if (out / "feedback").exists():
            shutil.rmtree(out / "feedback")
        shutil.copytree(work / "feedback", out / "feedback")
    return out


def _graded_parts(name: str) -> list[str]:
    """The grade ids of an assignment's graded cells, in notebook order."""
    ids = []
    for path in sorted((COURSE / "source" / name).glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            if meta.get("grade"):
                ids.append(meta["grade_id"])
    return ids


def _write_grades(work: Path, found: list[tuple[str, str]], target: Path) -> None:
    """One row per student and assignment: the total, then the points of each graded part."""
    from nbgrader.api import Gradebook

    rows, parts = [], []
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}") as gradebook:
        for student, name in found:
            submission = gradebook.find_submission(name, student)
            row = {"student_id": student, "assignment": name,
                   "score": submission.score, "max_score": submission.max_score}
            for notebook in submission.notebooks:
                for g in notebook.grades:
                    row[g.name] = g.score
            rows.append(row)
    for _, name in found:
        parts += [p for p in _graded_parts(name) if p not in parts]
    with open(target, "w", newline="") as f:
        writer = csv.DictWriter(f, ["student_id", "assignment", "score", "max_score", *parts])
        writer.writeheader()
        writer.writerows(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    rel = commands.add_parser("release", help="write the student version of every assignment")
    rel.add_argument("--out", type=Path, default=COURSE / "release")
    gr = commands.add_parser("grade", help="autograde a folder of submissions")
    gr.add_argument("submissions", type=Path, help="<student>/<assignment>/<notebook>.ipynb")
    gr.add_argument("--out", type=Path, default=ROOT / "_build" / "grades")
    gr.add_argument("--timeout", type=int, default=None,
                    help="seconds a cell may run before it is interrupted (default: nbgrader_config.py)")
    args = parser.parse_args(argv)
    if args.command == "release":
        print(f"released to {release(args.out.resolve())}")
    else:
        out = grade(args.submissions.resolve(), args.out.resolve(), args.timeout)
        print(f"grades: {out / 'grades.csv'}\nfeedback: {out / 'feedback'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
