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
        cells = json.loads(source)["cells"]
        answers = SOLUTION.findall("".join("".join(c["source"]) + "\n" for c in cells))
        shown = "\n".join("".join(c["source"]) for c in cells  # what the notebook gives out:
                          if not c["metadata"]["nbgrader"].get("solution")
                          and not c["metadata"]["nbgrader"].get("grade"))  # not a leak
        assert hidden and answers
        assert "BEGIN SOLUTION" not in released and "HIDDEN TESTS" not in released
        assert "_grader" not in released
        for block in hidden + answers:
            for line in block.strip().splitlines():
                if len(line.strip()) > 25 and line.strip() not in shown:  # a distinctive line
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
                lines = "".join(cell["source"]).splitlines()
                assert len(lines) <= 40, f"{name}: a cell longer than a screen"
                if cell["cell_type"] == "code" and name >= "05":
                    assert max(map(len, lines), default=0) <= 100, f"{name}: a line too wide"
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
# ----------------------------------------------------------------------------- Assignments 5-10
# Wrong answers to the new parts: a product in the wrong order, a backward pass with one
# term missing, a loss without its correction, training that measures the wrong norm.
NORMS_WRONG_ORDER = """
def jacobian_norms(W_hh, a, activation):
    T, H = a.shape
    product, norms = torch.eye(H, dtype=W_hh.dtype), []
    for t in reversed(range(T)):
        product = step_jacobian(W_hh, a[t], activation) @ product   # earlier steps on the left
        norms.append(torch.linalg.matrix_norm(product, ord=2))
    return torch.stack(norms)
"""
CLIPPED_LOOP = """
def train_clipped(weights, length, steps, lr, max_norm, seed):
    params = {k: v.detach().clone().requires_grad_() for k, v in weights.items()}
    generator = torch.Generator().manual_seed(seed)
    norms = []
    for _ in range(steps):
        x, y = adding_problem(32, length, generator)
        h = torch.zeros(32, params["W_hh"].shape[0])
        for t in range(length):
            h = torch.relu(x[:, t] @ params["W_ih"].T + h @ params["W_hh"].T + params["b_h"])
        loss = (((h @ params["W_hy"].T + params["b_y"])[:, 0] - y) ** 2).mean()
STEP
    return {"weights": {k: v.detach() for k, v in params.items()}, "norms": torch.stack(norms)}
"""
CLIPS_EACH_TENSOR = CLIPPED_LOOP.replace("STEP", """\
        grads = torch.autograd.grad(loss, list(params.values()))
        each = [g.norm() for g in grads]
        norms.append(max(each))
        with torch.no_grad():
            for p, g, n in zip(params.values(), grads, each):    # each tensor on its own
                p -= lr * min(1.0, max_norm / (float(n) + 1e-6)) * g""")
TORCH_CLIPS = CLIPPED_LOOP.replace("STEP", """\
        for p in params.values():
            p.grad = None
        loss.backward()
        norms.append(torch.nn.utils.clip_grad_norm_(params.values(), max_norm))
        with torch.no_grad():
            for p in params.values():
                p -= lr * p.grad""")
