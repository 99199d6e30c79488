"""Grade a class: one student at a time, each notebook in its own sandboxed kernel.

For every ``SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb``:

1. assemble the notebook to run from the source (test cells, hidden tests and
   helpers from the source; the student's code in the solution cells);
2. draw this run's cases from a fresh seed and compute the reference answers
   here, with the assignment's ``checks.py``;
3. run the notebook in a sandboxed kernel (:mod:`grading.kernel`) that sees the
   cases, never the references; each hidden test calls the student's function on
   them and hands the raw results back;
4. once the kernel and everything it started are gone, compare the results with
   the references (:mod:`grading.checks`) and write the feedback page.

When every student is graded, and only then, ``grades.csv``, ``report.json`` and
``reports/<student>.md`` are written to the output folder, and ``feedback/``
replaces the last run's. A kernel that dies, hangs or floods costs its student
the parts it did not reach; the class carries on.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import assignment as assignments_
from . import feedback, kernel, sandbox
from .checks import OtherPart, Unreadable, Verdict, encode_cases, judge, read_answers

NOTEBOOK_BYTES = 50 << 20     # a submitted notebook larger than this is not run
CASES_PATH = "/grading/cases.json"


@dataclass
class Settings:
    cell_timeout: float = 60          # seconds one cell may run
    notebook_timeout: float = 900     # seconds one notebook may run, all cells together
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    seed: str | None = None           # None: a fresh one per run (drawn here, recorded)


@dataclass
class Result:
    student: str
    assignment: str
    notebook: str
    seed: str
    verdicts: list[Verdict]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum(v.points for v in self.verdicts)

    @property
    def max_score(self) -> float:
        return sum(v.max_points for v in self.verdicts)


def _kernel_setup(source: Path, extra_hidden: list[Path]):
    """What every kernel binds read-only, its environment, and what it must not see."""
    import seqlm
    from seqlm import data, exercises

    data.prepare_shakespeare()  # the kernel cannot write the cache: prepare it here
    package_root = Path(seqlm.__file__).resolve().parent.parent
    cache = data.cache_dir().resolve()
    read_only = sandbox.python_paths() + [package_root, cache]
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
           "HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONPATH": str(package_root),
           "SEQLM_CACHE": str(cache), exercises.CASES_ENV: CASES_PATH,
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/matplotlib", "IPYTHONDIR": "/tmp/ipython",
           "PYTHONDONTWRITEBYTECODE": "1"}
    hide = [source.resolve(), *[p.resolve() for p in extra_hidden]]
    return read_only, env, hide


def grade_notebook(task: assignments_.Assignment, student: str, notebook: str,
                   submitted: Path | None, run_dir: Path, settings: Settings, setup) -> tuple:
    """One notebook of one student: returns (Result, feedback HTML or None)."""
    started = time.monotonic()
    seed = settings.seed or secrets.token_hex(8)
    parts = task.parts_of(notebook)
    result = Result(student, task.name, notebook, seed, [])

    def all_parts(status, message):
        result.verdicts = [Verdict(p.grade_id, 0, p.points, status, message) for p in parts]

    if submitted is None:
        all_parts("errored", f"no {notebook} was submitted")
        return result, None
    try:
        if submitted.stat().st_size > NOTEBOOK_BYTES:
            raise ValueError(f"the notebook is larger than {NOTEBOOK_BYTES >> 20} MiB")
        student_nb = json.loads(submitted.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError, RecursionError) as error:
        all_parts("errored", f"the notebook cannot be read: {type(error).__name__}: {error}"[:300])
        return result, None

    cells = assignments_.assemble(task.notebooks[notebook], student_nb)
    cases = {p.grade_id: task.checks[p.grade_id].cases(seed) for p in parts}
    run_dir.mkdir(mode=0o700)
    (run_dir / "cases.json").write_text(encode_cases(cases))
    copy = run_dir / "submission.ipynb"
    shutil.copyfile(submitted, copy)
    for path in (run_dir / "cases.json", copy):
        path.chmod(0o644)
    read_only, env, hide = setup
    runs: list[kernel.CellRun | None] = [None] * len(cells)
    deadline = time.monotonic() + settings.notebook_timeout
    box = kernel.SandboxedKernel(run_dir, files={f"{sandbox.HOME}/{notebook}": copy,
                                                 CASES_PATH: run_dir / "cases.json"},
                                 env=env, read_only=read_only, limits=settings.limits, hide=hide)
    try:
        with box:
            stopped = None
            for i, cell in enumerate(cells):
                if cell["cell_type"] != "code":
                    continue
                if stopped:
                    runs[i] = kernel.CellRun(stopped[0], note=stopped[1])
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    stopped = ("timed out",
                               f"not run: the notebook's {settings.notebook_timeout:g} s ran out")
                    runs[i] = kernel.CellRun(*stopped[:1], note=stopped[1])
                    continue
                run = box.run(cell["source"], min(settings.cell_timeout, left))
                runs[i] = run
                name = assignments_.nbgrader_meta(cell).get("grade_id") or f"cell {i + 1}"
                graded = assignments_.nbgrader_meta(cell).get("grade")
                if run.status in ("timed out", "killed") or run.note:
                    result.notes.append(f"{name}: {run.status}"
                                        + (f" ({run.note})" if run.note else ""))
                elif run.status == "error" and not graded:
                    error = next(o for o in run.outputs if o["output_type"] == "error")
                    result.notes.append(
                        f"{name}: raised {error['ename']}: {error['evalue']}"[:500])
                if not box.alive():
                    why = run.note or box.death()
                    stopped = (run.status if run.status in ("timed out", "killed") else "killed",
                               f"not run: the kernel was gone after {name} ({why})")
    except kernel.KernelDied as error:
        result.notes.append(str(error).splitlines()[0])
        stopped_note = f"the kernel did not start: {str(error).splitlines()[0]}"
        runs = [kernel.CellRun("not run", note=stopped_note)
                if r is None and c["cell_type"] == "code" else r for r, c in zip(runs, cells)]
    # The sandbox and every process in it are gone: only now are the answers read.
    by_id = {assignments_.nbgrader_meta(c).get("grade_id"): i for i, c in enumerate(cells)}
    for p in parts:
        run = runs[by_id[p.grade_id]]
        result.verdicts.append(_verdict(task, p, cases[p.grade_id], run))
    hidden = task.hidden_lines
    for v in result.verdicts:
        v.message = feedback.scrub_message(v.message, hidden)
        v.details = [feedback.scrub_message(d, hidden) for d in v.details]
    result.notes = [feedback.scrub_message(n, hidden) for n in result.notes]
    result.seconds = time.monotonic() - started
    page = feedback.notebook(cells, runs, {v.grade_id: v for v in result.verdicts}, hidden,
                             f"{task.name}: feedback for {student}",
                             task.notebooks[notebook].get("metadata", {}))
    return result, feedback.html_page(page)


def _verdict(task, graded, cases, run: kernel.CellRun | None) -> Verdict:
    """The part's verdict from the one answer bundle its test cell handed back; without
    one, from what became of the cell (timed out, killed, errored)."""
    gid, points = graded.grade_id, graded.points
    if run is None:
        return Verdict(gid, 0, points, "errored", "the test cell did not run")
    bundles = []
    for raw in run.answers:
        try:
            bundles.append(read_answers(raw, gid, len(cases)))
        except OtherPart:
            continue
        except Unreadable as error:
            return Verdict(gid, 0, points, "errored", f"the answers cannot be read: {error}")
    if len(bundles) > 1:
        return Verdict(gid, 0, points, "errored", "the test cell answered more than once")
    if bundles:  # the hidden test answered: what the cell did afterwards does not count
        return judge(task.checks[gid], cases, bundles[0], points)
    if run.status in ("timed out", "killed"):
        return Verdict(gid, 0, points, run.status, run.note)
    if run.status == "not run":
        return Verdict(gid, 0, points, "errored", run.note)
    errors = [o for o in run.outputs if o["output_type"] == "error"]
    why = f": {errors[0]['ename']}: {errors[0]['evalue']}" if errors else ""
    return Verdict(gid, 0, points, "errored",
                   f"the test cell stopped before its hidden tests answered{why}"[:600])


def _submissions(folder: Path, known: list[str]) -> list[tuple[str, str, Path]]:
    found = []
    for student in sorted(p for p in folder.iterdir() if p.is_dir()):
        for sub in sorted(p for p in student.iterdir() if p.is_dir()):
            if sub.name not in known:
                raise SystemExit(f"{sub}: unknown assignment {sub.name!r}; "
                                 f"expected one of {', '.join(known)}")
            found.append((student.name, sub.name, sub))
    if not found:
        raise SystemExit(f"no submissions under {folder}: expected "
                         "<student>/<assignment>/<notebook>.ipynb")
    return found


def _submitted(folder: Path, notebook: str, task) -> tuple[Path | None, str]:
    """The student's file for ``notebook``: its own name, or the only notebook handed in."""
    path = folder / notebook
    if path.is_file():
        return path, ""
    others = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    if len(task.notebooks) == 1 and len(others) == 1:
        return others[0], f"graded {others[0].name} as {notebook}"
    return None, ""


