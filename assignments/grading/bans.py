"""What a part's answer must not use, checked in the submitted code once the kernel is gone.

A part of an assignment's ``checks.py`` may ban modules, functions and attribute
chains (``"torch.autograd"``, ``"torch.nn.LSTMCell"``, ``"seqlm"``) or an attribute of
anything (``".backward"``). The grader reads the code the student wrote (answer cells
and added cells), never what the kernel says about it, and finds **the code of the
part's answer**: the functions the hidden test calls; everything they use at module
level (helpers, and the imports and assignments that bind the names they read, in
any cell); and every statement that changes an object the answer uses
(``torch.helper = …``, ``table["cell"] = …``, ``table.update(…)``). In that code each
name and attribute chain is resolved through the notebook's imports and assignments
(``import torch.nn as tnn``, ``from torch.autograd import grad as g``, ``L = nn.LSTM``,
``getattr(nn, "LSTM")``) and compared with the bans by name and by identity: the same
object under another path (``torch.nn.modules.rnn.LSTMCell``) is still banned.

What cannot be read statically is refused rather than trusted. In the answer's code:
``getattr`` with a computed name, ``importlib``, ``pickle``, ``__dict__`` and the like,
and imports of modules that are not installed (a file the notebook wrote). Anywhere
in the student's code: ``eval``, ``exec``, ``compile``, ``__import__``, ``globals()``,
``setattr``, ``get_ipython()`` and IPython magics other than ``%time`` and ``%timeit``
(they can rewrite what any answer sees), so a part with bans fails when its notebook
holds one.

Code the answer does not reach is not read: a cell that compares the student's
function with ``nn.LSTMCell`` out of curiosity costs nothing, unless it changes an
object the answer uses.
"""

from __future__ import annotations

import ast
import re
import symtable
import sys
from dataclasses import dataclass, field
from typing import Callable, Iterable

# Builtins that run strings as code or rewrite namespaces: refused anywhere in a
# student's code (they can change what any answer sees).
EXECUTES = frozenset({"eval", "exec", "compile", "__import__", "globals", "locals", "vars",
                      "setattr", "delattr", "get_ipython", "breakpoint"})
REWRITES = frozenset({"__dict__", "__setattr__", "__delattr__", "__builtins__", "__globals__"})
# Modules that find or run code by name: refused in an answer's code.
BY_NAME = ("importlib", "builtins", "sys.modules", "pickle", "marshal", "runpy", "ctypes",
           "types", "gc", "code", "codeop", "inspect", "operator.attrgetter",
           "operator.methodcaller", "dill", "cloudpickle", "torch.load", "torch.hub",
           "torch.package", "torch.jit.load", "IPython")
INTERNALS = REWRITES | {"__getattribute__", "__getattr__", "__code__", "__closure__",
                        "__subclasses__", "__bases__", "__base__", "__mro__", "__self__",
                        "__func__", "__wrapped__", "__loader__", "__spec__", "__import__",
                        "__reduce__", "__reduce_ex__"}
TIMING_LINE = re.compile(r"^([ \t]*)%time(?:it)?\b((?:[ \t]+-[a-z][ \t]*\d*)*)", re.M)
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp,
          ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass(frozen=True)
class Cell:
    """One code cell of the notebook as the grader ran it."""

    source: str
    student: bool      # the student's code: an answer cell, or a cell they added
    name: str          # how a message names it: "the answer cell lstm_step"


@dataclass(eq=False)
class _Statement:
    node: ast.stmt
    cell: Cell
    binds: set[str] = field(default_factory=set)      # module-level names it binds
    uses: set[str] = field(default_factory=set)       # module-level names it reads
    changes: set[str] = field(default_factory=set)    # names whose objects it changes
    calls_on: set[str] = field(default_factory=set)   # names it calls methods of
    executes: list[str] = field(default_factory=list)


