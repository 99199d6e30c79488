"""Writing files so that a reader never sees half of one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable


def write_atomically(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it over ``path``.

    A reader sees the old file or the new one, never a partial one, and an interrupted
    write leaves the old file as it was. The temporary name carries the process id, so
    processes writing the same file in parallel never share one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_text_atomically(path: str | Path, text: str) -> Path:
    """:func:`write_atomically` for a UTF-8 text file."""
    return write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
