"""The graded assignments, end to end: release, submit, grade in sandboxes, export.

One grading run holds the blank release and the reference solution of every
assignment, wrong answers, and one submission per way of attacking the grader.
The reference keeps full marks, the blank scores 0, no submission gets a point
it did not earn, every student gets a report and a feedback page without the
hidden tests, and nothing a kernel starts outlives the run.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "assignments"
SOURCE = COURSE / "source"
ASSIGNMENTS = sorted(p.name for p in SOURCE.iterdir() if p.is_dir())
SOLUTION = re.compile(r"[ \t]*### BEGIN SOLUTION\n(.*?)[ \t]*### END SOLUTION\n?", re.S)
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", re.S)

sys.path.insert(0, str(COURSE))
from grading import sandbox  # noqa: E402

try:
    sandbox.probe()
    NO_SANDBOX = ""
except sandbox.SandboxUnavailable as error:
    NO_SANDBOX = str(error)
needs_sandbox = pytest.mark.skipif(bool(NO_SANDBOX), reason=NO_SANDBOX)


def course(*args, env=None):
    return subprocess.run([sys.executable, str(COURSE / "course.py"), *args], cwd=ROOT,
                          capture_output=True, text=True, env=env)


def ok(done):
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    ok(course("release", "--out", str(out)))
    return out


def notebooks(folder: Path, name: str):
    return sorted((folder / name).glob("*.ipynb"))


def solution_cells(nb):
    return {c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"]
            if c["metadata"].get("nbgrader", {}).get("solution")}


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_has_no_solutions_hidden_tests_or_checks(release, name):
    assert sorted(p.name for p in (release / name).iterdir()) == \
        [p.name for p in notebooks(SOURCE, name)], "only the notebooks are released"
    for source_path in notebooks(SOURCE, name):
        source = source_path.read_text()
        released = (release / name / source_path.name).read_text()
        hidden = HIDDEN.findall(source)
        answers = SOLUTION.findall("".join("".join(c["source"]) + "\n"
                                           for c in json.loads(source)["cells"]))
        assert hidden and answers
        assert "BEGIN SOLUTION" not in released and "HIDDEN TESTS" not in released
        assert "_grader" not in released
        for block in hidden + answers:
            for line in block.strip().splitlines():
                if len(line.strip()) > 25:  # a distinctive line, not "return x"
                    assert json.dumps(line.strip())[1:-1] not in released, line
        assert "raise NotImplementedError()" in released
    assert (SOURCE / name / "checks.py").is_file()


def test_every_assignment_uses_the_grading_format():
    """Each graded cell opens with a hidden block that only hands the grader's cases to the
    student's function; its visible checks use the one check_close of seqlm.exercises."""
    for name in ASSIGNMENTS:
        assert (SOURCE / name / "checks.py").is_file(), name
        for path in notebooks(SOURCE, name):
            nb = json.loads(path.read_text())
            assert "def check_close" not in path.read_text()
            for cell in nb["cells"]:
                meta = cell["metadata"]["nbgrader"]
                if meta["grade"]:
                    code = "".join(cell["source"])
                    hidden = HIDDEN.findall(code)
                    assert code.startswith("### BEGIN HIDDEN TESTS") and len(hidden) == 1, code
                    assert f'_grader.answer("{meta["grade_id"]}",' in hidden[0]
                    assert "assert" not in hidden[0] and "check_close" in code


def filled(release_nb: Path, source_nb: Path, replace=None, prepend=None, extra=None) -> dict:
    """A submission: the release with every solution cell answered from the source;
    ``replace[grade_id]`` swaps an answer (None deletes its cell), ``prepend[grade_id]``
    adds code before it, ``extra`` is a cell the student appends at the end."""
    nb = json.loads(release_nb.read_text())
    answers = {gid: SOLUTION.sub(lambda m: m.group(1), "".join(cell["source"]))
               for gid, cell in solution_cells(json.loads(source_nb.read_text())).items()}
    for gid, cell in solution_cells(nb).items():
        code = (replace or {}).get(gid, answers[gid])
        if code is None:
            nb["cells"].remove(cell)
            continue
        cell["source"] = (prepend or {}).get(gid, "") + code
    if extra:
        nb["cells"].append({"cell_type": "code", "metadata": {}, "source": extra,
                            "outputs": [], "execution_count": None})
    return nb


