"""Process-tree helpers for the supervisor: a parent-death signal, and ending every process
a server started.

OpenCode runs bash tools in their own process groups, so signalling the server's group is
not enough: `descendants()` snapshots the tree (with start times, so a reused pid is never
hit) before the server goes, and `signal_tree()` reaches the groups it recorded.
Tools a server left when it died (they were reparented at once) are found by the run mark in
their environment: `end_marked()` after a crash, `end_orphaned()` at start for those of a kimaki
killed with -9.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

_PR_SET_PDEATHSIG = 1

ProcKey = tuple[int, int]  # (pid, start time in clock ticks since boot)


def child_setup() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to SIGTERM the child when the forking thread dies.

    The death signal follows the *thread* that forked: asyncio spawns from the loop's thread,
    which lives as long as the program does.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    # Resolved before fork: the child must only make the call, not load libraries.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def setup() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return setup


def signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _stat(pid: int) -> tuple[int, int, int] | None:
    """(ppid, pgid, start time) from /proc, or None if the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()  # the command name may contain spaces
    return int(fields[1]), int(fields[2]), int(fields[19])


def descendants(pid: int) -> list[ProcKey]:
    """Every live descendant of `pid` (Linux /proc; empty elsewhere)."""
    children: dict[int, list[ProcKey]] = {}
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if entry.name.isdigit() and (info := _stat(int(entry.name))) is not None:
                children.setdefault(info[0], []).append((int(entry.name), info[2]))
    found: list[ProcKey] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


def signal_tree(processes: list[ProcKey], sig: signal.Signals) -> None:
    """Signal each recorded process that still runs (its whole group if it leads one)."""
    for pid, started in processes:
        info = _stat(pid)
        if info is None or info[2] != started:
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if info[1] == pid:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)


# Every process an OpenCode server starts inherits this variable: "<kimaki pid>:<its start time>:<run>".
# Tools that outlive their server (it crashed, or kimaki was killed with it) are found by it.
RUN_MARK = "KIMAKI_OPENCODE_RUN"


def new_run_mark(token: str) -> str:
    me = os.getpid()
    info = _stat(me)
    return f"{me}:{info[2] if info else 0}:{token}"


def _marks() -> list[tuple[ProcKey, str]]:
    """(process, its run mark) for every process of ours carrying one (Linux /proc; empty elsewhere)."""
    needle = f"{RUN_MARK}=".encode()
    found: list[tuple[ProcKey, str]] = []
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                environ = Path(entry.path, "environ").read_bytes()
            except OSError:  # gone, or another user's
                continue
            for item in environ.split(b"\0"):
                if item.startswith(needle) and (info := _stat(int(entry.name))) is not None:
                    found.append(((int(entry.name), info[2]), item[len(needle) :].decode(errors="replace")))
    return found


def _owner_alive(mark: str) -> bool:
    pid, _, rest = mark.partition(":")
    started = rest.partition(":")[0]
    if not pid.isdigit() or not started.isdigit():
        return True  # not ours to judge
    info = _stat(int(pid))
    return info is not None and info[2] == int(started)


def end_marked(mark: str) -> int:
    """SIGKILL every process left from the server run `mark` (its tools, after it died)."""
    left = [proc for proc, found in _marks() if found == mark]
    signal_tree(left, signal.SIGKILL)
    return len(left)


def end_orphaned() -> int:
    """SIGKILL the processes left by OpenCode servers whose kimaki is gone (killed with -9)."""
    left = [proc for proc, found in _marks() if not _owner_alive(found)]
    signal_tree(left, signal.SIGKILL)
    return len(left)