AUTOGRAD_STEP_JACOBIAN = """
def step_jacobian(W_hh, a, activation):
    f = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}[activation]
    return torch.autograd.functional.jacobian(f, a) @ W_hh
"""
COURSE_NORMS = """
from seqlm.gradients import jacobian_product
def jacobian_norms(W_hh, a, activation):
    T = a.shape[0]
    return torch.stack([torch.linalg.matrix_norm(jacobian_product(W_hh, a, T - d, activation),
                                                 ord=2) for d in range(1, T + 1)])
"""
LSTM_BACKWARD_ONE_ROAD = """
def lstm_step_backward(x_t, h, c, W_ih, W_hh, b_ih, b_hh, d_h_next, d_c_next):
    i, f, g, o = (x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    tanh_c = torch.tanh(f * c + i * g)
    d_c_total = d_c_next                                       # forgets the road through h'
    d_gates = torch.cat([d_c_total * g * i * (1 - i), d_c_total * c * f * (1 - f),
                         d_c_total * i * (1 - g ** 2), d_h_next * tanh_c * o * (1 - o)], -1)
    return {"x_t": d_gates @ W_ih, "h": d_gates @ W_hh, "c": d_c_total * f,
            "W_ih": d_gates.T @ x_t, "W_hh": d_gates.T @ h,
            "b_ih": d_gates.sum(0), "b_hh": d_gates.sum(0)}
"""
AUTOGRAD_LSTM_BACKWARD = """
def lstm_step_backward(x_t, h, c, W_ih, W_hh, b_ih, b_hh, d_h_next, d_c_next):
    inputs = [t.detach().requires_grad_() for t in (x_t, h, c, W_ih, W_hh, b_ih, b_hh)]
    with torch.enable_grad():
        h_next, c_next = lstm_step(*inputs)
        loss = (d_h_next * h_next).sum() + (d_c_next * c_next).sum()
        grads = torch.autograd.grad(loss, inputs)
    return dict(zip(["x_t", "h", "c", "W_ih", "W_hh", "b_ih", "b_hh"], grads))
"""
REFERENCE_LSTM_TRAINING = """
def train_adding(length, hidden_size, steps, seed):
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    layer, head = Layer(2, hidden_size, batch_first=True), torch.nn.Linear(hidden_size, 1)
    optimizer = torch.optim.Adam([*layer.parameters(), *head.parameters()], lr=0.02)
    for _ in range(steps):
        x, y = adding_problem(32, length, generator)
        loss = ((head(layer(x)[0][:, -1])[:, 0] - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    weights = {"W_ih": layer.weight_ih_l0, "W_hh": layer.weight_hh_l0, "b_ih": layer.bias_ih_l0,
               "b_hh": layer.bias_hh_l0, "W_hy": head.weight, "b_y": head.bias}
    return {k: v.detach() for k, v in weights.items()}
"""
GRU_BACKWARD_NO_CARRY = """
def gru_step_backward(x_t, h, W_ih, W_hh, b_ih, b_hh, d_h_next):
    x_r, x_z, x_n = (x_t @ W_ih.T + b_ih).chunk(3, dim=-1)
    h_r, h_z, h_n = (h @ W_hh.T + b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    d_n = d_h_next * (1 - z) * (1 - n ** 2)
    d_z = d_h_next * (h - n) * z * (1 - z)
    d_r = d_n * h_n * r * (1 - r)
    d_input = torch.cat([d_r, d_z, d_n], dim=-1)
    d_hidden = torch.cat([d_r, d_z, d_n * r], dim=-1)
    return {"x_t": d_input @ W_ih, "h": d_hidden @ W_hh,          # forgets z ⊙ h's road
            "W_ih": d_input.T @ x_t, "W_hh": d_hidden.T @ h,
            "b_ih": d_input.sum(0), "b_hh": d_hidden.sum(0)}
"""
AUTOGRAD_GRU_BACKWARD = """
def gru_step_backward(x_t, h, W_ih, W_hh, b_ih, b_hh, d_h_next):
    inputs = [t.detach().requires_grad_() for t in (x_t, h, W_ih, W_hh, b_ih, b_hh)]
    with torch.enable_grad():
        grads = torch.autograd.grad((d_h_next * torch_gru_step(*inputs)).sum(), inputs)
    return dict(zip(["x_t", "h", "W_ih", "W_hh", "b_ih", "b_hh"], grads))
"""
POOLS_THE_PADDING = """
def masked_pool(states, lengths):
    return states.mean(1), states.amax(1)                   # the padding counts too
"""
AUTOGRAD_POOL_BACKWARD = """
def masked_pool_backward(states, lengths, d_mean, d_max):
    leaf = states.detach().clone().requires_grad_()
    with torch.enable_grad():
        mean, largest = masked_pool(leaf, lengths)
        (d_mean * mean + d_max * largest).sum().backward()
    return leaf.grad
"""
HIGHWAY_NO_CARRY = """
def highway_backward(x, W_H, b_H, W_T, b_T, d_y):
    a_H, a_T = x @ W_H.T + b_H, x @ W_T.T + b_T
    g = torch.sigmoid(a_T)
    d_a_H = d_y * g * (a_H > 0).to(x.dtype)
    d_a_T = d_y * (torch.relu(a_H) - x) * g * (1 - g)
    return {"x": d_a_H @ W_H + d_a_T @ W_T,                   # forgets the carry (1 - g)
            "W_H": d_a_H.T @ x, "b_H": d_a_H.sum(0), "W_T": d_a_T.T @ x, "b_T": d_a_T.sum(0)}
"""
AUTOGRAD_HIGHWAY = """
def highway_backward(x, W_H, b_H, W_T, b_T, d_y):
    inputs = [t.detach().requires_grad_() for t in (x, W_H, b_H, W_T, b_T)]
    with torch.enable_grad():
        x_, W_H_, b_H_, W_T_, b_T_ = inputs
        g = torch.sigmoid(x_ @ W_T_.T + b_T_)
        y = g * torch.relu(x_ @ W_H_.T + b_H_) + (1 - g) * x_
        grads = torch.autograd.grad((d_y * y).sum(), inputs)
    return dict(zip(["x", "W_H", "b_H", "W_T", "b_T"], grads))
"""
SAMPLED_UNCORRECTED = """
def sampled_softmax_loss(h, targets, weight, bias, negatives, log_q):
    true = (h * weight[targets]).sum(-1) + bias[targets]
    sampled = h @ weight[negatives].T + bias[negatives]      # no log(K Q) correction
    sampled = sampled.masked_fill(negatives[None, :] == targets[:, None], -math.inf)
    return (torch.logsumexp(torch.cat([true[:, None], sampled], 1), 1) - true).mean()
"""
COURSE_CROSS_ENTROPY = """
from seqlm.elmo import cross_entropy_of_logits
def sampled_softmax_loss(h, targets, weight, bias, negatives, log_q):
    true = (h * weight[targets]).sum(-1) + bias[targets]
    sampled = h @ weight[negatives].T + bias[negatives] - (math.log(len(negatives))
                                                           + log_q[negatives])
    sampled = sampled.masked_fill(negatives[None, :] == targets[:, None], -math.inf)
    scores = torch.cat([true[:, None], sampled], dim=1)
    return cross_entropy_of_logits(scores, torch.zeros_like(targets))
"""
COURSE_SAMPLED_SOFTMAX = """
def train_sampled_bigram(vocab_size, steps, seed):
    from seqlm.elmo import SampledSoftmax                     # the course's own layer
    generator = torch.Generator().manual_seed(seed)
    ids, unigram = shakespeare_words("train", vocab_size), word_unigram(vocab_size)
    output = SampledSoftmax(unigram * 1e6, 32, 64)
    embedding = (torch.randn(vocab_size, 32, generator=generator) * 0.1).requires_grad_()
    optimizer = torch.optim.Adam([embedding, *output.parameters()], lr=0.01)
    for _ in range(steps):
        i = torch.randint(0, len(ids) - 1, (256,), generator=generator)
        loss = output.loss(embedding[ids[i]], ids[i + 1])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"embedding": embedding.detach(), "weight": output.weight.detach(),
            "bias": output.bias.detach()}
"""

