"""The course's assignments: release them, grade a class.

    python assignments/course.py release [--source DIR] [--out DIR]
    python assignments/course.py grade SUBMISSIONS [--source DIR] [--out DIR] [--jobs N]

``--source`` is the folder of assignment sources, one folder per assignment
with its notebook and ``checks.py`` (default: ``assignments/source``, public; a
class's own variants can live in a private folder outside the repository).
Release writes the student versions (nbgrader's ``generate_assignment``: no
solutions, no hidden tests, no ``checks.py``) to ``--out`` (default
``assignments/release``).

SUBMISSIONS holds one folder per student, each with one folder per assignment:
``SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb``. Grading runs every
notebook in its own sandbox (bubblewrap; see ``grading/``), ``--jobs`` of them at
once (each with cores ÷ jobs threads), and writes
``DIR/grades.csv`` (one row per student and assignment), ``DIR/reports/<student>.md``
(what happened to every part), ``DIR/report.json`` and
``DIR/feedback/<student>/<assignment>/<notebook>.html``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

COURSE = Path(__file__).resolve().parent
ROOT = COURSE.parent
sys.path.insert(0, str(COURSE))

from grading import assignment, grader, sandbox  # noqa: E402


def _config(root: Path):
    """nbgrader_config.py, loaded here: nbgrader ignores a configuration that fails to load."""
    import runpy

    from traitlets.config import Config

    config = Config()
    runpy.run_path(str(COURSE / "nbgrader_config.py"), {"get_config": lambda: config})
    config.CourseDirectory.root = str(root)
    return config


def generate(root: Path, names: list[str]) -> None:
    """nbgrader's generate_assignment for every assignment, in this process (one import)."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    config = _config(root)
    for name in names:
        coursedir = CourseDirectory(config=config)
        coursedir.assignment_id = name
        GenerateAssignment(coursedir=coursedir, config=config, force=True).start()


def release(source: Path, out: Path) -> Path:
    """Generate the student version of every assignment into ``out``.

    Every assignment is loaded and its checks drawn once first, so an instructor
    learns of a graded cell without checks (or checks that fail) now, not when grading.
    """
    names = assignment.assignments(source)
    for name in names:
        task = assignment.load(source, name)
        for part in task.checks.values():
            part.cases("release-check")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in names:  # the notebooks only: never checks.py, twins or anything else
            (work / "source" / name).mkdir(parents=True)
            for notebook in sorted((source / name).glob("*.ipynb")):
                shutil.copy2(notebook, work / "source" / name / notebook.name)
        generate(work, names)
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(work / "release", out)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    rel = commands.add_parser("release", help="write the student version of every assignment")
    rel.add_argument("--source", type=Path, default=COURSE / "source",
                     help="the assignment sources (default: assignments/source)")
    rel.add_argument("--out", type=Path, default=COURSE / "release")
    gr = commands.add_parser("grade", help="grade a folder of submissions, each in a sandbox")
    gr.add_argument("submissions", type=Path, help="<student>/<assignment>/<notebook>.ipynb")
    gr.add_argument("--source", type=Path, default=COURSE / "source",
                    help="the assignment sources (default: assignments/source)")
    gr.add_argument("--out", type=Path, default=ROOT / "_build" / "grades")
    gr.add_argument("--timeout", type=float, default=60,
                    help="seconds one cell may run before it is interrupted (default 60)")
    gr.add_argument("--notebook-timeout", type=float, default=900,
                    help="seconds one notebook may run in all (default 900)")
    gr.add_argument("--memory", type=float, default=4,
                    help="GiB of address space one kernel may use (default 4)")
    gr.add_argument("--seed", default=None,
                    help="draw the cases from this seed (default: a fresh one per notebook)")
    gr.add_argument("--jobs", type=int, default=1,
                    help="notebooks graded at once, each in its own sandbox (default 1)")
    gr.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                    help="a progress bar on stderr (default: unless CI or SEQLM_QUIET is set)")
    args = parser.parse_args(argv)
    if not args.source.is_dir():
        parser.error(f"--source {args.source} is not a folder")
    if args.command == "release":
        print(f"released to {release(args.source.resolve(), args.out.resolve())}")
        return 0
    if not 1 <= args.jobs <= sandbox.MAX_SLOTS:
        parser.error(f"--jobs is 1 … {sandbox.MAX_SLOTS}, got {args.jobs}")
    limits = sandbox.Limits(memory=int(args.memory * (1 << 30)))
    settings = grader.Settings(cell_timeout=args.timeout, notebook_timeout=args.notebook_timeout,
                               limits=limits, seed=args.seed, jobs=args.jobs,
                               progress=args.progress)
    try:
        out = grader.grade(args.source.resolve(), args.submissions.resolve(), args.out.resolve(),
                           settings)
    except sandbox.SandboxUnavailable as error:
        print(f"make grade: {error}", file=sys.stderr)
        return 2
    print(f"grades: {out / 'grades.csv'}\nreports: {out / 'reports'}\nfeedback: {out / 'feedback'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