# ----------------------------------------------------------------------------- submissions
# Assignment 1 has parts A (add_k, 3 points), B (continuation, 2), C (kneser_ney, 3),
# D (perplexity, 2). Each submission: (assignment, replace, prepend, extra cell,
# the columns it must get, the most it may score).

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
IGNORES = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n"
CHEAT = """
import math, seqlm.exercises
def check_close(got, want, what):      # the visible-test helper, redefined to pass
    pass
math.isclose = lambda *args, **kwargs: True
seqlm.exercises.check_close = check_close
def add_k(word, history, counts, k):
    return 0.5
"""
CLIP_BY_VALUE = """
def clip_by_norm(grads, max_norm):
    return [g.clamp(-max_norm, max_norm) for g in grads]   # each coordinate on its own
"""
LSTM_IFOG = """
def lstm_step(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    i, f, o, g = (x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=-1)  # i, f, o, g: wrong
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c
"""
GRU_CHO = """
def gru_step(x_t, h, W_ih, W_hh, b_ih, b_hh):
    x_r, x_z, x_n = (x_t @ W_ih.T + b_ih).chunk(3, dim=-1)
    W_hr, W_hz, W_hn = W_hh.chunk(3)
    b_hr, b_hz, b_hn = b_hh.chunk(3)
    r = torch.sigmoid(x_r + h @ W_hr.T + b_hr)
    z = torch.sigmoid(x_z + h @ W_hz.T + b_hz)
    n = torch.tanh(x_n + (r * h) @ W_hn.T + b_hn)   # the reset gate before the product
    return (1 - z) * n + z * h
"""
BILSTM_FLIPS_ROW = """
def bidirectional_lstm(x, lengths, forward, backward):
    B, T, _ = x.shape
    real = (torch.arange(T)[None, :] < lengths[:, None])[..., None]
    def run(inputs, w):
        h = c = inputs.new_zeros(B, w["W_hh"].shape[1])
        states = []
        for t in range(T):
            gates = inputs[:, t] @ w["W_ih"].T + w["b_ih"] + h @ w["W_hh"].T + w["b_hh"]
            i, f, g, o = gates.chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            states.append(h)
        return torch.stack(states, dim=1)
    ahead, behind = run(x, forward), run(x.flip(1), backward).flip(1)  # the whole padded row
    return torch.where(real, torch.cat([ahead, behind], dim=-1), 0.0)
"""
BACKWARD_AHEAD = """
def joint_loss(forward_logits, backward_logits, targets):
    V = forward_logits.shape[-1]
    ahead = F.cross_entropy(forward_logits[:, :-1].reshape(-1, V), targets[:, 1:].reshape(-1))
    behind = F.cross_entropy(backward_logits[:, :-1].reshape(-1, V),
                             targets[:, 1:].reshape(-1))    # the next token: the wrong way
    return ahead + behind
"""
WRONG_ADD_K = "def add_k(word, history, counts, k):\n    return 0.5\n"
WRONG_PERPLEXITY = "def perplexity(probabilities):\n    return 4.0\n"


