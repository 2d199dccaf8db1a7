"""The one error root: every failure kimaki raises on purpose is a `KimakiError`, carrying a message
for the user and, when there is one, a hint saying what to do. `describe` turns any exception
into that pair, for the three places that show errors: the bot's error handler (a reply in
Discord), the control center's notifications, and the command line (`kimaki: <message> <hint>`).

Also the classifier that turns a start-up failure (ours, or a raw OSError from the data dir) into
such an error; cli/main.py prints it on one line, logs it when the log is writable and exits 1.
"""

from __future__ import annotations

import errno
from pathlib import Path

READ_ONLY_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
UNEXPECTED = "Something went wrong on kimaki's side."
UNEXPECTED_HINT = "It was logged (see kimaki.log in the data dir)."


class KimakiError(Exception):
    """`str(exc)` says what is wrong; `hint` (possibly set per class) says what to do, "" if nothing."""

    hint: str = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


def describe(exc: BaseException) -> tuple[str, str | None]:
    """(message, hint) for the user. A KimakiError speaks for itself; anything else is a bug, told
    as such (the caller logs its traceback)."""
    if isinstance(exc, KimakiError):
        return str(exc), exc.hint or None
    return UNEXPECTED, UNEXPECTED_HINT


def one_line(exc: BaseException) -> str:
    """`describe` as one line: the message, then the hint."""
    message, hint = describe(exc)
    return f"{message} {hint}" if hint else message


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
