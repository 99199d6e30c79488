"""The grader's reading of banned calls (assignments/grading/bans.py), without a kernel:
every way of naming a banned function is found, in the answer's code only."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch  # noqa: F401 - the bans compare objects among imported modules

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "assignments"))
from grading.bans import Bans, Cell, python_of, violations  # noqa: E402

SETUP = "import torch\nfrom torch import nn\nimport torch.nn.functional as F\n"
HIDDEN = '_grader.answer("test_step", lambda c: step(c["x"], c["h"]))'
BANS = Bans(["torch.nn.LSTMCell", "torch.autograd", ".backward", "seqlm"],
            allow=["seqlm.exercises.adding_problem"])
RIGHT = "def step(x, h):\n    return torch.tanh(x + h)\n"


def installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def check(*student: str, bans=BANS, hidden=HIDDEN) -> list[str]:
    cells = [Cell(SETUP, False, "the setup cell")]
    cells += [Cell(code, True, f"cell {i}") for i, code in enumerate(student)]
    return violations(cells, hidden, bans, installed)


def test_a_plain_answer_keeps_the_bans():
    assert check(RIGHT) == []


@pytest.mark.parametrize("answer", [
    "def step(x, h):\n    return nn.LSTMCell(2, 2)(x, (h, h))[0]\n",
    "def step(x, h):\n    return torch.nn.LSTMCell(2, 2)(x, (h, h))[0]\n",
    "import torch.nn as tnn\ndef step(x, h):\n    return tnn.LSTMCell(2, 2)(x)\n",
    "from torch.nn import LSTMCell as Cell\ndef step(x, h):\n    return Cell(2, 2)(x)\n",
    "def step(x, h):\n    from torch.nn import LSTMCell\n    return LSTMCell(2, 2)(x)\n",
    "Cell = nn.LSTMCell\ndef step(x, h):\n    return Cell(2, 2)(x)\n",
    "A = nn\nB = A.LSTMCell\ndef step(x, h):\n    return B(2, 2)(x)\n",
    "def step(x, h):\n    return getattr(nn, 'LSTMCell')(2, 2)(x)\n",
    "import torch.nn.modules.rnn as r\ndef step(x, h):\n    return r.LSTMCell(2, 2)(x)\n",
    "class Mine(nn.LSTMCell):\n    pass\ndef step(x, h):\n    return Mine(2, 2)(x)\n",
    "def step(x, h, cell=nn.LSTMCell):\n    return cell(2, 2)(x)\n",
])
def test_every_name_of_a_banned_class_is_found(answer):
    found = check(answer)
    assert found and "torch.nn.LSTMCell" in found[0], found


def test_a_helper_in_another_cell_is_part_of_the_answer():
    found = check("def helper(x):\n    return torch.autograd.grad(x.sum(), x)[0]\n",
                  "def step(x, h):\n    return helper(x) + h\n")
    assert found and "torch.autograd" in found[0] and "cell 0, line 2" in found[0]


@pytest.mark.parametrize("answer", [
    "def step(x, h):\n    (x * h).sum().backward()\n    return x.grad\n",
    "def step(x, h):\n    torch.Tensor.backward((x * h).sum())\n    return x.grad\n",
    "from torch.autograd import grad as g\ndef step(x, h):\n    return g(x.sum(), x)\n",
    "from torch import autograd\ndef step(x, h):\n    return autograd.grad(x.sum(), x)\n",
])
def test_autograd_in_any_spelling_is_found(answer):
    assert check(answer)


def test_the_course_package_is_banned_but_what_the_notebook_hands_out_is_not():
    assert check("from seqlm import lstm\ndef step(x, h):\n    return lstm.lstm_cell(x, h)\n")
    assert check("import seqlm.exercises as ex\ndef step(x, h):\n"
                 "    return ex.torch_layer('lstm', x)\n")
    assert check("from seqlm.exercises import adding_problem\ndef step(x, h):\n"
                 "    return adding_problem(2, 3, None)\n") == []
    assert check("import seqlm.exercises as ex\ndef step(x, h):\n"
                 "    return ex.adding_problem(2, 3, None)\n") == []


@pytest.mark.parametrize("answer, said", [
    ("import importlib\ndef step(x, h):\n    return importlib.import_module('seqlm.lstm')\n",
     "by name"),
    ("def step(x, h):\n    return getattr(nn, 'LSTM' + 'Cell')(2, 2)(x)\n", "computed name"),
    ("def step(x, h):\n    return eval('nn.LSTMCell')(2, 2)(x)\n", "eval()"),
    ("def step(x, h):\n    return __import__('seqlm.lstm').lstm.lstm_cell(x, h)\n",
     "__import__()"),
    ("def step(x, h):\n    return globals()['nn'].LSTMCell(2, 2)(x)\n", "globals()"),
    ("def step(x, h):\n    return vars(nn)['LSTMCell'](2, 2)(x)\n", "vars()"),
    ("def step(x, h):\n    return nn.__dict__['LSTMCell'](2, 2)(x)\n", ".__dict__"),
    ("import mymodule\ndef step(x, h):\n    return mymodule.cell(x, h)\n", "not installed"),
    ("from torch.nn import *\ndef step(x, h):\n    return LSTMCell(2, 2)(x)\n", "import *"),
])
def test_what_cannot_be_read_is_refused(answer, said):
    found = check(answer)
    assert found and any(said in f for f in found), found


@pytest.mark.parametrize("stash", [
    "torch.helper = nn.LSTMCell\n",
    "setattr(torch, 'helper', nn.LSTMCell)\n",
    "def prepare():\n    torch.helper = nn.LSTMCell\nprepare()\n",
    "exec('torch.helper = nn.LSTMCell')\n",
    "get_ipython().run_cell('torch.helper = nn.LSTMCell')\n",
    "!echo nothing\n",
])
def test_an_object_the_answer_uses_cannot_be_changed_elsewhere(stash):
    answer = "def step(x, h):\n    return torch.helper(2, 2)(x)\n"
    assert check(stash, answer), stash


def test_a_table_filled_elsewhere_is_part_of_the_answer():
    found = check("table = {}\n", "table.update(cell=nn.LSTMCell)\n",
                  "def step(x, h):\n    return table['cell'](2, 2)(x)\n")
    assert found and "cell 1" in found[0]
    assert check("table = {}\n", "table['cell'] = nn.LSTMCell\n",
                 "def step(x, h):\n    return table['cell'](2, 2)(x)\n")


def test_code_the_answer_does_not_reach_is_not_read():
    curious = ("mine = step(torch.zeros(1, 2), torch.zeros(1, 2))\n"
               "theirs = nn.LSTMCell(2, 2)(torch.zeros(1, 2))\n"
               "loss = theirs[0].sum()\nloss.backward()\n")
    assert check(RIGHT, curious) == []
    other = "def train(x):\n    return torch.autograd.grad(x.sum(), x)\n"  # another part's
    assert check(RIGHT, other) == []
    assert check(RIGHT, "%timeit step(torch.zeros(2), torch.zeros(2))\n") == []
    assert check(RIGHT, "%%time\ny = step(torch.zeros(2), torch.zeros(2))\n") == []


def test_a_cell_that_does_not_parse_defines_nothing_and_the_last_definition_counts():
    assert check(RIGHT, "def step(x, h) return nn.LSTMCell\n") == []
    # Both definitions of step are read: either could be the one that ran last.
    assert check(RIGHT, "def step(x, h):\n    return nn.LSTMCell(2, 2)(x)\n")


def test_the_course_cells_are_never_blamed():
    cells = [Cell(SETUP + "reference = nn.LSTMCell(2, 2)\n", False, "setup"),
             Cell(RIGHT, True, "answer")]
    assert violations(cells, HIDDEN, BANS, installed) == []


def test_magics_are_read_as_python():
    assert python_of("%timeit -n 3 f(x)\n") is not None
    assert "get_ipython" in python_of("!ls\n")
    assert python_of("def broken(:\n") is None