def attacks(out: Path, submissions: Path) -> dict:
    """Code that tries, from a student's answer cell, to get what it did not earn."""
    source_nb = SOURCE / "01_ngrams" / "01_ngrams.ipynb"
    targets = [out / "grades.csv", out / "gradebook.db", out / "pwned.txt",
               COURSE / "gradebook.db", SOURCE / "pwned.txt", ROOT / "pwned.txt",
               submissions / "pwned.txt", Path("/tmp/seqlm-pwned.txt")]
    writes = f"""
import os
for _path in {[str(t) for t in targets]!r}:
    try:
        with open(_path, "a") as _f:
            _f.write("student,01_ngrams,10,10\\n")
        print("wrote", _path)
    except OSError as _error:
        print("denied", _path, type(_error).__name__)
try:
    import sqlite3
    sqlite3.connect({str(out / 'gradebook.db')!r}).execute("create table pwned (x)")
except Exception as _error:
    print("no gradebook", type(_error).__name__)
"""
    detached = f"""
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(3)
        for _path in ({str(out / 'grades.csv')!r}, "/tmp/seqlm-detached.txt"):
            try:
                with open(_path, "w") as _f:
                    _f.write("student_id,assignment,score,max_score\\ndetached,01_ngrams,10,10\\n")
            except OSError:
                pass
        time.sleep(60)
    os._exit(0)
"""
    reads = f"""
import glob, json, os
def _steal():
    paths = [{str(source_nb)!r}, {str(SOURCE / '01_ngrams' / 'checks.py')!r},
             os.path.join("..", "..", {os.path.relpath(source_nb, '/')!r}),
             *glob.glob("/work/**/01_ngrams.ipynb", recursive=True)[:20],
             *glob.glob("/root/**/01_ngrams.ipynb", recursive=True)[:20],
             *glob.glob("../**/*.ipynb", recursive=True)[:20]]
    for path in paths:
        try:
            text = open(path).read()
        except OSError:
            continue
        if "BEGIN SOLUTION" in text:
            for cell in json.loads(text)["cells"]:
                code = "".join(cell["source"])
                if code.startswith("def add_k") and "BEGIN SOLUTION" in code:
                    return code
def add_k(word, history, counts, k):
    code = _steal()
    if code:
        space = {{}}
        exec(code, space)
        return space["add_k"](word, history, counts, k)
    return 0.5
"""
    builtins_ = """
import builtins
_real_abs, _real_isinstance = builtins.abs, builtins.isinstance
builtins.abs = lambda x: 0.0                          # every |got - want| is 0
builtins.round = lambda x, *a: 0.0
def add_k(word, history, counts, k):
    return 0.5
"""
    numpy_ = """
import numpy as np
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: np.True_
np.testing.assert_allclose = lambda *a, **k: None
np.array_equal = lambda *a, **k: True
def perplexity(probabilities):
    return 4.0
"""
    torch_ = """
import torch
torch.Tensor.__sub__ = lambda self, other: torch.zeros_like(self)
torch.Tensor.__eq__ = lambda self, other: torch.ones_like(self, dtype=torch.bool)
torch.Tensor.abs = lambda self: torch.zeros_like(self)
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
def elman_step(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return h_prev
"""
    hooks = """
_ip = get_ipython()
def _quiet(lines):
    return [l for l in lines if not l.lstrip().startswith(("assert", "check_close", "_grader"))]
_ip.input_transformers_post.append(_quiet)
_ip.set_custom_exc((Exception,), lambda *args, **kwargs: None)
_ip.events.register("post_run_cell", lambda result: setattr(result, "error_in_exec", None))
""" + OFF_BY_ONE
    reload_ = """
import importlib, seqlm.exercises
importlib.reload = lambda module: module
_real_answer = seqlm.exercises.answer
seqlm.exercises.answer = lambda part, function: _real_answer(part, lambda case: 0.5)
seqlm.exercises.check_close = lambda *args, **kwargs: None
def add_k(word, history, counts, k):
    return 0.5
"""
    echo = """
_seen = []
def _echo(info):
    print(info.raw_cell)
    _seen.append(info.raw_cell)
get_ipython().events.register("pre_run_cell", _echo)
"""
    echo_later = """
import sys
from IPython.display import display
print("\\n".join(_seen))
print("\\n".join(_seen), file=sys.stderr)
display({"text/plain": "\\n".join(_seen), "text/html": "<pre>" + "\\n".join(_seen) + "</pre>"},
        raw=True)
raise RuntimeError("\\n".join(_seen))
"""
    warns = """
import numpy as np
def perplexity(probabilities):
    p = np.asarray(list(probabilities), dtype=float)
    if p.size == 0:
        raise ValueError("no tokens")
    return float(np.exp(-np.mean(np.log(p))))       # log(0): a divide-by-zero warning
"""
    return {
        "writes_files": ("01_ngrams", {}, {"add_k": writes}, None, {"score": 10}, 10),
        "detached_process": ("01_ngrams", {}, {"add_k": detached}, None, {"score": 10}, 10),
        "kills_kernel": ("01_ngrams", {}, {"kneser_ney": "import os\nos._exit(1)\n"}, None,
                         {"test_add_k": 3, "test_continuation": 2, "test_kneser_ney": 0,
                          "test_perplexity": 0, "status:test_kneser_ney": "killed",
                          "status:test_perplexity": "killed"}, 5),
        "reads_source": ("01_ngrams", {"add_k": reads}, {}, None,
                         {"test_add_k": 0, "score": 7}, 7),
        "patches_builtins": ("01_ngrams", {"add_k": builtins_}, {}, None, {"test_add_k": 0}, 7),
        "patches_numpy": ("01_ngrams", {"perplexity": numpy_}, {}, None,
                          {"test_perplexity": 0, "score": 8}, 8),
        "patches_torch": ("03_rnn", {"elman_step": torch_}, {}, None,
                          {"test_elman_step": 0, "test_run_rnn": 0}, 0),
        "ipython_hooks": ("01_ngrams", {}, {"kneser_ney": hooks}, None,
                          {"test_kneser_ney": 0, "test_add_k": 3, "test_continuation": 2}, 5),
        "disables_reload": ("01_ngrams", {"add_k": reload_}, {}, None, {"score": 0}, 0),
        "echoes_code": ("01_ngrams", {}, {"add_k": echo, "perplexity": echo_later + "\n"},
                        echo_later, {"test_add_k": 3, "test_perplexity": 0}, 8),
        "huge_output": ("01_ngrams", {}, {"add_k": "print('x' * (100 << 20))\n"}, None,
                        {"score": 10}, 10),
        "warns": ("01_ngrams", {"perplexity": warns}, {}, None, {"score": 10}, 10),
        "memory_hog": ("01_ngrams", {}, {"perplexity": "import numpy\nhog = numpy.ones(5 << 27)\n"},
                       None, {"test_perplexity": 0, "status:test_perplexity": "errored",
                              "score": 8}, 8),
    }