class Bans:
    """One part's bans and their exceptions."""

    def __init__(self, bans: Iterable[str], allow: Iterable[str] = ()):
        bans = list(bans)
        self.paths = [b for b in bans if not b.startswith(".")]
        self.attributes = {b[1:] for b in bans if b.startswith(".")}
        self.allow = list(allow)
        self.objects = [(b, _object(b)) for b in self.paths]

    def __bool__(self) -> bool:
        return bool(self.paths or self.attributes)

    def allowed(self, path: str) -> bool:
        return any(_under(path, a) for a in self.allow)

    def banned(self, path: str) -> str | None:
        """The ban ``path`` falls under, by name or as the same object; None if none."""
        if self.allowed(path):
            return None
        for ban in self.paths:
            if _under(path, ban):
                return ban
        parts = path.split(".")
        for cut in range(len(parts), 1, -1):
            value = _object(".".join(parts[:cut]))
            if value is None or isinstance(value, (bool, int, float, str)):
                continue
            for ban, target in self.objects:
                if value is target:
                    return ban
        return None


def violations(cells: list[Cell], hidden: str, bans: Bans,
               installed: Callable[[str], bool]) -> list[str]:
    """Why a part's answer breaks its bans (at most three messages; empty if it keeps
    them). ``cells`` are the notebook's code cells in the order they ran, ``hidden`` the
    part's hidden test (the names it calls are where the answer starts), and
    ``installed(name)`` says whether a top-level module exists where the kernel runs."""
    names, statements, trees = _Names(), [], []
    for cell in cells:
        code = python_of(cell.source)
        if code is None:
            continue  # it raised SyntaxError in the kernel too: it defined nothing
        tree = ast.parse(code)
        trees.append(tree)
        if cell.student:
            statements += _statements(code, tree, cell)
    while any([names.learn(tree) for tree in trees]):
        pass
    module_level = set().union(*(s.binds for s in statements)) if statements else set()
    for s in statements:
        s.executes = _executes(s.node, shadowed=module_level & EXECUTES)
    try:
        wanted = {n.id for n in ast.walk(ast.parse(hidden)) if isinstance(n, ast.Name)}
    except SyntaxError:
        wanted = set()
    imported = {name for name, paths in names.paths.items() if paths}
    answer = [s for s in statements if s.executes or _star(s.node)]  # they bind any name
    for s in answer:
        wanted |= s.uses
    grown = True
    while grown:
        grown = False
        for s in statements:
            objects = (s.calls_on & module_level) - imported
            if s not in answer and (s.binds | s.changes | objects) & wanted:
                answer.append(s)
                wanted |= s.uses
                grown = True
    found: list[str] = []
    for s in sorted(answer, key=statements.index):
        for why in _check(s, names, bans, installed):
            if why not in found:
                found.append(why)
    return found[:3]


# --------------------------------------------------------------------------- reading code

def python_of(source: str) -> str | None:
    """A cell's code as Python (IPython's syntax transformed; ``%time``/``%timeit`` read as
    the code they time), or None when it is not valid Python (so it ran nothing)."""
    from IPython.core.inputtransformer2 import TransformerManager

    lines = source.splitlines()
    if lines and re.match(r"[ \t]*%%time(?:it)?\b", lines[0]):
        source = "\n".join(lines[1:])
    source = TIMING_LINE.sub(lambda m: m.group(1), source)
    try:
        code = TransformerManager().transform_cell(source)
        tree = ast.parse(code)
    except (SyntaxError, ValueError, TypeError, RecursionError):
        return None
    return code


def _statements(code: str, tree: ast.Module, cell: Cell) -> list[_Statement]:
    uses = _module_names_read(code, tree)
    out = []
    for i, node in enumerate(tree.body):
        _mark_chains(node)
        changes, calls_on = _changed(node)
        out.append(_Statement(node, cell, _binds(node), uses[i], changes, calls_on))
    return out


