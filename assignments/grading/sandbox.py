"""The operating system's walls around a student's kernel.

Every submission runs in its own `bubblewrap <https://github.com/containers/bubblewrap>`_
sandbox: new PID, network, IPC and UTS namespaces; a root file system that holds
only what the kernel needs, read-only (the system's ``/usr``, ``/lib``, ``/etc``,
the Python installation and its site-packages, the ``seqlm`` package and the
prepared corpora); a small private ``/tmp`` and a home directory that holds the
student's notebook, both size-limited tmpfs; and one read-write folder, the
channel, where the kernel's IPC sockets live (Jupyter's ``ipc`` transport: a
kernel without a network cannot be reached over loopback TCP). The kernel runs
as ``nobody`` (uid 65534) with no capabilities and ``no_new_privs`` (``setpriv``
drops root *inside* the sandbox: ``bwrap --uid`` as root would keep root's
access to 0600 files), under resource limits (``prlimit``). Sandboxes that run
side by side each get a uid of their own (:func:`slot_uid`: 65534, 65533, …),
because the limit on processes counts every process of a uid on the machine:
one kernel that forks without end cannot starve the others. When the sandbox's
first process ends, or the grader kills it, or the grader dies, the kernel tears
down its PID namespace: no process a student started survives the run.

Nothing here knows about notebooks: :func:`command` builds the command line,
:class:`Sandbox` runs one and makes sure it is gone.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

NOBODY = 65534
HOME = "/home/student"
MAX_SLOTS = 64              # sandboxes side by side: uids 65534 down to 65471

# Read-only from the host, when they exist: what any dynamically linked program needs.
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")


class SandboxUnavailable(RuntimeError):
    """bubblewrap or util-linux is missing: grading must not run student code unconfined."""


def tools() -> dict[str, str]:
    """The programs the sandbox is made of, or a SandboxUnavailable that says how to get them."""
    found = {name: shutil.which(name) for name in ("bwrap", "prlimit", "setpriv")}
    if not found["bwrap"]:
        raise SandboxUnavailable("bubblewrap is missing: grading runs every submission in a "
                                 "bwrap sandbox (apt-get install bubblewrap)")
    missing = [name for name, path in found.items() if not path]
    if missing:
        raise SandboxUnavailable(f"{', '.join(missing)} missing: apt-get install util-linux")
    return found


def probe() -> None:
    """Start one trivial sandbox, or say why this machine cannot (SandboxUnavailable)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        channel = Path(tmp) / "channel"
        prepare_channel(channel)
        argv = command(["/bin/true"], read_only=[], channel=channel, files={},
                       env={"PATH": "/usr/bin:/bin"}, limits=Limits())
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise SandboxUnavailable("bubblewrap cannot make a sandbox here "
                                 f"(exit {done.returncode}): {done.stderr.strip()[-500:]}")


@dataclass(frozen=True)
class Limits:
    """What one student's kernel may use. Threads count as processes (RLIMIT_NPROC)."""

    memory: int = 4 << 30        # address space, bytes (RLIMIT_AS): an allocation beyond fails
    cpu: int = 600               # CPU seconds of the kernel process (RLIMIT_CPU): then SIGXCPU
    processes: int = 64          # processes and threads of uid nobody (RLIMIT_NPROC)
    file_size: int = 64 << 20    # bytes of one written file (RLIMIT_FSIZE): then SIGXFSZ
    open_files: int = 256        # file descriptors (RLIMIT_NOFILE)
    home: int = 128 << 20        # the home directory's tmpfs, bytes
    tmp: int = 64 << 20          # /tmp's tmpfs, bytes

    def prlimit(self) -> list[str]:
        # CPU: SIGXCPU at the soft limit (reported as such), SIGKILL 5 s later at the hard one.
        return [f"--as={self.memory}", f"--cpu={self.cpu}:{self.cpu + 5}",
                f"--nproc={self.processes}", f"--fsize={self.file_size}",
                f"--nofile={self.open_files}", "--core=0"]


def slot_uid(slot: int) -> int:
    """The uid of the sandboxes of one grading slot (0 … MAX_SLOTS - 1): ``nobody`` for
    the first, then the uids below it, which must not belong to anyone on this machine."""
    import pwd

    if not 0 <= slot < MAX_SLOTS:
        raise ValueError(f"a grading slot is 0 … {MAX_SLOTS - 1}, got {slot}")
    uid = NOBODY - slot
    if slot:
        try:
            owner = pwd.getpwuid(uid).pw_name
        except KeyError:
            return uid
        raise SandboxUnavailable(f"uid {uid} belongs to {owner!r}: grading {slot + 1} "
                                 f"notebooks at once needs the uids {NOBODY - slot}…{NOBODY} "
                                 "unused; grade with fewer jobs")
    return uid


def slot_uids(slots: int) -> list[int]:
    return [slot_uid(k) for k in range(slots)]


def python_paths() -> list[Path]:
    """The Python installation this process runs, with every folder it imports from."""
    import site

    paths = {Path(sys.base_prefix), Path(sys.prefix), Path(sys.executable).parent}
    paths.update(Path(p) for p in site.getsitepackages())
    user = site.getusersitepackages()
    if site.ENABLE_USER_SITE and user and Path(user).is_dir():
        paths.add(Path(user))
    return sorted(p for p in paths if p.exists())


def _inside(path: Path, folders) -> bool:
    return any(path == f or path.is_relative_to(f) for f in folders)


