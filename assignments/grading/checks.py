"""What an assignment's ``checks.py`` is made of, and the grader's comparison.

An assignment's source folder holds, beside its notebook, a ``checks.py`` that
is never released. For every graded cell (by its nbgrader ``grade_id``) it
defines a :class:`Part`: a function that draws the cases of one grading run from
a ``random.Random`` and returns them as :class:`Case` objects, each with the
arguments the student's function gets (``args``, handed to the kernel as JSON:
numbers, strings, lists, dicts, tensors), the reference answer computed here, in
the grader's process (``want``), and how the feedback names the call (``call``)::

    from grading.checks import Case, Raises, part

    @part("test_perplexity", rtol=1e-9)
    def perplexity(rng):
        probabilities = [rng.uniform(0.01, 1) for _ in range(rng.randint(1, 20))]
        return [Case({"p": probabilities}, metrics.perplexity(probabilities), "perplexity(p)"),
                Case({"p": []}, Raises(ValueError), "perplexity([])")]

A case passes when the student's answer is the reference: a number within
``atol + rtol * |want|`` (a number and a 0-dim tensor answer each other); a
tensor of the same shape (and dtype, with ``dtype=True``) whose every element
is within that tolerance; a list or tuple of answers, each passing; a dict with
at least the reference's keys, each passing; for :class:`Raises`, an exception
of that class; for :class:`Outcome`, an answer its test accepts (a part that
trains a model: the grader loads the returned weights and measures them on data
it draws). A part passes when every case passes, and then scores all its points;
otherwise none.

A part may also name what its answer must not use (``bans``): modules, functions
or attribute chains (``"torch.autograd"``, ``"torch.nn.LSTMCell"``, ``"seqlm"``), or
any attribute of a name (``".backward"``); ``allow`` exempts what the notebook
itself hands out (``"seqlm.exercises.adding_problem"``). The grader reads the
submitted code once the kernel is gone (:mod:`grading.bans`) and fails the part,
naming the banned call, whatever its answers were::

    @part("test_lstm_backward", atol=1e-10, bans=("torch.autograd", ".backward", "seqlm"))
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from typing import Any, Callable

STATUSES = ("passed", "failed", "errored", "timed out", "killed")
MAX_DEPTH = 32


@dataclass(frozen=True)
class Raises:
    """The reference answer "raises ``error``" (a subclass counts)."""

    error: type[BaseException]


@dataclass(frozen=True)
class Case:
    args: dict                 # what the hidden test hands the student's function
    want: Any                  # the reference answer, computed by the grader
    call: str                  # how feedback names it: "add_k('lord', 'my', counts, k=0.3)"


@dataclass(frozen=True)
class Outcome:
    """The reference is a test of the answer, not a value: ``test(answer)`` returns None
    when the answer passes, else why it does not. It runs in the grader's process on the
    answer as the kernel returned it, tensors as torch tensors (float64 or int64);
    ``expects`` says in feedback what was asked for."""

    test: Callable[[Any], str | None]
    expects: str


@dataclass
class Part:
    grade_id: str
    draw: Callable[[random.Random], list[Case]]
    atol: float = 0.0
    rtol: float = 0.0
    dtype: bool = False        # tensors must have the reference's dtype
    bans: tuple[str, ...] = ()     # what the answer's code must not use (grading.bans)
    allow: tuple[str, ...] = ()    # exceptions to the bans (what the notebook hands out)

    def cases(self, seed: str) -> list[Case]:
        """This part's cases for one run: the same seed draws the same cases."""
        cases = list(self.draw(random.Random(f"{seed}:{self.grade_id}")))
        if not cases or not all(isinstance(c, Case) for c in cases):
            raise TypeError(f"{self.grade_id}: the draw must return a non-empty list of Case")
        return cases


def part(grade_id: str, *, atol: float = 0.0, rtol: float = 0.0, dtype: bool = False,
         bans=(), allow=()):
    """Decorate a draw function ``f(rng) -> list[Case]`` into the checks of ``grade_id``."""
    def wrap(draw):
        return Part(grade_id, draw, atol, rtol, dtype, tuple(bans), tuple(allow))
    return wrap


def torch_generator(rng: random.Random):
    """A torch generator seeded from a case's ``rng``: the tensors of a grading run's cases."""
    import torch

    return torch.Generator().manual_seed(rng.getrandbits(62))


def randomize(module, generator, std: float = 1.0):
    """Give every parameter of a torch module values drawn from ``generator`` (N(0, std²))."""
    import torch

    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * std)
    return module


def weights_problem(weights: dict, sizes: dict) -> str | None:
    """What is wrong with a trained part's weights, for the student: a missing name, a shape
    other than ``sizes[name]``, or a value that is not finite; None when all are right."""
    for name, size in sizes.items():
        if name not in weights:
            return f"the weights have no {name}"
        if tuple(weights[name].shape) != tuple(size):
            return f"{name} has shape {tuple(weights[name].shape)}, not {tuple(size)}"
        if not weights[name].isfinite().all():
            return f"the trained {name} is not finite"
    return None