ATTENDS_TO_PADDING = """
def additive_attention(d, h, lengths, W_q, W_k, b_k, v):
    hidden = torch.tanh((d @ W_q.T)[:, None, :] + h @ W_k.T + b_k)
    alpha = torch.softmax(hidden @ v, dim=-1)                   # the padding is read too
    return (alpha[:, :, None] * h).sum(1), alpha
"""
ATTENTION_BACKWARD_ONE_ROAD = """
def additive_attention_backward(d, h, lengths, W_q, W_k, b_k, v, d_h_bar):
    real = torch.arange(h.shape[1])[None, :] < lengths[:, None]
    hidden = torch.tanh((d @ W_q.T)[:, None, :] + h @ W_k.T + b_k)
    alpha = torch.softmax((hidden @ v).masked_fill(~real, -math.inf), dim=-1)
    d_alpha = (h * d_h_bar[:, None, :]).sum(-1)
    d_score = alpha * (d_alpha - (alpha * d_alpha).sum(-1, keepdim=True))
    d_a = d_score[:, :, None] * v * (1 - hidden ** 2)
    n_k, n_a = h.shape[-1], v.shape[0]
    return {"d": d_a.sum(1) @ W_q, "h": d_a @ W_k,              # forgets the average's road
            "W_q": d_a.sum(1).T @ d, "W_k": d_a.reshape(-1, n_a).T @ h.reshape(-1, n_k),
            "b_k": d_a.sum((0, 1)), "v": (d_score[:, :, None] * hidden).sum((0, 1))}
"""
BEAM_DROPS_ENDED = """
def beam_step(hypotheses, log_probs, beam):
    candidates = []
    for n, hypothesis in enumerate(hypotheses):
        if not hypothesis["ended"]:                             # an ended one is dropped
            candidates += [(hypothesis["score"] + float(log_p), n, y)
                           for y, log_p in enumerate(log_probs[n].tolist())]
    kept = []
    for score, n, y in sorted(candidates, key=lambda c: -c[0])[:beam]:
        outputs = list(hypotheses[n]["outputs"]) + ([] if y == 0 else [y])
        kept.append({"outputs": outputs, "score": score, "ended": y == 0, "parent": n})
    return kept
"""
COURSE_ATTEND = """
from seqlm import attention as course
def additive_attention(d, h, lengths, W_q, W_k, b_k, v):
    score = course.AdditiveScore(W_q.shape[1], W_k.shape[1], v.shape[0]).to(h.dtype)
    with torch.no_grad():
        score.W_q.weight.copy_(W_q)
        score.W_k.weight.copy_(W_k)
        score.W_k.bias.copy_(b_k)
        score.v.weight.copy_(v[None, :])
        mask = torch.arange(h.shape[1])[None, :] < lengths[:, None]
        h_bar, alpha = course.attend(score, d[:, None, :], h, h, mask)
    return h_bar[:, 0], alpha[:, 0]
"""
AUTOGRAD_ATTENTION_BACKWARD = """
def additive_attention_backward(d, h, lengths, W_q, W_k, b_k, v, d_h_bar):
    inputs = [t.detach().clone().requires_grad_() for t in (d, h, W_q, W_k, b_k, v)]
    with torch.enable_grad():
        h_bar, _ = additive_attention(inputs[0], inputs[1], lengths, *inputs[2:])
        grads = torch.autograd.grad((d_h_bar * h_bar).sum(), inputs)
    return dict(zip(["d", "h", "W_q", "W_k", "b_k", "v"], grads))
"""
RECALL_BY_AUTOGRAD = """
def train_recall(steps, seed):
    generator = torch.Generator().manual_seed(seed)
    params = {"W_q": torch.randn(32, 20, generator=generator),
              "W_k": torch.randn(32, 40, generator=generator), "b_k": torch.zeros(32),
              "v": torch.randn(32, generator=generator) / math.sqrt(32),
              "W_hy": torch.randn(20, 40, generator=generator) * 0.1, "b_y": torch.zeros(20)}
    for p in params.values():
        p.requires_grad_()
    optimizer = torch.optim.Adam(params.values(), lr=0.02)
    for _ in range(steps):
        key_ids, value_ids, lengths, query, target = recall_task(64, 10, 20, 20, generator)
        d, h = recall_memory(key_ids, value_ids, query, 20, 20)
        h_bar, _ = additive_attention(d, h, lengths, params["W_q"], params["W_k"],
                                      params["b_k"], params["v"])
        loss = F.cross_entropy(h_bar @ params["W_hy"].T + params["b_y"], target)
        optimizer.zero_grad()
        loss.backward()                                         # not the hand gradient
        optimizer.step()
    return {k: p.detach() for k, p in params.items()}
"""

