"""The grader's own logic, without a kernel: what it reads back, how it compares,
and which notebook it runs (assignments/grading/checks.py and assignment.py)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "assignments"))
from grading import checks  # noqa: E402
from grading.assignment import NO_ANSWER, assemble  # noqa: E402
from grading.checks import (  # noqa: E402
    Case, Error, Part, Raises, Tensor, compare, judge, read_answers)
from seqlm import exercises  # noqa: E402


def round_trip(part: Part, cases, function):
    """What the grader reads back after the kernel's seqlm.exercises.answer(function)."""
    wire = json.loads(checks.encode_cases({part.grade_id: cases}))["parts"][part.grade_id]
    results = []
    for case in wire:
        try:
            results.append({"value": exercises.encode(function(exercises.decode(case)))})
        except Exception as error:  # noqa: BLE001
            results.append({"error": {"types": [t.__name__ for t in type(error).__mro__],
                                      "message": str(error)}})
    raw = json.dumps({"part": part.grade_id, "results": results})
    return judge(part, cases, read_answers(raw, part.grade_id, len(cases)), 2)


def test_tensors_numbers_tuples_dicts_and_raises_travel_and_compare():
    x = torch.randn(3, 4, dtype=torch.float64)
    part = Part("p", None, atol=1e-12)
    cases = [Case({"x": x}, (x.sum(), {"t": x * 2, "n": 1.5}), "f(x)"),
             Case({"x": x[:0]}, Raises(ValueError), "f(empty)")]

    def right(case):
        if case["x"].numel() == 0:
            raise ValueError("empty")
        return float(case["x"].sum()), {"t": case["x"] * 2, "n": 1.5, "extra": None}

    assert round_trip(part, cases, right).status == "passed"
    wrong = round_trip(part, cases, lambda c: (0.0, {"t": c["x"]}))
    assert wrong.status == "failed" and wrong.points == 0
    assert wrong.message.startswith("f(x): [0]: got 0")
    raises = round_trip(part, cases[:1], lambda c: 1 / 0)
    assert raises.status == "errored" and "ZeroDivisionError" in raises.message


def test_a_tensor_must_match_shape_values_and_on_request_dtype():
    want = torch.tensor([[1.0, 2.0]])
    loose, strict = Part("p", None, atol=1e-6), Part("p", None, atol=1e-6, dtype=True)
    assert compare(Tensor("float64", (1, 2), [1.0, 2.0]), want, loose) is None
    assert "dtype float64" in compare(Tensor("float64", (1, 2), [1.0, 2.0]), want, strict)
    assert "shape (2, 1)" in compare(Tensor("float32", (2, 1), [1.0, 2.0]), want, loose)
    assert "at (0, 1)" in compare(Tensor("float32", (1, 2), [1.0, 2.1]), want, loose)
    assert "inf" in compare(Tensor("float32", (1, 2), [1.0, math.inf]), want, loose)
    assert "expected a tensor" in compare([[1.0, 2.0]], want, loose)


def test_numbers_compare_within_tolerance_and_infinity_exactly():
    part = Part("p", None, rtol=1e-9)
    assert compare(4.0 * (1 + 1e-10), 4.0, part) is None
    assert compare(4.01, 4.0, part) == "got 4.01, expected 4"
    assert compare(math.inf, math.inf, part) is None and compare(1e308, math.inf, part)
    assert compare(True, 1.0, part) and compare("4", 4.0, part)
    assert compare(Tensor("float32", (), [4.0]), 4.0, part) is None
    why = compare(Error(["TypeError"], ""), Raises(ValueError), part)
    assert why.startswith("raised TypeError")


@pytest.mark.parametrize("raw", [
    "not json", "[" * 100_000 + "]" * 100_000, json.dumps({"part": "p", "results": [{}]}),
    json.dumps({"part": "p", "results": []}),
    json.dumps({"part": "p", "results": [{"value": {"__tensor__": {
        "dtype": "float32", "shape": [2, 2], "data": [1.0]}}}]}),
    json.dumps({"part": "p", "results": [{"error": {"types": "x", "message": 1}}]}),
])
def test_malformed_answers_are_refused_not_trusted(raw):
    with pytest.raises(checks.Unreadable):
        read_answers(raw, "p", 1)


def test_answers_for_another_part_do_not_count():
    with pytest.raises(checks.OtherPart):
        read_answers(json.dumps({"part": "q", "results": [{"value": 1}]}), "p", 1)


def cell(kind, source, gid=None, **meta):
    nb = {"grade_id": gid, "grade": False, "solution": False, "locked": True, **meta} if gid else {}
    return {"cell_type": kind, "metadata": {"nbgrader": nb} if nb else {}, "source": source,
            **({"outputs": [], "execution_count": None} if kind == "code" else {})}


SOURCE = {"cells": [cell("code", "import x", "setup"),
                    cell("code", "def f():\n    return 1  # the solution", "f", solution=True,
                         locked=False),
                    cell("code", "### BEGIN HIDDEN TESTS\nanswer()\n### END HIDDEN TESTS\ncheck()",
                         "test_f", grade=True, points=1)]}


def test_the_run_takes_only_answers_from_the_submission():
    submitted = {"cells": [
        cell("code", "import evil", "setup"),                       # a helper, edited
        cell("code", "def f():\n    return 2", "f", solution=True),
        cell("code", "helper = 3"),                                  # a cell of the student's
        cell("code", "pass  # the test, emptied", "test_f", grade=True),
        cell("code", "def f():\n    return 4", "f", solution=True),  # a later copy of the answer
        cell("code", "print('fake test')", "test_f", grade=True),   # a copy of the test cell
    ]}
    run = [c["source"] for c in assemble(SOURCE, submitted)]
    assert run == ["import x", "def f():\n    return 2", "helper = 3",
                   SOURCE["cells"][2]["source"], "def f():\n    return 4"]


def test_a_deleted_answer_runs_empty_never_as_the_solution():
    run = [c["source"] for c in assemble(SOURCE, {"cells": [SOURCE["cells"][0]]})]
    assert run == ["import x", NO_ANSWER, SOURCE["cells"][2]["source"]]
    assert [c["source"] for c in assemble(SOURCE, "not a notebook")][1] == NO_ANSWER