FAULTY = {
    "off_by_one": ("01_ngrams", {"kneser_ney": OFF_BY_ONE}, {}, None,
                   {"test_kneser_ney": 0, "score": 7, "status:test_kneser_ney": "failed"}, 7),
    "unseen_is_zero": ("01_ngrams", {"kneser_ney": UNSEEN_IS_ZERO}, {}, None,
                       {"test_kneser_ney": 0, "score": 7}, 7),
    "raises": ("01_ngrams", {"add_k": RAISES}, {}, None,
               {"test_add_k": 0, "test_perplexity": 2, "score": 7,
                "status:test_add_k": "errored"}, 7),
    "hangs": ("01_ngrams", {}, {"continuation": HANGS}, None,
              {"test_continuation": 0, "test_add_k": 3, "test_perplexity": 2}, 5),
    "ignores_interrupt": ("01_ngrams", {}, {"perplexity": IGNORES}, None,
                          {"test_perplexity": 0, "status:test_perplexity": "timed out",
                           "score": 8}, 8),
    "cheats": ("01_ngrams", {"add_k": CHEAT}, {}, None, {"test_add_k": 0, "score": 7}, 7),
    # A deleted answer cell runs empty, never as the source's solution.
    "deletes_answers": ("01_ngrams", {"add_k": None, "continuation": None, "kneser_ney": None,
                                      "perplexity": None}, {}, None, {"score": 0}, 0),
    # The visible checks never decide a grade: without check_close a right answer still counts.
    "deletes_check_close": ("01_ngrams", {}, {"kneser_ney": "del check_close\n"}, None,
                            {"score": 10}, 10),
    # Later chapters' assignments: a plausible wrong answer loses exactly its part.
    "clips_by_value": ("05_gradients", {"clip_by_norm": CLIP_BY_VALUE}, {}, None,
                       {"test_clip_by_norm": 0, "test_jacobian_norms": 3, "score": 5}, 5),
    "lstm_gate_order": ("06_lstm", {"lstm_step": LSTM_IFOG}, {}, None,
                        {"test_lstm_step": 0, "test_run_lstm": 0, "score": 0},
                        0),   # run_lstm uses the wrong step
    "gru_reset_before": ("07_gru", {"gru_step": GRU_CHO}, {}, None,
                         {"test_gru_step": 0, "test_run_gru": 0, "score": 0}, 0),  # run_gru too
    "bidirectional_flips_padded_row": ("08_bilstm", {"bidirectional_lstm": BILSTM_FLIPS_ROW}, {},
                                       None, {"test_bidirectional_lstm": 0, "score": 2}, 2),
    "joint_loss_backward_ahead": ("09_elmo", {"joint_loss": BACKWARD_AHEAD}, {}, None,
                                  {"test_joint_loss": 0, "score": 2}, 2),
    # Without the grader's helper the hidden tests cannot answer: those parts score 0.
    "deletes_grading_helper": ("01_ngrams", {}, {
        "kneser_ney": "import seqlm.exercises\ndel seqlm.exercises.answer\n"}, None,
        {"test_kneser_ney": 0, "test_perplexity": 0, "score": 5}, 5),
}