def shape(tensor) -> str:
    """A tensor as feedback names it: ``(5, 3)``."""
    return "(" + ", ".join(str(n) for n in tensor.shape) + ("," if tensor.dim() == 1 else "") + ")"


# --------------------------------------------------------------------------- the wire

def encode_cases(cases: dict[str, list[Case]]) -> str:
    """The cases file the kernel reads: arguments only, never the reference."""
    return json.dumps({"format": 1, "parts": {gid: [_encode(c.args) for c in cs]
                                              for gid, cs in cases.items()}})


def _encode(value):
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if type(value).__module__.split(".")[0] == "torch":
        return {"__tensor__": {"dtype": str(value.dtype).replace("torch.", ""),
                               "shape": list(value.shape), "data": value.reshape(-1).tolist()}}
    return value


class Unreadable(ValueError):
    """An answer bundle that is not what :func:`seqlm.exercises.answer` writes."""


class OtherPart(Unreadable):
    """An answer bundle for another part than the one being read (it does not count here)."""


@dataclass
class Tensor:
    """A tensor as the kernel described it, read back without trusting it."""

    dtype: str
    shape: tuple[int, ...]
    data: list


@dataclass
class Error:
    types: list[str]
    message: str


def read_answers(raw: str, part: str, n_cases: int) -> list:
    """The results in an answer bundle: one decoded value or :class:`Error` per case."""
    try:
        bundle = json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise Unreadable(f"the answers are not JSON ({type(error).__name__})") from None
    if not isinstance(bundle, dict) or bundle.get("part") != part:
        raise OtherPart("the answers are not this part's")
    results = bundle.get("results")
    if not isinstance(results, list) or len(results) != n_cases:
        raise Unreadable(f"expected answers for {n_cases} cases")
    out = []
    for result in results:
        if isinstance(result, dict) and set(result) == {"value"}:
            out.append(_decode(result["value"], 0))
        elif (isinstance(result, dict) and set(result) == {"error"}
              and isinstance(result["error"], dict)):
            types, message = result["error"].get("types"), result["error"].get("message")
            if not (isinstance(types, list) and all(isinstance(t, str) for t in types)
                    and isinstance(message, str)):
                raise Unreadable("an error answer is malformed")
            out.append(Error([t[:100] for t in types[:20]], message[:500]))
        else:
            raise Unreadable("an answer is malformed")
    return out


def _decode(value, depth: int):
    if depth > MAX_DEPTH:
        raise Unreadable("the answer is nested too deeply")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_decode(v, depth + 1) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__tensor__"} and isinstance(value["__tensor__"], dict):
            spec = value["__tensor__"]
            dtype, dims, data = spec.get("dtype"), spec.get("shape"), spec.get("data")
            if not (isinstance(dtype, str) and isinstance(dims, list) and isinstance(data, list)
                    and all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n for n in dims)
                    and math.prod(dims) == len(data)
                    and all(isinstance(v, (int, float)) for v in data)):
                raise Unreadable("a tensor in the answer is malformed")
            return Tensor(dtype[:40], tuple(dims), data)
        if set(value) == {"__unsupported__"}:
            return Unsupported(str(value["__unsupported__"])[:100])
        return {str(k): _decode(v, depth + 1) for k, v in value.items()}
    raise Unreadable("an answer is malformed")


@dataclass
class Unsupported:
    type_name: str


# --------------------------------------------------------------------------- comparison