def command(argv: list[str], *, read_only: list[Path], channel: Path, files: dict[str, Path],
            env: dict[str, str], limits: Limits, hide: list[Path] = (),
            uid: int = NOBODY) -> list[str]:
    """The bwrap command line that runs ``argv`` in a fresh sandbox.

    ``read_only`` folders are bound at their own paths, read-only; ``channel`` is the
    one folder shared read-write with the grader (bound at its own path too, so both
    sides agree on socket paths); ``files`` are host files bound read-only at the
    given paths inside (the home directory, :data:`HOME`, is the command's working
    directory: a size-limited tmpfs that the sandbox's user may write); ``hide`` are
    folders that must not be seen even if a read-only folder contains them (an
    empty tmpfs covers each). Run as root, the command runs as ``uid`` (and its group).
    """
    found = tools()
    binds = [Path(p) for p in SYSTEM if Path(p).exists()]
    # Only the outermost of nested folders is bound: the rest are visible through it.
    extra = sorted({Path(os.path.abspath(p)) for p in read_only}, key=lambda p: len(p.parts))
    for path in extra:
        if not _inside(path, binds):
            binds.append(path)
    tmpfs: set[Path] = set()
    args = [found["bwrap"], "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session",
            "--hostname", "sandbox", "--clearenv"]
    if os.geteuid() != 0:  # an unprivileged grader: a user namespace stands in for setuid
        args += ["--unshare-user"]

    def directories(path: Path):
        """The ancestors of ``path`` that no mount provides, made 0755 (bwrap makes 0700)."""
        out = []
        for parent in reversed(path.parents):
            if parent == Path("/") or _inside(parent, binds) or parent in tmpfs | made:
                continue
            made.add(parent)
            out += ["--perms", "0755", "--dir", str(parent)]
        return out

    made: set[Path] = set()
    # The private /tmp first: a course cloned under /tmp is then bound on top of it, not
    # hidden by it.
    args += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", str(limits.tmp), "--tmpfs", "/tmp",
             "--perms", "1777", "--size", str(16 << 20), "--tmpfs", "/dev/shm"]
    tmpfs.update({Path("/tmp"), Path("/dev/shm")})
    for path in binds:
        args += directories(path) + ["--ro-bind", str(path), str(path)]
    for path in hide:
        path = Path(os.path.abspath(path))
        if _inside(path, binds) and path.exists():
            args += ["--perms", "0000", "--tmpfs", str(path)]
    channel = Path(os.path.abspath(channel))
    args += directories(channel) + ["--bind", str(channel), str(channel)]
    args += directories(Path(HOME)) + ["--perms", "0777", "--size", str(limits.home),
                                       "--tmpfs", HOME]
    tmpfs.add(Path(HOME))
    for inside, source in files.items():
        args += directories(Path(inside)) + ["--ro-bind", str(source), str(inside)]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--chdir", HOME, "--", found["prlimit"], *limits.prlimit(), "--"]
    if os.geteuid() == 0:
        args += [found["setpriv"], f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                 "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"]
    return args + list(argv)


def sandbox_processes(uids=(NOBODY,)) -> set[int]:
    """The processes of the sandboxes' users on this machine (none of a sandbox outlives
    it)."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid in uids:
                found.add(int(entry.name))
        except OSError:
            pass
    return found


def nobody_processes() -> set[int]:
    return sandbox_processes((NOBODY,))


def prepare_channel(channel: Path, uid: int = NOBODY) -> None:
    """The shared folder, writable by the kernel's user until :func:`seal_channel`."""
    channel.mkdir(mode=0o700)
    if os.geteuid() == 0:
        os.chown(channel, uid, uid)


def seal_channel(channel: Path) -> None:
    """Once the kernel has made its sockets: nothing more may be written there."""
    if os.geteuid() == 0:
        os.chown(channel, 0, 0)
        os.chmod(channel, 0o755)


EXIT_SIGNALS = {signal.SIGXCPU: "its CPU time limit", signal.SIGXFSZ: "its file size limit",
                signal.SIGKILL: "SIGKILL (its own, the grader's, or the system's out of memory)",
                signal.SIGSEGV: "a segmentation fault", signal.SIGABRT: "an abort"}


def describe_exit(code: int | None) -> str:
    """A person's words for how a sandbox ended (bwrap passes on its command's status)."""
    if code is None:
        return "still running"
    signum = -code if code < 0 else code - 128 if code > 128 else None
    if signum:
        try:
            sig = signal.Signals(signum)
        except ValueError:
            return f"killed by signal {signum}"
        return f"killed by {EXIT_SIGNALS.get(sig, sig.name)}"
    return f"exited with status {code}"


@dataclass
class Sandbox:
    """One sandboxed process tree: started with :meth:`start`, gone after :meth:`kill`."""

    argv: list[str]
    log: Path
    process: subprocess.Popen | None = field(default=None, init=False)

    def start(self) -> None:
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True,
                                            close_fds=True, env={"PATH": "/usr/bin:/bin"})

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def kill(self) -> None:
        """SIGKILL the sandbox: its PID namespace, and so every process in it, goes with it."""
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - the kernel always reaps
            self.process.kill()
            self.process.wait()

    def log_tail(self, limit: int = 2000) -> str:
        try:
            with open(self.log, "rb") as f:
                f.seek(max(0, self.log.stat().st_size - limit))
                return f.read().decode(errors="replace")
        except OSError:
            return ""
