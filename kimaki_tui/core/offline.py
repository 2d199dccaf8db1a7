"""The core for processes that are not kimaki itself (the CLI's subcommands): the services that
need only the database, and reading OpenCode sessions from a server given by address or started
for the occasion.

`OfflineCore.open(db_path)` opens the shared database; close it when done (it is a context
manager). A running kimaki sees the changes at once (it reads the database) or when told through
its control API.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

from kimaki_tui.core.guilds import GuildAccess
from kimaki_tui.core.project_service import ProjectService
from kimaki_tui.core.sandbox_mode import channel_sandbox_mode
from kimaki_tui.core.tasks import TaskService
from kimaki_tui.opencode.catalog import Project as OpenCodeProject
from kimaki_tui.opencode.models import Message
from kimaki_tui.opencode.pending import SessionStatusInfo
from kimaki_tui.opencode.schema import SessionInfo
from kimaki_tui.settings.tree import SandboxMode
from kimaki_tui.store.db import StoreError
from kimaki_tui.store.records import ThreadSession
from kimaki_tui.store.repo import Store

__all__ = [
    "OfflineCore",
    "SessionReader",
    "StoreError",  # what opening or using the database raises
    "ThreadSession",
    "check_opencode",
    "opencode_projects_from_new_server",
    "own_sessions",
    "remote_sessions",
]

log = logging.getLogger(__name__)


class SessionReader(Protocol):
    """Reads sessions from an OpenCode server."""

    async def get_session(self, session_id: str, directory: str | Path | None = None) -> SessionInfo: ...

    async def messages(
        self, session_id: str, directory: str | Path | None = None, *, limit: int | None = None
    ) -> list[Message]: ...

    async def raw_messages(self, session_id: str, directory: str | Path | None = None) -> list[Any]: ...

    async def list_sessions(
        self,
        directory: str | Path,
        *,
        limit: int | None = None,
        search: str | None = None,
        roots: bool = True,
    ) -> list[SessionInfo]: ...

    async def session_status(self, directory: str | Path | None = None) -> dict[str, SessionStatusInfo]: ...

    async def abort(self, session_id: str, directory: str | Path | None = None) -> bool: ...

    async def update_session(
        self, session_id: str, directory: str | Path | None = None, *, title: str | None = None
    ) -> SessionInfo: ...


class OfflineCore:
    def __init__(self, store: Store) -> None:
        self._store = store
        self.projects = ProjectService(store, None)
        self.tasks = TaskService(store)
        self.guilds = GuildAccess(store)

    @classmethod
    def open(cls, db_path: str | Path) -> Self:
        """Raises the store's errors (kimaki_tui.store.db) for a database that cannot be used."""
        return cls(Store.open(db_path))

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def thread_of_session(self, session_id: str) -> ThreadSession | None:
        """The thread showing a session (the most recent one when resumed in several)."""
        return self._store.thread_for_session(session_id)

    def threads(self, directory: str | None = None) -> list[ThreadSession]:
        """Threads and their sessions, most recently updated first."""
        return self._store.list_threads(directory)

    def sandbox_mode(self, channel_id: str, default: SandboxMode) -> SandboxMode:
        """Where the channel's new threads run (its /sandbox choice, else `default`)."""
        return channel_sandbox_mode(self._store, channel_id, default)


@asynccontextmanager
async def remote_sessions(url: str, password: str | None, username: str) -> AsyncIterator[SessionReader]:
    """A running OpenCode server's sessions (a running kimaki's, from its control API)."""
    from kimaki_tui.opencode.client import OpenCodeClient

    async with OpenCodeClient(url, password, username=username) as client:
        yield client


@asynccontextmanager
async def own_sessions(
    *, binary: str | None = None, log_level: str = "WARN", health_timeout: float = 60.0
) -> AsyncIterator[SessionReader]:
    """A short-lived `opencode serve` of our own (`binary`, else the first on PATH), stopped on exit."""
    from kimaki_tui.opencode.supervisor import OpenCodeSupervisor

    supervisor = OpenCodeSupervisor(binary=binary, health_timeout=health_timeout, log_level=log_level)
    try:
        await supervisor.start()
        yield supervisor.client
    finally:
        await supervisor.aclose()


def check_opencode(binary: str | None, env: Mapping[str, str]) -> None:
    """Raise opencode.errors.OpenCodeNotInstalled (saying how to install it) when neither `binary`
    (the `opencode.path` setting) nor the PATH of `env` gives one."""
    from kimaki_tui.opencode.supervisor import find_opencode

    find_opencode(binary, env)


async def opencode_projects_from_new_server(
    env: Mapping[str, str], *, binary: str | None = None, timeout: float = 30.0
) -> list[OpenCodeProject]:
    """Start a short-lived `opencode serve` (`binary`, the `opencode.path` setting, else the first on
    the PATH of `env`) to list its projects (for `kimaki setup` outside kimaki).

    An OpenCode that is missing or does not start gives an empty list and a logged reason.
    """
    from kimaki_tui.opencode.errors import OpenCodeError
    from kimaki_tui.opencode.supervisor import OpenCodeSupervisor, find_opencode

    try:
        binary = find_opencode(binary, env)
    except OpenCodeError as exc:
        log.warning("cannot list OpenCode projects: %s", exc)
        return []
    supervisor = OpenCodeSupervisor(binary=binary, env=dict(env), health_timeout=timeout)
    try:
        await supervisor.start()  # bounded by health_timeout
        return await supervisor.client.projects()
    except OpenCodeError as exc:
        log.warning("cannot list OpenCode projects: %s", exc)
        return []
    finally:
        await supervisor.aclose()
