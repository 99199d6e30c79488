"""A Jupyter kernel in a sandbox, and cells run in it under a clock.

The grader talks to the kernel over Jupyter's ``ipc`` transport (Unix sockets in
the sandbox's one shared folder). It runs one cell at a time and collects what
the cell sends back, bounded in memory: text is cut at :data:`TEXT_LIMIT`, a
cell keeps at most :data:`CELL_LIMIT` of outputs, a message larger than
:data:`MESSAGE_LIMIT` is refused by the socket. A cell that outlives its time is
interrupted; a kernel that ignores the interrupt is killed. Answer bundles
(:data:`ANSWERS`) are kept apart from the outputs, with their own limit.

Everything the kernel sends is untrusted: it knows the session key, so it can
sign any message. Nothing here believes a message beyond "this is what the
kernel sent for this cell".
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import sandbox

ANSWERS = "application/vnd.seqlm.answers+json"  # seqlm.exercises.ANSWERS_MIME
TEXT_LIMIT = 64 << 10       # characters kept of one text output
CELL_LIMIT = 1 << 20        # characters kept of one cell's outputs
ANSWERS_LIMIT = 16 << 20    # characters of one answer bundle
MESSAGE_LIMIT = 128 << 20   # bytes of one message from the kernel: larger ones are refused
STARTUP = 60                # seconds a kernel may take to answer its first request
GRACE = 5                   # seconds an interrupted cell has to stop before the kernel is killed


@dataclass
class CellRun:
    """What running one cell did. ``status``: ok, error, timed out, killed, not run."""

    status: str
    outputs: list = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    seconds: float = 0.0
    note: str = ""


class _Outputs:
    """A cell's outputs as nbformat dicts, bounded however much the kernel sends."""

    def __init__(self):
        self.outputs: list[dict] = []
        self.answers: list[str] = []
        self.kept = 0
        self.dropped = 0
        self.clear_pending = False

    def _cut(self, text: str) -> str:
        if len(text) <= TEXT_LIMIT:
            return text
        self.dropped += len(text) - TEXT_LIMIT
        return text[:TEXT_LIMIT]

    def _room(self, size: int) -> bool:
        if self.kept + size > CELL_LIMIT:
            self.dropped += size
            return False
        self.kept += size
        return True

    def add(self, msg_type: str, content: dict) -> None:
        if msg_type == "clear_output":
            if content.get("wait"):
                self.clear_pending = True
            else:
                self.outputs, self.kept = [], 0
            return
        if msg_type not in ("stream", "display_data", "execute_result", "error"):
            return
        if self.clear_pending:
            self.outputs, self.kept, self.clear_pending = [], 0, False
        if msg_type == "stream":
            name = "stderr" if content.get("name") == "stderr" else "stdout"
            text = self._cut(_text(content.get("text")))
            last = self.outputs[-1] if self.outputs else None
            if last and last["output_type"] == "stream" and last["name"] == name:
                room = max(0, TEXT_LIMIT - len(last["text"]))
                self.dropped += max(0, len(text) - room)
                text = text[:room]
                if text and self._room(len(text)):
                    last["text"] += text
                return
            if self._room(len(text)):
                self.outputs.append({"output_type": "stream", "name": name, "text": text})
            return
        if msg_type == "error":
            trace = content.get("traceback")
            trace = trace[:100] if isinstance(trace, list) else []
            output = {"output_type": "error", "ename": _text(content.get("ename"))[:200],
                      "evalue": self._cut(_text(content.get("evalue"))),
                      "traceback": [self._cut(line) for line in trace if isinstance(line, str)]}
            size = len(output["evalue"]) + sum(map(len, output["traceback"]))
            if self._room(size):
                self.outputs.append(output)
            return
        data = content.get("data")
        if not isinstance(data, dict):
            return
        if ANSWERS in data:
            raw = data[ANSWERS]
            raw = raw if isinstance(raw, str) else json.dumps(raw)
            if len(raw) <= ANSWERS_LIMIT and len(self.answers) < 8:
                self.answers.append(raw)
            else:
                self.dropped += len(raw)
            return
        kept = {}
        for mime, value in data.items():
            if not isinstance(mime, str) or len(mime) > 100:
                continue
            value = value if isinstance(value, str) else json.dumps(value)
            kept[mime] = self._cut(value)
        size = sum(map(len, kept.values()))
        if kept and self._room(size):
            output = {"output_type": msg_type, "data": kept, "metadata": {}}
            if msg_type == "execute_result":
                output["execution_count"] = None
            self.outputs.append(output)

    def note(self) -> str:
        return f"{self.dropped:,} characters of output were not kept" if self.dropped else ""


def _text(value) -> str:
    if isinstance(value, list):
        value = "".join(v for v in value if isinstance(v, str))
    return value if isinstance(value, str) else ""


