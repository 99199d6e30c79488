"""Grade a class: each notebook in its own sandboxed kernel, ``jobs`` of them at once.

For every ``SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb``:

1. assemble the notebook to run from the source (test cells, hidden tests and
   helpers from the source; the student's code in the solution cells);
2. draw this run's cases from a fresh seed and compute the reference answers
   here, with the assignment's ``checks.py``;
3. run the notebook in a sandboxed kernel (:mod:`grading.kernel`) that sees the
   cases, never the references; each hidden test calls the student's function on
   them and hands the raw results back;
4. once the kernel and everything it started are gone, compare the results with
   the references (:mod:`grading.checks`), read the answers' code for what their
   parts ban (:mod:`grading.bans`), and write the feedback page.

With ``jobs`` > 1, that many notebooks are graded at once, each in its own sandbox
under a uid of its own and with cores ÷ jobs threads (``seqlm.config``); the
results are the same as one at a time, in the same order. When every notebook is
graded, and only then, ``grades.csv``, ``report.json`` and ``reports/<student>.md``
are written to the output folder, and ``feedback/`` replaces the last run's. A
kernel that dies, hangs or floods costs its student the parts it did not reach,
and a failure of the grader itself on one notebook costs only that notebook; the
class carries on.
"""

from __future__ import annotations

import csv
import importlib.machinery
import json
import os
import queue
import secrets
import shutil
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import assignment as assignments_
from . import bans, feedback, kernel, sandbox
from .checks import OtherPart, Unreadable, Verdict, encode_cases, judge, read_answers

NOTEBOOK_BYTES = 50 << 20     # a submitted notebook larger than this is not run
CASES_PATH = "/grading/cases.json"
MAX_KERNEL_THREADS = 16       # threads of torch in one kernel (they count as processes)


@dataclass
class Settings:
    cell_timeout: float = 60          # seconds one cell may run
    notebook_timeout: float = 900     # seconds one notebook may run, all cells together
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    seed: str | None = None           # None: a fresh one per run (drawn here, recorded)
    jobs: int = 1                     # notebooks graded at once, each in its own sandbox
    progress: bool | None = None      # a progress bar; None: unless quiet (seqlm.config)


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


@dataclass(frozen=True)
class KernelSetup:
    """What every kernel binds read-only, its environment, and what it must not see."""

    read_only: list[Path]
    env: dict[str, str]
    hide: list[Path]

    def installed(self, module: str) -> bool:
        """Whether a top-level module can be imported from what the kernel sees."""
        seen = [r.resolve() for r in self.read_only]
        paths = [p for p in sys.path if p and any(
            Path(p).resolve().is_relative_to(r) for r in seen)]
        return importlib.machinery.PathFinder.find_spec(module, paths) is not None