def reference_answer(name: str, grade_id: str) -> str:
    """The source's solution of one answer cell, as a filled submission would hold it."""
    for cell in json.loads((SOURCE / name / f"{name}.ipynb").read_text())["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
            return SOLUTION.sub(lambda m: m.group(1), "".join(cell["source"]))
    raise KeyError(grade_id)


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
    # Later chapters' assignments: a plausible wrong answer loses exactly its part (and the
    # training part that trains with it, where it does).
    "norms_in_the_wrong_order": ("05_gradients", {"jacobian_norms": NORMS_WRONG_ORDER}, {}, None,
                                 {"test_jacobian_norms": 0, "score": 7}, 7),
    "clips_each_tensor_alone": ("05_gradients", {"train_clipped": CLIPS_EACH_TENSOR}, {}, None,
                                {"test_train_clipped": 0, "score": 5}, 5),
    "lstm_backward_one_road": ("06_lstm", {"lstm_step_backward": LSTM_BACKWARD_ONE_ROAD}, {},
                               None, {"test_lstm_step_backward": 0}, 5),
    "gru_backward_no_carry": ("07_gru", {"gru_step_backward": GRU_BACKWARD_NO_CARRY}, {}, None,
                              {"test_gru_step_backward": 0, "score": 6}, 6),
    "pools_the_padding": ("08_bilstm", {"masked_pool": POOLS_THE_PADDING}, {}, None,
                          {"test_masked_pool": 0, "test_masked_pool_backward": 3}, 8),
    "highway_without_carry": ("09_elmo", {"highway_backward": HIGHWAY_NO_CARRY}, {}, None,
                              {"test_highway_backward": 0, "score": 7}, 7),
    "sampled_softmax_uncorrected": ("09_elmo", {"sampled_softmax_loss": SAMPLED_UNCORRECTED},
                                    {}, None, {"test_sampled_softmax_loss": 0,
                                               "test_train_sampled_bigram": 0, "score": 3}, 3),
    # Assignment 10: attention that reads the padding loses Part A only (the grader measures
    # Part D's weights with the chapter's masked attention); a step that drops ended
    # hypotheses loses the step and the search made with it.
    "attends_to_padding": ("10_seq2seq", {"additive_attention": ATTENDS_TO_PADDING}, {}, None,
                           {"test_additive_attention": 0, "score": 8}, 8),
    "attention_backward_one_road": ("10_seq2seq", {"additive_attention_backward":
                                                   ATTENTION_BACKWARD_ONE_ROAD}, {}, None,
                                    {"test_additive_attention_backward": 0, "score": 7}, 7),
    "beam_drops_ended": ("10_seq2seq", {"beam_step": BEAM_DROPS_ENDED}, {}, None,
                         {"test_beam_step": 0, "test_beam_search": 0, "score": 8}, 8),
    # Without the grader's helper the hidden tests cannot answer: those parts score 0.
    "deletes_grading_helper": ("01_ngrams", {}, {
        "kneser_ney": "import seqlm.exercises\ndel seqlm.exercises.answer\n"}, None,
        {"test_kneser_ney": 0, "test_perplexity": 0, "score": 5}, 5),
}


