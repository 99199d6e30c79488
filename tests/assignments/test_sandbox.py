"""The sandbox a student's kernel runs in, checked from outside (assignments/grading/sandbox.py).

Each test runs a small command in a sandbox built exactly as the grader builds a
kernel's, and looks at what it could do: who it is, what it can read and write,
whether it can reach the host's network, what limits it has, and whether
anything it starts survives it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "assignments"))
from grading import sandbox  # noqa: E402

try:
    sandbox.probe()
    REASON = ""
except sandbox.SandboxUnavailable as error:
    REASON = str(error)
pytestmark = [pytest.mark.skipif(bool(REASON), reason=REASON),
              pytest.mark.skipif(os.geteuid() != 0, reason="the grader drops to nobody as root")]

SRC = ROOT / "src"


def run(tmp_path, code: str, limits=None, files=None, timeout=60) -> subprocess.CompletedProcess:
    """``python -c code`` in a fresh sandbox, the way grading starts a kernel."""
    channel = tmp_path / "channel"
    if not channel.exists():
        sandbox.prepare_channel(channel)
    argv = sandbox.command([sys.executable, "-c", code],
                           read_only=sandbox.python_paths() + [SRC], channel=channel,
                           files=files or {}, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC)},
                           limits=limits or sandbox.Limits(), hide=[])
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def test_the_kernel_runs_as_nobody_without_privileges(tmp_path):
    done = run(tmp_path, "import os; print(os.getuid(), os.getgid(), os.getgroups());"
                         "print(open('/proc/self/status').read())")
    assert done.returncode == 0, done.stderr
    first, status = done.stdout.split("\n", 1)
    assert first == "65534 65534 []"
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(fields[cap], 16) == 0, cap
    assert fields["NoNewPrivs"].strip() == "1"


def test_root_only_files_stay_unreadable_even_where_the_sandbox_can_see(tmp_path):
    """Why setpriv inside rather than bwrap --uid as root: a 0600 file of root's is closed."""
    done = run(tmp_path, "print('ready')")
    secret = tmp_path / "channel" / "secret"
    secret.write_text("the gradebook's password")
    secret.chmod(0o600)
    done = run(tmp_path, f"open({str(secret)!r}).read()")
    assert done.returncode != 0 and "PermissionError" in done.stderr


def test_the_course_and_the_home_of_root_are_not_there(tmp_path):
    code = ("import os\n"
            f"for p in ({str(ROOT / 'assignments')!r}, {str(ROOT / 'assignments' / 'source')!r},"
            f" {str(ROOT / 'README.md')!r}, '/root/.bashrc', {str(tmp_path)!r} + '/x'):\n"
            "    print(p, os.path.exists(p))\n"
            f"print(sorted(os.listdir({str(ROOT)!r})))")
    done = run(tmp_path, code)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert all(line.endswith("False") for line in lines[:-1]), lines
    assert lines[-1] == "['src']", "only the seqlm package of the repository is bound"


def test_nothing_outside_home_and_tmp_can_be_written(tmp_path):
    code = ("import os\n"
            f"for d in ('/', '/usr', '/etc', {str(SRC)!r}, {sys.prefix!r},\n"
            "          '/home/student', '/tmp'):\n"
            "    try:\n"
            "        open(os.path.join(d, 'x'), 'w').close(); print(d, 'written')\n"
            "    except OSError as e:\n"
            "        print(d, type(e).__name__)\n")
    done = run(tmp_path, code)
    assert done.returncode == 0, done.stderr
    written = [line.split()[0] for line in done.stdout.splitlines() if line.endswith("written")]
    assert written == ["/home/student", "/tmp"]
    assert not (SRC / "x").exists()


def test_the_host_network_is_out_of_reach(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        done = run(tmp_path, "import socket\n"
                             f"try:\n    socket.create_connection(('127.0.0.1', {port}), 2)\n"
                             "    print('connected')\n"
                             "except OSError as e:\n    print(type(e).__name__)\n"
                             "print(sorted(n for _, n in socket.if_nameindex()))")
    finally:
        server.close()
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["ConnectionRefusedError", "['lo']"]


def test_limits_apply(tmp_path):
    limits = sandbox.Limits(memory=1 << 30, cpu=2, processes=32, file_size=1 << 20)
    done = run(tmp_path, "import resource as r\n"
                         "print([r.getrlimit(x)[0] for x in (r.RLIMIT_AS, r.RLIMIT_CPU, "
                         "r.RLIMIT_NPROC, r.RLIMIT_FSIZE)])\n"
                         "try:\n    bytearray(2 << 30)\n"
                         "except MemoryError:\n    print('MemoryError')\n",
               limits=limits)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str([1 << 30, 2, 32, 1 << 20]), "MemoryError"]
    spin = run(tmp_path, "while True:\n    pass", limits=limits)
    assert "CPU time limit" in sandbox.describe_exit(spin.returncode)
    big = run(tmp_path, "open('/home/student/big', 'wb').write(b'x' * (2 << 20))", limits=limits)
    assert "File too large" in big.stderr  # Python ignores SIGXFSZ: the write fails


def test_no_process_outlives_its_sandbox(tmp_path):
    """A double-forked, setsid'd child is gone when the sandbox ends, or when it is killed."""
    detach = ("import os, time\n"
              "if os.fork() == 0:\n"
              "    os.setsid()\n"
              "    if os.fork() == 0:\n"
              "        time.sleep(300)\n"
              "    os._exit(0)\n"
              "time.sleep(0.5)\n")
    before = sandbox.nobody_processes()
    done = run(tmp_path, detach + "print('parent done')")
    assert done.stdout.strip() == "parent done"
    time.sleep(0.5)
    assert sandbox.nobody_processes() <= before
    channel = tmp_path / "channel"
    box = sandbox.Sandbox(sandbox.command([sys.executable, "-c", detach + "time.sleep(300)"],
                                          read_only=sandbox.python_paths(), channel=channel,
                                          files={}, env={"PATH": "/usr/bin:/bin"},
                                          limits=sandbox.Limits()), tmp_path / "log")
    box.start()
    time.sleep(2)
    assert sandbox.nobody_processes() - before, "the sandbox's processes run as nobody"
    box.kill()
    time.sleep(0.5)
    assert sandbox.nobody_processes() <= before
    assert not box.alive()


def test_without_bubblewrap_grading_says_how_to_get_it(monkeypatch):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap"):
        sandbox.tools()