def _scope(node):
    """The nodes of a statement that run in its own scope: not the bodies of defs, lambdas,
    classes and comprehensions (but their decorators, defaults, bases, first iterable)."""
    todo = [node]
    while todo:
        current = todo.pop()
        yield current
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = current.args
            todo += [*getattr(current, "decorator_list", []), *args.defaults,
                     *[d for d in args.kw_defaults if d is not None]]
        elif isinstance(current, ast.ClassDef):
            todo += [*current.decorator_list, *current.bases,
                     *[k.value for k in current.keywords]]
        elif isinstance(current, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            todo.append(current.generators[0].iter)
        else:
            todo += list(ast.iter_child_nodes(current))


def _binds(node: ast.stmt) -> set[str]:
    """The module-level names a top-level statement binds (a def's ``global`` ones too)."""
    names = set()
    for inner in _scope(node):
        if isinstance(inner, ast.Name) and isinstance(inner.ctx, (ast.Store, ast.Del)):
            names.add(inner.id)
        elif isinstance(inner, (ast.Import, ast.ImportFrom)):
            names.update(a.asname or a.name.split(".")[0] for a in inner.names)
        elif isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(inner.name)
        elif isinstance(inner, (ast.ExceptHandler, ast.MatchAs)) and inner.name:
            names.add(inner.name)
    for inner in ast.walk(node):
        if isinstance(inner, ast.Global):
            names.update(inner.names)
    return names - {"*"}


def _module_names_read(code: str, tree: ast.Module) -> dict[int, set[str]]:
    """For each top-level statement (by index), the module-level names it reads, at any
    depth (a function's globals, as Python's own symbol table sees them)."""
    spans = [(min([s.lineno, *(d.lineno for d in getattr(s, "decorator_list", []))]),
              s.end_lineno or s.lineno) for s in tree.body]
    uses: dict[int, set[str]] = {i: set() for i in range(len(tree.body))}

    def collect(table, i):
        for symbol in table.get_symbols():
            if symbol.is_referenced() and symbol.is_global():
                uses[i].add(symbol.get_name())
        for child in table.get_children():
            collect(child, i)

    for child in symtable.symtable(code, "<cell>", "exec").get_children():
        for i, (first, last) in enumerate(spans):
            if first <= child.get_lineno() <= last:
                collect(child, i)
                break
    for i, statement in enumerate(tree.body):
        uses[i].update(n.id for n in _scope(statement)
                       if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))
    return uses


def _root(node) -> str | None:
    while True:
        base, _ = _chain(node)
        if isinstance(base, (ast.Subscript, ast.Call)) and not _constant_getattr(base):
            node = base.value if isinstance(base, ast.Subscript) else base.func
            continue
        return base.id if isinstance(base, ast.Name) else None


def _changed(node: ast.stmt) -> tuple[set[str], set[str]]:
    """The root names of objects a statement changes (attribute and item assignments and
    deletions, ``setattr``), and of objects whose methods it calls."""
    changes, calls_on = set(), set()
    for inner in ast.walk(node):
        if isinstance(inner, (ast.Attribute, ast.Subscript)) and \
                isinstance(inner.ctx, (ast.Store, ast.Del)):
            changes.add(_root(inner.value))
        elif isinstance(inner, ast.Call):
            if isinstance(inner.func, ast.Name) and inner.func.id in ("setattr", "delattr") \
                    and inner.args:
                changes.add(_root(inner.args[0]))
            elif isinstance(inner.func, ast.Attribute):
                calls_on.add(_root(inner.func.value))
    return changes - {None}, calls_on - {None}


def _star(node: ast.stmt) -> bool:
    return any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names)
               for n in ast.walk(node))


def _executes(node: ast.stmt, shadowed: set[str]) -> list[str]:
    found = []
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name) and inner.id in EXECUTES - shadowed:
            found.append(f"{inner.id}()")
        elif isinstance(inner, ast.Attribute) and inner.attr in REWRITES:
            found.append(f".{inner.attr}")
    return found


def _chain(node) -> tuple[ast.AST, list[str]]:
    """``a.b.c`` -> (the Name a, ["b", "c"]); ``getattr(a, "b")`` counts as ``a.b``."""
    attrs = []
    while True:
        if isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = node.value
        elif _constant_getattr(node):
            attrs.append(node.args[1].value)
            node = node.args[0]
        else:
            return node, attrs[::-1]


def _constant_getattr(node) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "getattr" and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str))