# One submission per part with bans, correct but for what its part bans: that part scores
# 0, with a message that names the banned call, and so does a part whose answer calls the
# offending function (it would use the banned call too); every other part scores in full.
BANNED = {
    "autograd_step_jacobian": ("05_gradients", {"step_jacobian": AUTOGRAD_STEP_JACOBIAN}, {},
                               None, {"test_step_jacobian": 0, "test_jacobian_norms": 0,
                                      "test_train_clipped": 5}, 5, "torch.autograd"),
    "course_jacobian_norms": ("05_gradients", {"jacobian_norms": COURSE_NORMS}, {}, None,
                              {"test_jacobian_norms": 0, "score": 7}, 7, "seqlm"),
    "torch_clips": ("05_gradients", {"train_clipped": TORCH_CLIPS}, {}, None,
                    {"test_train_clipped": 0, "score": 5}, 5, "torch.nn.utils"),
    "autograd_lstm_backward": ("06_lstm", {"lstm_step_backward": AUTOGRAD_LSTM_BACKWARD}, {},
                               None, {"test_lstm_step_backward": 0, "test_train_adding": 0}, 0,
                               "torch.autograd"),
    "trains_with_nn_lstm": ("06_lstm", {"train_adding": REFERENCE_LSTM_TRAINING},
                            {"train_adding": "Layer = torch.nn.LSTM\n"}, None,
                            {"test_train_adding": 0, "score": 5}, 5, "torch.nn.LSTM"),
    "hides_nn_lstm": ("06_lstm", {"train_adding": REFERENCE_LSTM_TRAINING},
                      {"train_adding": "from torch import nn as _n\nLayer = getattr(_n, 'LSTM')\n"},
                      None,
                      {"test_train_adding": 0, "score": 5}, 5, "torch.nn.LSTM"),
    "autograd_gru_backward": ("07_gru", {"gru_step_backward": AUTOGRAD_GRU_BACKWARD}, {}, None,
                              {"test_gru_step_backward": 0, "score": 6}, 6, "torch.autograd"),
    "course_corpus": ("07_gru", {"train_cho_gru": reference_answer("07_gru", "train_cho_gru")
                                 .replace("_, V = shakespeare_chars()",
                                          "V = len(seqlm.data.load_shakespeare('char').vocab)")},
                      {"train_cho_gru": "import seqlm.data\n"}, None,
                      {"test_train_cho_gru": 0, "score": 6}, 6, "seqlm"),
    "autograd_pool_backward": ("08_bilstm", {"masked_pool_backward": AUTOGRAD_POOL_BACKWARD}, {},
                               None, {"test_masked_pool_backward": 0, "score": 7}, 7, ".backward"),
    "course_seeding": ("08_bilstm", {"train_order_classifier": reference_answer(
        "08_bilstm", "train_order_classifier").replace("torch.manual_seed(seed)",
                                                       "config.seed_everything(seed)")},
        {"train_order_classifier": "from seqlm import config\n"}, None,
        {"test_train_order_classifier": 0, "score": 5}, 5, "seqlm"),
    "autograd_highway": ("09_elmo", {"highway_backward": AUTOGRAD_HIGHWAY}, {}, None,
                         {"test_highway_backward": 0, "score": 7}, 7, "torch.autograd"),
    "course_cross_entropy": ("09_elmo", {"sampled_softmax_loss": COURSE_CROSS_ENTROPY}, {}, None,
                             {"test_sampled_softmax_loss": 0, "test_train_sampled_bigram": 0,
                              "score": 3}, 3, "seqlm"),
    "course_sampled_softmax": ("09_elmo", {"train_sampled_bigram": COURSE_SAMPLED_SOFTMAX}, {},
                               None, {"test_train_sampled_bigram": 0, "score": 6}, 6, "seqlm"),
    "course_attend": ("10_seq2seq", {"additive_attention": COURSE_ATTEND}, {}, None,
                      {"test_additive_attention": 0, "test_train_recall": 0, "score": 5}, 5,
                      "seqlm"),
    "autograd_attention_backward": ("10_seq2seq", {"additive_attention_backward":
                                                   AUTOGRAD_ATTENTION_BACKWARD}, {}, None,
                                    {"test_additive_attention_backward": 0,
                                     "test_train_recall": 0, "score": 4}, 4, "torch.autograd"),
    "course_eos": ("10_seq2seq", {"beam_step": reference_answer("10_seq2seq", "beam_step")
                                  .replace("y == 0", "y == EOS")},
                   {"beam_step": "from seqlm.seq2seq import EOS\n"}, None,
                   {"test_beam_step": 0, "test_beam_search": 0, "score": 8}, 8, "seqlm"),
    "recall_by_autograd": ("10_seq2seq", {"train_recall": RECALL_BY_AUTOGRAD}, {}, None,
                           {"test_train_recall": 0, "score": 7}, 7, ".backward"),
}