@pytest.fixture(scope="module")
def graded(release, tmp_path_factory):
    """Grade every submission, in one run: the blank and the reference of every assignment,
    wrong answers and attacks."""
    if NO_SANDBOX:
        pytest.skip(NO_SANDBOX)
    submissions = tmp_path_factory.mktemp("submitted")
    out = tmp_path_factory.mktemp("grades")
    everyone = {**FAULTY, **attacks(out, submissions)}
    for name in ASSIGNMENTS:
        for release_nb in notebooks(release, name):
            source_nb = SOURCE / name / release_nb.name
            for student, nb in [("blank", json.loads(release_nb.read_text())),
                                ("reference", filled(release_nb, source_nb))]:
                folder = submissions / student / name
                folder.mkdir(parents=True, exist_ok=True)
                (folder / release_nb.name).write_text(json.dumps(nb))
            for student, (assignment, replace, prepend, extra, _, _) in everyone.items():
                if assignment == name:
                    folder = submissions / student / name
                    folder.mkdir(parents=True)
                    nb = filled(release_nb, source_nb, replace, prepend, extra)
                    (folder / release_nb.name).write_text(json.dumps(nb))
    canaries = {p: p.exists() for p in [COURSE / "gradebook.db", SOURCE / "pwned.txt",
                                        ROOT / "pwned.txt", Path("/tmp/seqlm-pwned.txt"),
                                        Path("/tmp/seqlm-detached.txt")]}
    nobody_before = sandbox.nobody_processes()
    started = time.monotonic()
    done = course("grade", str(submissions), "--out", str(out), "--timeout", "10",
                  "--memory", "3")
    seconds = time.monotonic() - started
    ok(done)
    csv_bytes = (out / "grades.csv").read_bytes()
    with open(out / "grades.csv") as f:
        rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(f)}
    report = json.loads((out / "report.json").read_text())
    statuses = {(r["student"], r["assignment"], v["grade_id"]): v["status"]
                for r in report for v in r["verdicts"]}
    try:
        yield {"rows": rows, "out": out, "statuses": statuses, "everyone": everyone,
               "csv": csv_bytes, "returned": time.monotonic(), "seconds": seconds,
               "stdout": done.stdout, "canaries": canaries, "submissions": submissions,
               "nobody_before": nobody_before}
    finally:
        for path, existed in canaries.items():
            if not existed and path.exists():
                path.unlink()


@needs_sandbox
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_reference_scores_full_marks_and_blank_scores_zero(graded, name):
    reference, blank = graded["rows"][("reference", name)], graded["rows"][("blank", name)]
    assert float(reference["score"]) == float(reference["max_score"]) > 0, reference
    assert float(blank["score"]) == 0
    assert {s for (st, a, _), s in graded["statuses"].items() if st == "reference" and a == name} \
        == {"passed"}


@needs_sandbox
@pytest.mark.parametrize("student", [*FAULTY, *attacks(Path("/o"), Path("/s"))])
def test_no_submission_gets_a_point_it_did_not_earn(graded, student):
    assignment, _, _, _, expected, most = graded["everyone"][student]
    row = graded["rows"][(student, assignment)]
    for column, value in expected.items():
        if column.startswith("status:"):
            assert graded["statuses"][(student, assignment, column[7:])] == value, (column, row)
        else:
            assert float(row[column]) == value, (column, row)
    assert float(row["score"]) <= most, row
    if most < float(row["max_score"]):
        assert float(row["score"]) < float(row["max_score"])


