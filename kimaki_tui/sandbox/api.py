"""The sandbox interface: what a thread's sandbox is made of, its life cycle, and the errors.

A backend `create`s a sandbox from a `SandboxSpec` (nothing runs yet), `start`s an OpenCode
server in it (idempotent: a running one is returned as is), `stop`s it (a pause: everything
that matters is in its data dir, so the next `start` resumes the sessions), `destroy`s it
(data dir gone; the worktree too unless its branch has unmerged or uncommitted work, which is
kept and reported), and tells its `status`. Handles are plain data, so a restarted kimaki (or
a second replica) can act on sandboxes it did not create: the backend reads state from the
world (processes, directories, pods), not from memory alone.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from kimaki_tui.errors import KimakiError
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.errors import OpenCodeError

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class SandboxError(KimakiError):
    """A sandbox could not be created, started or removed; `hint` says what to do."""


class SandboxGone(SandboxError, OpenCodeError):
    """A call about a thread whose sandbox was destroyed: its server and sessions are gone, and
    the shared server must not quietly take over a thread that was meant to be isolated."""

    hint = "Start a new thread in the channel (a message there, or /new-session) to go on."


class SandboxState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"  # no server; the data dir (sessions) and the worktree are kept
    DESTROYED = "destroyed"


@dataclass(frozen=True, slots=True)
class Bind:
    """A host path made visible in the sandbox (at `target`, default the same path)."""

    source: Path
    target: Path | None = None
    writable: bool = False
    optional: bool = False  # skipped when `source` does not exist, instead of an error

    @property
    def inside(self) -> Path:
        return self.target or self.source


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits; None means none. A backend that cannot enforce one refuses it at create."""

    memory_mb: int | None = None
    processes: int | None = None
    open_files: int | None = None
    file_size_mb: int | None = None  # the largest file a tool may write
    cpus: float | None = None


@dataclass(frozen=True, slots=True)
class SandboxSpec:
    """One thread's sandbox. `worktree` (read-write) and `data_dir` (OpenCode's HOME, config,
    sessions; read-write) keep their host paths inside, so OpenCode reports the directory kimaki
    knows. Everything else is read-only or hidden, per the backend's bind list plus `binds`."""

    key: str  # the thread's key: letters, digits, `_.-` (it names containers and host names)
    worktree: Path
    data_dir: Path
    binds: tuple[Bind, ...] = ()
    network: bool = True
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        if not _KEY.match(self.key):
            raise SandboxError(
                f"{self.key!r} cannot name a sandbox.",
                "Use 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit.",
            )
        for path in (self.worktree, self.data_dir):
            if not path.is_absolute():
                raise SandboxError(f"sandbox paths must be absolute: {path}.")


@dataclass(frozen=True, slots=True)
class SandboxHandle:
    """What a backend's `create` returns and every other call takes; plain, storable data."""

    backend: str
    spec: SandboxSpec

    @property
    def key(self) -> str:
        return self.spec.key


@dataclass(frozen=True, slots=True)
class DestroyOutcome:
    key: str
    data_removed: bool
    worktree_removed: bool
    kept_reason: str = ""  # why the worktree stays (unmerged commits, uncommitted changes...)


RestartCallback = Callable[[], Awaitable[None]]


class RunningServer(Protocol):
    """A started server as the core uses it: one client (rebound by the backend when the
    server restarts on another port) and callbacks run after such a restart."""

    client: OpenCodeClient
    on_restarted: list[RestartCallback]
    password: str | None

    @property
    def base_url(self) -> str | None: ...


class SandboxBackend(Protocol):
    """Runs `opencode serve` for one thread in an isolated place. Implemented by the shared
    server (`none`), bubblewrap, podman; a Kubernetes backend would implement it with a Pod
    per sandbox (docs/sandbox.md)."""

    @property
    def name(self) -> str: ...

    async def create(self, spec: SandboxSpec) -> SandboxHandle:
        """Check the spec (refusing limits it cannot enforce) and prepare the data dir."""
        ...

    async def start(self, handle: SandboxHandle) -> RunningServer:
        """Run the server (resume if paused) and return it once healthy."""
        ...

    async def stop(self, handle: SandboxHandle) -> None:
        """Pause: stop the server, keep the data dir and the worktree."""
        ...

    async def destroy(self, handle: SandboxHandle) -> DestroyOutcome:
        """Stop, remove the data dir, and remove the worktree if nothing on it is unmerged."""
        ...

    async def status(self, handle: SandboxHandle) -> SandboxState: ...

    async def aclose(self) -> None:
        """Stop every server this backend started (kimaki is shutting down)."""
        ...
