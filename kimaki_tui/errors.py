"""Failures the user can fix, each with what is wrong and what to do; and the one classifier that
turns a start-up failure (ours, or a raw OSError from the data dir) into such an error.

The command line prints `kimaki: <problem> <hint>` on one line, logs it when the log is
writable and exits 1 (cli/main.py), so none of these ever shows as a traceback.
"""

from __future__ import annotations

import errno
from pathlib import Path

READ_ONLY_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class KimakiError(Exception):
    """`problem` says what is wrong, `hint` what to do; `str()` is both, on one line."""

    def __init__(self, problem: str, hint: str = "") -> None:
        super().__init__(f"{problem} {hint}".strip())
        self.problem = problem
        self.hint = hint


class DataDirError(KimakiError):
    """The data dir cannot be written: read-only, not ours, or its disk is full."""


def read_only(data_dir: Path, detail: str) -> DataDirError:
    return DataDirError(
        f"the data dir {data_dir} is not writable ({detail}).",
        "Make it writable by the user running kimaki, or pass --data-dir a writable directory.",
    )


def disk_full(data_dir: Path, detail: str) -> DataDirError:
    return DataDirError(
        f"no space left for the data dir {data_dir} ({detail}).",
        "Free some space on that disk (or pass --data-dir a directory on another one), then start again.",
    )


def startup_error(exc: BaseException, data_dir: Path | None) -> KimakiError | None:
    """The user-facing error for a start-up failure, or None when it is not one we can explain."""
    if isinstance(exc, KimakiError):
        return exc
    if isinstance(exc, OSError) and data_dir is not None and _about(exc, data_dir):
        detail = exc.strerror or str(exc)
        if exc.errno in FULL_ERRNOS:
            return disk_full(data_dir, detail)
        if exc.errno in READ_ONLY_ERRNOS:
            return read_only(data_dir, detail)
    return None


def _about(exc: OSError, data_dir: Path) -> bool:
    """True when the failing path is the data dir or inside it (or the error names no path)."""
    names = [n for n in (exc.filename, exc.filename2) if n]
    if not names:
        return True
    root = str(data_dir)
    return any(str(n) == root or str(n).startswith(root + "/") for n in names)
