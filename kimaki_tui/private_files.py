"""Private files: the data dir is 0700 and every file kimaki keeps in it 0600 (the database and
its -wal/-shm, the log, saved attachments, the secrets file, the control token), whatever the
umask and whether the directory or the file already existed.

Modes are set explicitly (fchmod/chmod) after creating, because a umask can only remove bits
from the mode given to open()/mkdir(), and a file or directory made earlier (by an older
version, by hand, by another tool) keeps whatever mode it had.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
# chmod on a directory we cannot change (not ours, read-only mount): the first write fails
# with a clear error instead, so this is not an error here.
_CANNOT_CHMOD = frozenset({errno.EPERM, errno.EROFS})


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents, all 0700) and make it 0700; an existing one is narrowed
    too. (mkdir(parents=True) would give the parents the umask's mode.)"""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=DIR_MODE, exist_ok=True)
        _chmod(directory, DIR_MODE)
    _chmod(path, DIR_MODE)
    return path


def make_private(path: Path) -> None:
    """Narrow an existing file to 0600 (a missing one is fine)."""
    try:
        _chmod(path, FILE_MODE)
    except FileNotFoundError:
        pass


def open_private(path: Path, *, exclusive: bool = False, truncate: bool = True) -> int:
    """A file descriptor for writing `path`, created 0600 from its first byte (never a symlink)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    flags |= os.O_EXCL if exclusive else 0
    flags |= os.O_TRUNC if truncate else os.O_APPEND
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_private(path: Path, data: str | bytes) -> None:
    """Write a whole file with mode 0600 (its directory is made private first)."""
    private_dir(path.parent)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with os.fdopen(open_private(path), "wb") as handle:
        handle.write(payload)


def _chmod(path: Path, mode: int) -> None:
    with contextlib.suppress(FileNotFoundError):
        if (os.stat(path).st_mode & 0o7777) == mode:
            return
    try:
        os.chmod(path, mode)
    except OSError as exc:
        if exc.errno not in _CANNOT_CHMOD:
            raise