def grade(source: Path, submissions: Path, out: Path, settings: Settings | None = None) -> Path:
    """Grade every submission under ``submissions``; write the results to ``out``."""
    settings = settings or Settings()
    sandbox.probe()  # no sandbox, no grading: never run a student's code unconfined
    if not submissions.is_dir():
        raise SystemExit(f"SUBMISSIONS={submissions} is not a folder")
    known = assignments_.assignments(source)
    found = _submissions(submissions, known)
    tasks = {name: assignments_.load(source, name) for name in sorted({a for _, a, _ in found})}
    setup = _kernel_setup(source, [out, submissions, Path(__file__).resolve().parent.parent])
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="seqlm-grading-") as tmp:
        staging = Path(tmp) / "feedback"
        for n, (student, name, folder) in enumerate(found):
            task = tasks[name]
            for notebook in task.notebooks:
                submitted, note = _submitted(folder, notebook, task)
                run_dir = Path(tmp) / f"run{n}-{Path(notebook).stem}"
                try:
                    result, page = grade_notebook(task, student, notebook, submitted, run_dir,
                                                  settings, setup)
                except Exception:  # a bug of the grader's: this student still gets a row
                    failed = [Verdict(p.grade_id, 0, p.points, "errored",
                                      "the grader failed; see the report")
                              for p in task.parts_of(notebook)]
                    result = Result(student, name, notebook, settings.seed or "", failed)
                    page = None
                    result.notes.append("the grader failed:\n" + traceback.format_exc()[-2000:])
                shutil.rmtree(run_dir, ignore_errors=True)
                if note:
                    result.notes.insert(0, note)
                results.append(result)
                if page is not None:
                    target = staging / student / name / f"{Path(notebook).stem}.html"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(page, encoding="utf-8")
                print(f"{student} {name}: {result.score:g} / {result.max_score:g} "
                      + " ".join(f"{v.grade_id}={v.status}" for v in result.verdicts), flush=True)
        _write(out, results, tasks, staging)
    return out