def _mark_chains(tree: ast.AST) -> None:
    """Mark the inner links of attribute chains, so that each chain is checked once, whole."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            node.value.inner_link = True
        elif _constant_getattr(node):
            node.args[0].inner_link = True
            node.func.inner_link = True


# --------------------------------------------------------------------------- names

class _Names:
    """Where each name of the notebook may come from, as dotted paths (flow-insensitive:
    every import and plain assignment of the name, in any cell or function)."""

    def __init__(self):
        self.paths: dict[str, set[str]] = {}

    def add(self, name: str, path: str) -> bool:
        known = self.paths.setdefault(name, set())
        if path in known or len(known) >= 50:
            return False
        known.add(path)
        return True

    def resolve(self, node) -> tuple[set[str], list[str], str | None]:
        """The dotted paths an expression may be, its attribute names, and its root name."""
        base, attrs = _chain(node)
        if not isinstance(base, ast.Name):
            return set(), attrs, None
        return {".".join([p, *attrs]) for p in self.paths.get(base.id, ())}, attrs, base.id

    def learn(self, tree: ast.AST) -> bool:
        changed = False
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    top = alias.name.split(".")[0]
                    changed |= self.add(alias.asname or top, alias.name if alias.asname else top)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if alias.name != "*":
                        changed |= self.add(alias.asname or alias.name,
                                            f"{node.module}.{alias.name}")
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and node.value:
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    changed |= self._assign(target, node.value)
        return changed

    def _assign(self, target, value) -> bool:
        if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)):
            return any([self._assign(t, v) for t, v in zip(target.elts, value.elts)])
        if isinstance(target, ast.Name):
            return any([self.add(target.id, p) for p in self.resolve(value)[0]])
        return False


# --------------------------------------------------------------------------- judging

def _object(path: str):
    """The object at a dotted path among the modules this process has already imported
    (nothing is imported to find it), or None."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        value = sys.modules.get(".".join(parts[:cut]))
        if value is None:
            continue
        for attr in parts[cut:]:
            try:
                value = getattr(value, attr)
            except Exception:  # noqa: BLE001 - whatever the attribute does, it is not there
                return None
        return value
    return None


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ".")


def _check(statement: _Statement, names: _Names, bans: Bans, installed) -> list[str]:
    def at(node) -> str:
        return f"{statement.cell.name}, line {getattr(node, 'lineno', statement.node.lineno)}"

    out = [f"{what} ({at(statement.node)}) can change what any answer sees, and the grader "
           "cannot read what it runs; a part with bans needs plain code"
           for what in statement.executes]
    for node in ast.walk(statement.node):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out += _imports(node, bans, installed, at(node))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "getattr" and not _constant_getattr(node):
            out.append(f"getattr with a computed name ({at(node)}) cannot be checked; "
                       "write the attribute out")
        elif (isinstance(node, ast.Attribute) or _constant_getattr(node)
              or isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)) \
                and not getattr(node, "inner_link", False):
            paths, attrs, _ = names.resolve(node)
            text = ast.unparse(node)[:80]
            for attr in attrs:
                if attr in bans.attributes:
                    out.append(f"`{text}` at {at(node)}: this part does not allow .{attr}")
                elif attr in INTERNALS:
                    out.append(f"`{text}` ({at(node)}) reaches into an object's internals "
                               f"(.{attr}), which the grader cannot check")
            for path in sorted(paths):
                out += _judge(path, text, bans, at(node))
    return out


def _imports(node, bans: Bans, installed, where: str) -> list[str]:
    if isinstance(node, ast.ImportFrom) and (node.level or not node.module):
        return [f"a relative import ({where}) cannot be checked"]
    out = []
    for alias in node.names:
        path = f"{node.module}.{alias.name}" if isinstance(node, ast.ImportFrom) else alias.name
        top = path.split(".")[0]
        if alias.name == "*":
            out.append(f"`from {node.module} import *` ({where}) hides what is used; "
                       "import names one by one")
            path = node.module
        if top not in sys.builtin_module_names and not installed(top):
            out.append(f"imports {top} ({where}), a module that is not installed where the "
                       "grader runs")
        elif not any(a.startswith(path + ".") for a in bans.allow):  # a module handing out
            out += _judge(path, path, bans, where)                  # what is allowed: fine
    return out


def _judge(path: str, text: str, bans: Bans, where: str) -> list[str]:
    if any(_under(path, p) for p in BY_NAME):
        return [f"`{text}` ({where}) is {path}, which finds or runs code by name; the "
                "grader cannot check what it reaches"]
    ban = bans.banned(path)
    if ban is None:
        return []
    same = "" if _under(path, ban) else f", the same object as {ban}"
    shown = f"`{text}`" + (f" ({path}{same})" if text != path else "")
    return [f"{shown} at {where}: this part does not allow {ban}"]
