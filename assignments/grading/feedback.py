"""The page a student gets back: their notebook as graded, with nothing hidden in it.

Built by the grader from the executed notebook, never from what the kernel
claims: the hidden tests are cut from the test cells' code; a test cell's
outputs are replaced by the grader's verdict for that part; every other output
is cut to :data:`OUTPUT_CHARS` characters, withheld if it quotes a line of a
hidden test, and kept only as text or a PNG/JPEG image (no HTML or script from a
kernel reaches the page, and a student's Markdown is shown as text); a page's
outputs stop at :data:`PAGE_CHARS`.
"""

from __future__ import annotations

import base64
import html
import re

import nbformat

from .assignment import nbgrader_meta, without_hidden_tests
from .checks import Verdict

OUTPUT_CHARS = 2_000         # characters shown of one output
SOURCE_CHARS = 20_000        # characters shown of one cell's code
IMAGE_CHARS = 200_000        # base64 characters of one image
PAGE_CHARS = 300_000         # characters of all outputs on one page
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
SYMBOL = {"passed": "✔", "failed": "✘", "errored": "✘", "timed out": "⏱", "killed": "☠"}


def quotes_hidden(text: str, hidden: set[str]) -> bool:
    """Whether ``text`` holds a line of a hidden test (colours and spacing ignored)."""
    plain = " ".join(ANSI.sub("", text).split())
    return any(" ".join(line.split()) in plain for line in hidden)


def scrub_message(text: str, hidden: set[str]) -> str:
    if quotes_hidden(text, hidden):
        return "(a message that quotes the hidden tests, withheld)"
    return text if len(text) <= OUTPUT_CHARS else text[:OUTPUT_CHARS] + " […]"


class _Budget:
    def __init__(self):
        self.left = PAGE_CHARS
        self.spent_note = False

    def take(self, n: int) -> bool:
        if n > self.left:
            return False
        self.left -= n
        return True


def _cut(text: str) -> str:
    if len(text) <= OUTPUT_CHARS:
        return text
    return text[:OUTPUT_CHARS] + f"\n[… output cut: {len(text):,} characters in all]\n"


def _note(text: str) -> dict:
    return nbformat.v4.new_output("stream", name="stderr", text=f"[{text}]\n")


def scrub(outputs: list[dict], hidden: set[str], budget: _Budget) -> list[dict]:
    """What a non-graded cell shows of its outputs."""
    shown = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            text = out.get("text", "")
            new = nbformat.v4.new_output("stream", name=out.get("name", "stdout"), text=_cut(text))
            check = text
        elif kind == "error":
            trace = ("\n".join(out.get("traceback", []))
                     or f"{out.get('ename')}: {out.get('evalue')}")
            check = f"{trace}\n{out.get('ename', '')}\n{out.get('evalue', '')}"
            new = nbformat.v4.new_output("error", ename=out.get("ename", "")[:200],
                                         evalue=_cut(out.get("evalue", "")),
                                         traceback=[_cut(trace)])
        elif kind in ("display_data", "execute_result"):
            data = out.get("data", {})
            kept = {}
            if isinstance(data.get("text/plain"), str):
                kept["text/plain"] = _cut(data["text/plain"])
            for mime in ("image/png", "image/jpeg"):
                image = data.get(mime)
                if (isinstance(image, str) and len(image) <= IMAGE_CHARS
                        and BASE64.fullmatch(image) and _decodes(image)):
                    kept[mime] = image
            if not kept:
                shown.append(_note("an output of a kind feedback does not show"))
                continue
            check = data.get("text/plain", "") if isinstance(data.get("text/plain"), str) else ""
            new = nbformat.v4.new_output("display_data", data=kept)
        else:
            continue
        if quotes_hidden(check, hidden):
            shown.append(_note("output withheld: it quotes the hidden tests"))
            continue
        size = len(str(new))
        if not budget.take(size):
            if not budget.spent_note:
                budget.spent_note = True
                shown.append(_note("further outputs are not shown: this page holds enough"))
            continue
        shown.append(new)
    return shown


def _decodes(text: str) -> bool:
    try:
        base64.b64decode(text, validate=False)
        return True
    except ValueError:
        return False


def verdict_output(verdict: Verdict, hidden: set[str]) -> dict:
    """The one output a test cell shows in feedback: the grader's verdict."""
    points = f"{verdict.points:g} / {verdict.max_points:g}"
    message = scrub_message(verdict.message, hidden)
    plain = f"{SYMBOL.get(verdict.status, '')} {verdict.grade_id}: {points}, {verdict.status}"
    plain += f"\n{message}" if message else ""
    colour = "#1a7f37" if verdict.status == "passed" else "#cf222e"
    markup = (f'<p style="color:{colour}"><b>{html.escape(verdict.grade_id)}: {points}, '
              f'{html.escape(verdict.status)}</b></p>'
              + (f"<p>{html.escape(message)}</p>" if message else ""))
    return nbformat.v4.new_output("display_data", data={"text/plain": plain, "text/html": markup})


def notebook(cells: list[dict], runs: list, verdicts: dict[str, Verdict], hidden: set[str],
             title: str, metadata: dict) -> nbformat.NotebookNode:
    """The feedback notebook for one submission."""
    budget = _Budget()
    total = sum(v.points for v in verdicts.values())
    most = sum(v.max_points for v in verdicts.values())
    rows = "\n".join(f"| `{v.grade_id}` | {v.points:g} / {v.max_points:g} | {v.status} |"
                     for v in verdicts.values())
    header = (f"# {html.escape(title)}\n\n**Score: {total:g} / {most:g}**\n\n"
              f"| part | points | status |\n| --- | --- | --- |\n{rows}\n\n"
              "Each test cell below shows the grader's verdict for its part; "
              "hidden tests are not shown.")
    out = [nbformat.v4.new_markdown_cell(header)]
    for cell, run in zip(cells, runs):
        meta = nbgrader_meta(cell)
        source = without_hidden_tests(cell["source"]) if meta.get("grade") else cell["source"]
        if len(source) > SOURCE_CHARS:
            source = source[:SOURCE_CHARS] + f"\n# [… {len(source):,} characters in all]"
        if cell["cell_type"] != "code":
            trusted = cell["cell_type"] == "markdown" and meta.get("locked")
            out.append(nbformat.v4.new_markdown_cell(source if trusted else _as_text(source)))
            continue
        new = nbformat.v4.new_code_cell(source)
        if meta.get("grade") and meta.get("grade_id") in verdicts:
            new.outputs = [verdict_output(verdicts[meta["grade_id"]], hidden)]
        else:
            new.outputs = scrub(run.outputs, hidden, budget) if run else []
            if run and run.status in ("timed out", "killed", "not run"):
                new.outputs.append(_note(f"{run.status}: {scrub_message(run.note, hidden)}"))
        out.append(new)
    for i, cell in enumerate(out):  # ids by position: the same submission, the same page
        cell["id"] = f"cell-{i}"
    return nbformat.v4.new_notebook(cells=out, metadata=metadata)


def _as_text(source: str) -> str:
    """A student's Markdown, shown as text: no HTML or script of theirs reaches the page."""
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", source)), default=0))
    return f"{fence}text\n{source}\n{fence}"


def html_page(nb: nbformat.NotebookNode) -> str:
    """The page: only the course's own Markdown is rendered as such (the grader built
    every output from text and checked images, so nothing else can carry markup)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter()
    body, _ = exporter.from_notebook_node(nb)
    return body