def _write(out: Path, results: list[Result], tasks: dict, staging: Path) -> None:
    """grades.csv, report.json, reports/ and feedback/: written by the grader alone, last."""
    out.mkdir(parents=True, exist_ok=True)
    parts = [g.grade_id for name in sorted(tasks) for g in tasks[name].graded]
    rows: dict[tuple[str, str], dict] = {}
    for r in results:
        row = rows.setdefault((r.student, r.assignment), {
            "student_id": r.student, "assignment": r.assignment, "score": 0.0, "max_score": 0.0})
        row["score"] += r.score
        row["max_score"] += r.max_score
        for v in r.verdicts:
            row[v.grade_id] = f"{v.points:g}"
    for row in rows.values():
        row["score"], row["max_score"] = f"{row['score']:g}", f"{row['max_score']:g}"
    _atomic(out / "grades.csv", _csv(["student_id", "assignment", "score", "max_score", *parts],
                                     rows.values()))
    _atomic(out / "report.json", json.dumps([asdict(r) for r in results], indent=1) + "\n")
    reports = out / "reports"
    if reports.exists():
        shutil.rmtree(reports)
    reports.mkdir()
    for student in sorted({r.student for r in results}):
        (reports / f"{student}.md").write_text(_report(student, [r for r in results
                                                                 if r.student == student]))
    if (out / "feedback").exists():
        shutil.rmtree(out / "feedback")
    if staging.exists():
        shutil.copytree(staging, out / "feedback")
    else:
        (out / "feedback").mkdir()


def _csv(columns, rows) -> str:
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _report(student: str, results: list[Result]) -> str:
    lines = [f"# Grading report: {student}", ""]
    for r in results:
        lines += [f"## {r.assignment} ({r.notebook}): {r.score:g} / {r.max_score:g}", "",
                  f"Seed `{r.seed}`, {r.seconds:.1f} s.", "",
                  "| part | points | status | what happened |", "| --- | --- | --- | --- |"]
        for v in r.verdicts:
            message = " ".join(v.message.split()).replace("|", "\\|")
            lines.append(f"| `{v.grade_id}` | {v.points:g} / {v.max_points:g} | {v.status} "
                         f"| {message} |")
        if r.notes:
            lines += ["", "Notes:", ""] + [f"- {' '.join(n.split())[:2000]}" for n in r.notes]
        lines.append("")
    return "\n".join(lines)