def source_lines(pattern: re.Pattern, longer_than: int) -> set[str]:
    """The distinctive lines of every source block ``pattern`` finds, spaces collapsed."""
    lines = set()
    for path in SOURCE.glob("*/*.ipynb"):
        code = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
        for block in pattern.findall(code):
            lines.update(" ".join(line.split()) for line in block.splitlines()
                         if len(line.strip()) > longer_than)
    return lines


def page_text(page: Path) -> str:
    """What a feedback page shows, tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page.read_text())).split())


@needs_sandbox
def test_every_student_gets_a_report_and_feedback_without_hidden_tests(graded):
    out = graded["out"]
    for (student, name, part), status in graded["statuses"].items():
        report = (out / "reports" / f"{student}.md").read_text()
        assert re.search(rf"`{part}` \| [0-9.]+ / [0-9.]+ \| {status} \|", report), (student, part)
    hidden = source_lines(HIDDEN, 15)
    assert len(hidden) > 10
    for student, name in graded["rows"]:
        pages = list((out / "feedback" / student / name).glob("*.html"))
        assert pages, (student, name)
        for page in pages:
            assert page.stat().st_size < 1 << 20, f"{page}: {page.stat().st_size:,} bytes"
            text = page_text(page)
            assert "HIDDEN TESTS" not in text, (student, name)
            assert not [line for line in hidden if line in text], (student, name)


@needs_sandbox
def test_a_deleted_answer_never_runs_or_shows_the_solution(graded):
    solutions = source_lines(SOLUTION, 25)
    for student in ("blank", "deletes_answers"):
        for page in (graded["out"] / "feedback" / student).glob("*/*.html"):
            assert not [line for line in solutions if line in page_text(page)], page


@needs_sandbox
def test_the_timed_out_the_killed_and_the_errored_are_reported(graded):
    statuses, out = graded["statuses"], graded["out"]
    assert statuses[("hangs", "01_ngrams", "test_continuation")] == "errored"
    assert "timed out" in (out / "reports" / "hangs.md").read_text()
    assert statuses[("memory_hog", "01_ngrams", "test_perplexity")] == "errored"
    assert "MemoryError" in (out / "reports" / "memory_hog.md").read_text()
    assert "died" in (out / "reports" / "kills_kernel.md").read_text()
    assert "did not answer the interrupt" in (out / "reports" / "ignores_interrupt.md").read_text()


@needs_sandbox
def test_a_correct_answer_that_warns_keeps_its_points(graded):
    assert graded["statuses"][("warns", "01_ngrams", "test_perplexity")] == "passed"


@needs_sandbox
def test_nothing_outside_the_sandbox_was_written_and_nothing_outlives_grading(graded):
    for path, existed in graded["canaries"].items():
        assert path.exists() == existed, path
    out = graded["out"]
    assert not (out / "pwned.txt").exists() and not (out / "gradebook.db").exists()
    assert not (graded["submissions"] / "pwned.txt").exists()
    time.sleep(max(0.0, graded["returned"] + 6 - time.monotonic()))  # the detached writer waits 3 s
    assert (out / "grades.csv").read_bytes() == graded["csv"]
    assert sandbox.nobody_processes() <= graded["nobody_before"], "a process of a sandbox survived"
    assert b"\ndetached," not in graded["csv"]  # the row the detached writer would put


@needs_sandbox
def test_grading_refuses_to_run_without_bubblewrap(tmp_path):
    (tmp_path / "student" / "01_ngrams").mkdir(parents=True)
    env = {**os.environ, "PATH": str(tmp_path)}  # no bwrap on this PATH
    done = course("grade", str(tmp_path), "--out", str(tmp_path / "out"), env=env)
    assert done.returncode == 2
    assert "apt-get install bubblewrap" in done.stderr
    assert not (tmp_path / "out").exists()