@pytest.fixture(scope="module")
def graded(release, tmp_path_factory):
    """Grade every submission, in one run: the blank and the reference of every assignment,
    wrong answers and attacks."""
    if NO_SANDBOX:
        pytest.skip(NO_SANDBOX)
    submissions = tmp_path_factory.mktemp("submitted")
    out = tmp_path_factory.mktemp("grades")
    everyone = {**FAULTY, **attacks(out, submissions), **{k: v[:6] for k, v in BANNED.items()}}
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
    done = course("grade", str(submissions), "--out", str(out), "--timeout", "45",
                  "--memory", "3", "--jobs", "2")
    seconds = time.monotonic() - started
    ok(done)
    csv_bytes = (out / "grades.csv").read_bytes()
    with open(out / "grades.csv") as f:
        rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(f)}
    report = json.loads((out / "report.json").read_text())
    statuses = {(r["student"], r["assignment"], v["grade_id"]): v["status"]
                for r in report for v in r["verdicts"]}
    messages = {(r["student"], r["assignment"], v["grade_id"]): v["message"]
                for r in report for v in r["verdicts"]}
    try:
        yield {"rows": rows, "out": out, "statuses": statuses, "everyone": everyone,
               "messages": messages, "report": report,
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
@pytest.mark.parametrize("student", [*FAULTY, *attacks(Path("/o"), Path("/s")), *BANNED])
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


@needs_sandbox
@pytest.mark.parametrize("student", BANNED)
def test_a_banned_call_costs_its_part_and_the_message_names_it(graded, student):
    assignment, replace, *_, ban = BANNED[student]
    part = f"test_{next(iter(replace))}"
    assert graded["statuses"][(student, assignment, part)] == "failed"
    message = graded["messages"][(student, assignment, part)]
    assert f"does not allow {ban}" in message, message


@needs_sandbox
def test_the_reference_keeps_every_ban_and_training_parts_report_their_time(graded):
    """The reference's answers pass their bans (the report says so by passing), and the
    seconds each notebook took are recorded (the assignments page quotes them)."""
    for r in graded["report"]:
        if r["student"] == "reference":
            assert r["seconds"] > 0
            assert all(v["status"] == "passed" for v in r["verdicts"]), r


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
    public = " ".join(  # what the notebooks give out themselves (the text, the helpers)
        " ".join("".join(c["source"]).split()) for path in SOURCE.glob("*/*.ipynb")
        for c in json.loads(path.read_text())["cells"]
        if not c["metadata"]["nbgrader"].get("solution"))
    solutions = {line for line in source_lines(SOLUTION, 25) if line not in public}
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


def without_seconds(text: str) -> str:
    return re.sub(r'"seconds": [0-9.e+-]+|, [0-9.]+ s\.', "", text)


@needs_sandbox
def test_two_jobs_grade_exactly_as_one(release, tmp_path):
    """The same class and seed give the same grades, reports and feedback pages with
    --jobs 1 and --jobs 2 (only the seconds each notebook took may differ), and a kernel
    that dies costs only its own notebook."""
    everyone = {"reference": ("01_ngrams", {}, {}), "reference_": ("09_elmo", {}, {}),
                "kills_kernel": ("01_ngrams", {}, {"kneser_ney": "import os\nos._exit(1)\n"}),
                "course_cross_entropy": ("09_elmo",
                                         {"sampled_softmax_loss": COURSE_CROSS_ENTROPY}, {})}
    for student, (name, replace, prepend) in everyone.items():
        folder = tmp_path / "class" / student.rstrip("_") / name
        folder.mkdir(parents=True)
        nb = filled(release / name / f"{name}.ipynb", SOURCE / name / f"{name}.ipynb", replace,
                    prepend)
        (folder / f"{name}.ipynb").write_text(json.dumps(nb))
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}"
        ok(course("grade", str(tmp_path / "class"), "--out", str(out), "--seed", "same",
                  "--jobs", jobs, "--timeout", "30"))
        outs.append(out)
    one, two = outs
    assert (one / "grades.csv").read_bytes() == (two / "grades.csv").read_bytes()
    for name in ("report.json", *(f"reports/{p.name}" for p in (one / "reports").iterdir())):
        assert without_seconds((one / name).read_text()) == without_seconds((two / name).read_text())
    pages = sorted(p.relative_to(one) for p in (one / "feedback").rglob("*.html"))
    assert len(pages) == 4 and pages == sorted(p.relative_to(two)
                                               for p in (two / "feedback").rglob("*.html"))
    for page in pages:
        assert (one / page).read_bytes() == (two / page).read_bytes(), page
    with open(two / "grades.csv") as f:
        rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(f)}
    assert rows[("reference", "01_ngrams")]["score"] == "10"
    assert rows[("reference", "09_elmo")]["score"] == "10"
    assert rows[("kills_kernel", "01_ngrams")]["score"] == "5"
    assert rows[("course_cross_entropy", "09_elmo")]["score"] == "3"


@needs_sandbox
def test_grading_refuses_to_run_without_bubblewrap(tmp_path):
    (tmp_path / "student" / "01_ngrams").mkdir(parents=True)
    env = {**os.environ, "PATH": str(tmp_path)}  # no bwrap on this PATH
    done = course("grade", str(tmp_path), "--out", str(tmp_path / "out"), env=env)
    assert done.returncode == 2
    assert "apt-get install bubblewrap" in done.stderr
    assert not (tmp_path / "out").exists()