class SandboxedKernel:
    """An IPython kernel in its own sandbox, for one notebook; a context manager.

    ``files`` maps paths inside the sandbox to host files bound read-only there
    (the notebook, the grader's cases); ``env`` is the kernel's whole environment.
    """

    def __init__(self, run_dir: Path, *, files: dict[str, Path], env: dict[str, str],
                 read_only: list[Path], limits: sandbox.Limits, hide: list[Path] = (),
                 uid: int = sandbox.NOBODY):
        self.run_dir = run_dir
        self.channel = run_dir / "channel"
        sandbox.prepare_channel(self.channel, uid)
        connection = self.channel / "kernel.json"
        self.info = {"transport": "ipc", "ip": str(self.channel / "kernel"),
                     "key": secrets.token_hex(32), "signature_scheme": "hmac-sha256",
                     "kernel_name": "python3",
                     **{f"{name}_port": port for port, name in
                        enumerate(("shell", "iopub", "stdin", "control", "hb"), start=1)}}
        connection.write_text(json.dumps(self.info))
        if os.geteuid() == 0:
            os.chown(connection, uid, uid)
        connection.chmod(0o600)
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", str(connection),
                "--HistoryManager.enabled=False", "--IPKernelApp.log_level=WARN"]
        command = sandbox.command(argv, read_only=read_only, channel=self.channel, files=files,
                                  env=env, limits=limits, hide=list(hide), uid=uid)
        self.box = sandbox.Sandbox(command, run_dir / "kernel.log")
        self.client = None

    # ------------------------------------------------------------------ life

    def start(self) -> None:
        import zmq
        from jupyter_client import BlockingKernelClient

        self.box.start()
        self.context = zmq.Context()
        self.context.setsockopt(zmq.MAXMSGSIZE, MESSAGE_LIMIT)
        self.context.setsockopt(zmq.LINGER, 0)
        self.client = BlockingKernelClient(context=self.context)
        self.client.load_connection_info(self.info)
        self.client.start_channels(hb=False, stdin=False)
        deadline = time.monotonic() + STARTUP
        while True:
            self.client.kernel_info()
            try:
                reply = self.client.get_shell_msg(timeout=0.5)
                if reply.get("msg_type") == "kernel_info_reply":
                    break
            except queue.Empty:
                pass
            if not self.box.alive():
                how = sandbox.describe_exit(self.box.exit_code())
                raise KernelDied(f"the kernel did not start ({how})\n{self.box.log_tail()}")
            if time.monotonic() > deadline:
                raise KernelDied(f"the kernel did not answer within {STARTUP} s\n"
                                 f"{self.box.log_tail()}")
        while True:  # what the kernel said while starting is nobody's output
            try:
                self.client.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                break
        sandbox.seal_channel(self.channel)

    def stop(self) -> None:
        """Kill the sandbox (so every process in it) and close the sockets."""
        self.box.kill()
        if self.client is not None:
            self.client.stop_channels()
            self.context.destroy(linger=0)
            self.client = None

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def alive(self) -> bool:
        return self.box.alive()

    def death(self) -> str:
        return f"the kernel died ({sandbox.describe_exit(self.box.exit_code())})"

    # ------------------------------------------------------------------ cells

    def run(self, code: str, timeout: float) -> CellRun:
        """Run one cell; never waits much longer than ``timeout`` seconds (plus the grace)."""
        start = time.monotonic()
        if not self.alive():
            return CellRun("killed", note=self.death())
        msg_id = self.client.execute(code, store_history=True, allow_stdin=False,
                                     stop_on_error=False)
        outputs = _Outputs()
        status = self._wait(msg_id, outputs, start + timeout)
        note = ""
        if status == "timeout":
            self._interrupt()
            status = self._wait(msg_id, outputs, time.monotonic() + GRACE)
            if status == "idle":
                status, note = "timed out", f"stopped after {timeout:g} s (interrupted)"
            else:
                self.box.kill()
                status = "timed out"
                note = (f"stopped after {timeout:g} s; the kernel did not answer the interrupt "
                        f"within {GRACE} s and was killed")
        elif status == "dead":
            status, note = "killed", self.death()
        else:
            status = "error" if any(o["output_type"] == "error" for o in outputs.outputs) else "ok"
        note = "; ".join(n for n in (note, outputs.note()) if n)
        return CellRun(status, outputs.outputs, outputs.answers, time.monotonic() - start, note)

    def _wait(self, msg_id: str, outputs: _Outputs, deadline: float) -> str:
        """Collect this cell's outputs until the kernel is idle: idle, timeout or dead."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            try:
                msg = self.client.get_iopub_msg(timeout=min(left, 0.25))
            except queue.Empty:
                if not self.alive():
                    return "dead"
                continue
            except Exception:  # a message that does not parse or verify: not this cell's
                continue
            if not isinstance(msg, dict) or msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            msg_type, content = msg.get("msg_type"), msg.get("content")
            if not isinstance(content, dict):
                continue
            if msg_type == "status" and content.get("execution_state") == "idle":
                return "idle"
            outputs.add(msg_type, content)

    def _interrupt(self) -> None:
        """Ask the kernel to interrupt itself (SIGINT from inside: its signals are its own)."""
        try:
            self.client.control_channel.send(self.client.session.msg("interrupt_request", {}))
        except Exception:
            pass


class KernelDied(RuntimeError):
    """The kernel did not start, or died while starting."""
