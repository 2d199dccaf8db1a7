"""Reads the file `kimaki_send_file` posts, refusing anything outside the session's directory.

The path is resolved (symlinks included) and must stay inside the resolved project directory;
the file is then opened without following a final symlink, and the opened file itself is checked
again (its /proc/self/fd link on Linux, its inode elsewhere), so swapping a path component for a
symlink between the check and the open does not get a file from elsewhere posted.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kimaki_tui.agent_tools.arguments import ToolArgumentError
from kimaki_tui.agent_tools.ports import OutgoingFile

MAX_FILE_BYTES = 25 * 1024 * 1024  # the cap; an adapter may refuse less (ToolRefused)
_PROC_FD = Path("/proc/self/fd")


def _size(size: int) -> str:
    return f"{size:,} bytes ({size / 2**20:.1f} MB)"


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _outside(path: str) -> ToolArgumentError:
    return ToolArgumentError(f"{path!r} is outside the project directory; only files inside it can be sent.")


def _resolve(directory: Path, path: str) -> tuple[str, str]:
    """(resolved project dir, resolved file path inside it) or ToolArgumentError."""
    root = os.path.realpath(directory)
    target = os.path.realpath(os.path.join(root, os.path.expanduser(path)))
    if not _inside(target, root):
        raise _outside(path)
    return root, target


def _check_opened(fd: int, root: str, target: str, path: str, limit: int) -> None:
    """Refuse what was opened unless it is a regular file inside `root` no bigger than `limit`."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise ToolArgumentError(f"{path!r} is not a regular file.")
    if _PROC_FD.is_dir():
        opened = os.readlink(_PROC_FD / str(fd))
        if not _inside(opened, root):
            raise _outside(path)
    else:
        again = os.stat(target)
        if (again.st_dev, again.st_ino) != (info.st_dev, info.st_ino):
            raise ToolArgumentError(f"{path!r} changed while it was being opened; try again.")
    if info.st_size > limit:
        raise ToolArgumentError(f"{path!r} is {_size(info.st_size)}; the limit is {_size(limit)}.")


def read_project_file(
    directory: Path, path: str, *, caption: str = "", limit: int = MAX_FILE_BYTES
) -> OutgoingFile:
    """The file at `path` (relative to `directory`, or absolute inside it), read whole."""
    root, target = _resolve(directory, path)
    try:
        fd = os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ToolArgumentError(f"{path!r} does not exist in the project directory.") from None
    except OSError as exc:
        raise ToolArgumentError(f"{path!r} cannot be opened: {exc.strerror or exc}.") from None
    try:
        _check_opened(fd, root, target, path, limit)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:  # it grew after the check
        raise ToolArgumentError(f"{path!r} is larger than the limit of {_size(limit)}.")
    relative = os.path.relpath(target, root)
    return OutgoingFile(name=os.path.basename(target), relative_path=relative, data=data, caption=caption)