def kernel_threads(jobs: int, limits: sandbox.Limits) -> dict[str, str]:
    """The threads of a kernel that runs beside ``jobs - 1`` others: cores ÷ jobs
    (``seqlm.config.worker_environment``; every core for one alone), at most what its
    limit on processes leaves room for."""
    from seqlm import config

    settings = config.worker_environment(jobs) or {"OMP_WAIT_POLICY": "PASSIVE"}
    wanted = int(settings.get("OMP_NUM_THREADS", config.threads_per_worker(jobs)))
    threads = str(max(1, min(wanted, MAX_KERNEL_THREADS, limits.processes // 4)))
    return {**settings, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
            "OPENBLAS_NUM_THREADS": threads}


def _kernel_setup(source: Path, extra_hidden: list[Path], settings: Settings) -> KernelSetup:
    import seqlm
    from seqlm import data, exercises

    data.prepare_shakespeare()  # the kernel cannot write the cache: prepare it here
    package_root = Path(seqlm.__file__).resolve().parent.parent
    cache = data.cache_dir().resolve()
    read_only = sandbox.python_paths() + [package_root, cache]
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
           "HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONPATH": str(package_root),
           "SEQLM_CACHE": str(cache), exercises.CASES_ENV: CASES_PATH,
           **kernel_threads(settings.jobs, settings.limits),
           "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/matplotlib", "IPYTHONDIR": "/tmp/ipython",
           "PYTHONDONTWRITEBYTECODE": "1"}
    hide = [source.resolve(), *[p.resolve() for p in extra_hidden]]
    return KernelSetup(read_only, env, hide)


def grade_notebook(task: assignments_.Assignment, student: str, notebook: str,
                   submitted: Path | None, run_dir: Path, settings: Settings,
                   setup: KernelSetup, uid: int = sandbox.NOBODY) -> tuple:
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
    runs: list[kernel.CellRun | None] = [None] * len(cells)
    deadline = time.monotonic() + settings.notebook_timeout
    box = kernel.SandboxedKernel(run_dir, files={f"{sandbox.HOME}/{notebook}": copy,
                                                 CASES_PATH: run_dir / "cases.json"},
                                 env=setup.env, read_only=setup.read_only,
                                 limits=settings.limits, hide=setup.hide, uid=uid)
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
    code = _code_cells(cells)
    for p in parts:
        run = runs[by_id[p.grade_id]]
        verdict = _banned(task, p, cells[by_id[p.grade_id]], code, setup) or \
            _verdict(task, p, cases[p.grade_id], run)
        verdict.seconds = run.seconds if run is not None else 0.0
        result.verdicts.append(verdict)
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


def _code_cells(cells: list[dict]) -> list[bans.Cell]:
    """The notebook's code cells as :mod:`grading.bans` reads them: whose code each is."""
    out, last = [], None
    for cell in cells:
        meta = assignments_.nbgrader_meta(cell)
        gid = meta.get("grade_id")
        if cell["cell_type"] == "code":
            if meta.get("solution"):
                out.append(bans.Cell(cell["source"], True, f"the answer cell {gid}"))
            elif not gid:
                where = f" after {last}" if last else ""
                out.append(bans.Cell(cell["source"], True, f"the cell you added{where}"))
            else:
                out.append(bans.Cell(cell["source"], False, gid))
        last = gid or last
    return out


def _banned(task, graded, test_cell: dict, code: list[bans.Cell], setup: KernelSetup):
    """A failed verdict when the part's answer uses what its part bans; else None."""
    part = task.checks[graded.grade_id]
    rules = bans.Bans(part.bans, part.allow)
    if not rules:
        return None
    hidden = "\n".join(assignments_.HIDDEN_BLOCK.findall(assignments_.source_text(test_cell)))
    found = bans.violations(code, hidden, rules, setup.installed)
    if not found:
        return None
    return Verdict(graded.grade_id, 0, graded.points, "failed", found[0], found)


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
    uids = sandbox.slot_uids(settings.jobs)
    if not submissions.is_dir():
        raise SystemExit(f"SUBMISSIONS={submissions} is not a folder")
    known = assignments_.assignments(source)
    found = _submissions(submissions, known)
    tasks = {name: assignments_.load(source, name) for name in sorted({a for _, a, _ in found})}
    setup = _kernel_setup(source, [out, submissions, Path(__file__).resolve().parent.parent],
                          settings)
    todo = [(student, tasks[name], folder, notebook)
            for student, name, folder in found for notebook in tasks[name].notebooks]
    with tempfile.TemporaryDirectory(prefix="seqlm-grading-") as tmp:
        staging = Path(tmp) / "feedback"
        slots: queue.Queue[int] = queue.Queue()
        for uid in uids:
            slots.put(uid)
        lock = threading.Lock()

        def one(n: int) -> Result:
            student, task, folder, notebook = todo[n]
            uid = slots.get()
            try:
                return _grade_one(task, student, folder, notebook, Path(tmp) / f"run{n}",
                                  settings, setup, uid, staging, lock)
            finally:
                slots.put(uid)

        results: list[Result | None] = [None] * len(todo)
        with _Progress(len(todo), settings.progress) as progress, \
                ThreadPoolExecutor(settings.jobs, thread_name_prefix="grading") as pool:
            futures = {pool.submit(one, n): n for n in range(len(todo))}
            for future in as_completed(futures):
                result = results[futures[future]] = future.result()
                progress.done(f"{result.student} {result.assignment}: {result.score:g} / "
                              f"{result.max_score:g} " + " ".join(
                                  f"{v.grade_id}={v.status}" for v in result.verdicts))
        _write(out, results, tasks, staging)
    return out


def _grade_one(task, student: str, folder: Path, notebook: str, run_dir: Path,
               settings: Settings, setup: KernelSetup, uid: int, staging: Path,
               lock: threading.Lock) -> Result:
    """One notebook, whatever happens: a failure of the grader's own costs this row only."""
    submitted, note = _submitted(folder, notebook, task)
    try:
        result, page = grade_notebook(task, student, notebook, submitted, run_dir, settings,
                                      setup, uid)
    except Exception:  # a bug of the grader's: this student still gets a row
        failed = [Verdict(p.grade_id, 0, p.points, "errored", "the grader failed; see the report")
                  for p in task.parts_of(notebook)]
        result = Result(student, task.name, notebook, settings.seed or "", failed)
        page = None
        result.notes.append("the grader failed:\n" + traceback.format_exc()[-2000:])
    shutil.rmtree(run_dir, ignore_errors=True)
    if note:
        result.notes.insert(0, note)
    if page is not None:
        target = staging / student / task.name / f"{Path(notebook).stem}.html"
        with lock:
            target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")
    return result


class _Progress:
    """A bar on stderr (notebooks graded, their rate, the time left) and one line per
    notebook on stdout; only the lines when nobody watches (``seqlm.config.resolve_quiet``)."""

    def __init__(self, total: int, show: bool | None):
        from seqlm import config

        self.bar = None
        if show if show is not None else not config.resolve_quiet():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="notebook", file=sys.stderr, dynamic_ncols=True)

    def done(self, line: str) -> None:
        if self.bar is None:
            print(line, flush=True)
            return
        self.bar.write(line, file=sys.stdout)
        self.bar.update()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()


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