def _number(value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else repr(value)


def _error(error: Error) -> str:
    name = error.types[0] if error.types else "an exception"
    return f"{name}: {error.message}" if error.message else name


def _what(got) -> str:
    if isinstance(got, Tensor):
        return f"a {got.dtype} tensor of shape {got.shape}"
    if isinstance(got, Unsupported):
        return f"a {got.type_name}"
    if isinstance(got, bool) or got is None:
        return repr(got)
    if isinstance(got, (int, float)):
        return _number(got)
    return f"a {type(got).__name__}"


def as_torch(value):
    """An answer read back from the kernel with its tensors as torch tensors (floating
    point as float64, integers as int64, booleans as bool): what an :class:`Outcome`
    tests."""
    import torch

    if isinstance(value, Tensor):
        kind = (torch.bool if value.dtype == "bool" else
                torch.float64 if any(k in value.dtype for k in ("float", "bfloat"))
                else torch.int64)
        return torch.tensor(value.data, dtype=kind).reshape(value.shape)
    if isinstance(value, list):
        return [as_torch(v) for v in value]
    if isinstance(value, dict):
        return {k: as_torch(v) for k, v in value.items()}
    return value


def compare(got, want, part: Part, where: str = "") -> str | None:
    """None if ``got`` (read back from the kernel) passes for ``want``, else why not."""
    at = f"{where}: " if where else ""
    if isinstance(want, Outcome):
        if isinstance(got, Error):
            return f"{at}raised {_error(got)}"
        try:
            why = want.test(as_torch(got))
        except Exception as error:  # noqa: BLE001 - an answer of the wrong kind
            why = f"the answer cannot be used: {type(error).__name__}: {error}"[:500]
        return None if why is None else f"{at}{why}; expected {want.expects}"
    if isinstance(want, Raises):
        if isinstance(got, Error) and want.error.__name__ in got.types:
            return None
        if isinstance(got, Error):
            return f"{at}raised {_error(got)}; expected {want.error.__name__}"
        return f"{at}returned {_what(got)}; expected it to raise {want.error.__name__}"
    if isinstance(got, Error):
        return f"{at}raised {_error(got)}"
    if type(want).__module__.split(".")[0] == "torch":
        return _compare_tensor(got, want, part, at)
    if isinstance(want, (tuple, list)):
        if not isinstance(got, list) or len(got) != len(want):
            return f"{at}returned {_what(got)}; expected {len(want)} values"
        for i, (g, w) in enumerate(zip(got, want)):
            why = compare(g, w, part, f"{where}[{i}]")
            if why:
                return why
        return None
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return f"{at}returned {_what(got)}; expected a dict with keys {', '.join(want)}"
        for key, w in want.items():
            if key not in got:
                return f"{at}the key {key!r} is missing"
            why = compare(got[key], w, part, f"{where}[{key!r}]")
            if why:
                return why
        return None
    if isinstance(want, bool) or want is None or isinstance(want, str):
        return None if got == want and type(got) is type(want) else \
            f"{at}got {_what(got)}, expected {want!r}"
    if isinstance(want, (int, float)):
        if isinstance(got, Tensor) and got.shape == ():  # a 0-dim tensor or array is a number
            got = got.data[0]
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            return f"{at}returned {_what(got)}; expected a number"
        if math.isinf(want) or math.isnan(want) or math.isinf(got) or math.isnan(got):
            ok = got == want
        else:
            ok = abs(got - want) <= part.atol + part.rtol * abs(want)
        return None if ok else f"{at}got {_number(float(got))}, expected {_number(float(want))}"
    raise TypeError(f"{part.grade_id}: the grader cannot compare with a {type(want).__name__}")


def _compare_tensor(got, want, part: Part, at: str) -> str | None:
    import torch

    if want.dim() == 0 and isinstance(got, (int, float)) and not isinstance(got, bool):
        return compare(got, float(want), part, at[:-2])  # a number answers a 0-dim tensor
    if not isinstance(got, Tensor):
        return f"{at}returned {_what(got)}; expected a tensor"
    expected = tuple(want.shape)
    if got.shape != expected:
        return f"{at}shape {got.shape}, expected {expected}"
    want_dtype = str(want.dtype).replace("torch.", "")
    if part.dtype and got.dtype != want_dtype:
        return f"{at}dtype {got.dtype}, expected {want_dtype}"
    values = torch.tensor(got.data, dtype=torch.float64).reshape(expected)
    reference = want.detach().to(torch.float64)
    if reference.numel() == 0:
        return None
    if not torch.equal(values.isfinite(), reference.isfinite()):
        return f"{at}its inf and nan values are not where the reference's are"
    error = (values - reference).abs().nan_to_num(nan=math.inf)
    error = torch.where(values == reference, torch.zeros_like(error), error)
    allowed = part.atol + part.rtol * reference.abs()
    worst = int((error - allowed).argmax())
    if (error <= allowed).all():
        return None
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(worst), expected))
    return (f"{at}values differ by up to {float(error.reshape(-1)[worst]):.3g} "
            f"(tolerance {part.atol + part.rtol * float(reference.reshape(-1)[worst].abs()):.3g}) "
            f"at {index}: got {float(values.reshape(-1)[worst]):.6g}, "
            f"expected {float(reference.reshape(-1)[worst]):.6g}")


@dataclass
class Verdict:
    """One part of one submission: what the grader decided, and why."""

    grade_id: str
    points: float
    max_points: float
    status: str            # one of STATUSES
    message: str = ""
    details: list[str] = field(default_factory=list)
    seconds: float = 0.0   # how long the part's test cell ran in the kernel


def judge(part: Part, cases: list[Case], answers: list, max_points: float) -> Verdict:
    """All or nothing: every case must pass for the part's points."""
    failures = []
    for case, got in zip(cases, answers):
        why = compare(got, case.want, part)
        if why:
            failures.append((case, got, why))
    if not failures:
        return Verdict(part.grade_id, max_points, max_points, "passed",
                       f"all {len(cases)} cases pass")
    case, got, why = failures[0]
    status = "errored" if isinstance(got, Error) and not isinstance(case.want, Raises) else "failed"
    more = f" (and {len(failures) - 1} more of {len(cases)} cases)" if len(failures) > 1 else ""
    return Verdict(part.grade_id, 0, max_points, status, f"{case.call}: {why}{more}",
                   [f"{c.call}: {w}" for c, _, w in failures[:5]])
