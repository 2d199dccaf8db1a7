"""One kimaki per data dir: hold a loopback "lock port" derived from the data dir and serve the
health/control API on it; a second start finds the port taken, names the running pid, and with
`replace=True` asks it to stop (control API, then SIGTERM) and takes the port over.

The port is bound before the rest of kimaki is built (so a second start stops early), and answers
"starting" until the composition root `attach`es the running instance's status and actions.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import time
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

from kimaki_tui.control_api import (
    ControlActions,
    ControlClient,
    ControlError,
    InstanceStatus,
    JSONObject,
    StatusProvider,
    build_app,
    new_token,
    read_token,
    remove_token,
    write_token,
)
from kimaki_tui.errors import KimakiError
from kimaki_tui.settings import DEFAULT_DATA_DIR

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger(__name__)

DEFAULT_LOCK_PORT = 29988  # kimaki's port for ~/.kimaki, so the two never run on one data dir
HOST = "127.0.0.1"


def lock_port(data_dir: Path, port: int | None = None) -> int:
    """`port` (the `lock_port` setting) if given; 29988 for ~/.kimaki; else 30000 + |hash(data dir)| %
    10000 (as kimaki)."""
    if port is not None:
        return port
    if Path(data_dir).expanduser().resolve() == Path(DEFAULT_DATA_DIR).expanduser().resolve():
        return DEFAULT_LOCK_PORT
    return 30000 + abs(_js_string_hash(str(data_dir))) % 10000


def _js_string_hash(text: str) -> int:
    """JavaScript's `(h << 5) - h + charCodeAt(i)` in int32 over UTF-16 code units, like kimaki."""
    units = text.encode("utf-16-le")
    value = 0
    for i in range(0, len(units), 2):
        value = (value * 31 + int.from_bytes(units[i : i + 2], "little")) & 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


class InstanceError(KimakiError):
    """The lock port cannot be taken. The message is meant for the user as is."""


class AlreadyRunning(InstanceError):
    def __init__(self, pid: int, port: int, detail: str = "") -> None:
        self.pid, self.port = pid, port
        message = (
            f"kimaki is already running for this data dir (pid {pid}). "
            "Use --replace to stop it and take over."
        )
        super().__init__(f"{message} {detail}".strip())


class PortInUse(InstanceError):
    """The lock port is held by something that is not kimaki for this data dir."""

    def __init__(self, port: int, holder: str) -> None:
        self.port = port
        super().__init__(
            f"The lock port {port} on 127.0.0.1 is in use by {holder}. "
            "Set KIMAKI_LOCK_PORT (or --lock-port, or lock_port in config.toml) to another port (or "
            "use another --data-dir)."
        )


def starting() -> InstanceStatus:
    """What the lock port reports before the rest of kimaki is built."""
    return InstanceStatus(discord_state="connecting", opencode_state="starting")


class InstanceLock:
    """Holds the lock port while kimaki runs. `async with` acquires without replacing."""

    def __init__(
        self,
        data_dir: Path,
        status_provider: StatusProvider = starting,
        port: int | None = None,
        *,
        actions: ControlActions | None = None,
        replace_timeout: float = 10.0,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.port = lock_port(self.data_dir, port)
        self._status = status_provider
        self._actions = actions or ControlActions()
        self._replace_timeout = replace_timeout
        self._runner: web.AppRunner | None = None
        self._token: str | None = None
        self._started = time.monotonic()

    @property
    def held(self) -> bool:
        return self._runner is not None

    @property
    def token(self) -> str | None:
        """This run's control token (also in `<data-dir>/control-token`, mode 0600)."""
        return self._token

    def attach(self, status_provider: StatusProvider, actions: ControlActions) -> None:
        """Serve the running instance: its status on /healthz and /readyz, its control actions."""
        self._status = status_provider
        for action in fields(ControlActions):  # the served app holds our ControlActions: fill it in
            setattr(self._actions, action.name, getattr(actions, action.name))

    async def acquire(self, replace: bool = False) -> None:
        """Bind the lock port; raises AlreadyRunning / PortInUse / InstanceError."""
        if self._runner is not None:
            return
        if await self._try_bind():
            return
        holder = await ControlClient(self.port).health()
        if holder is None:
            raise PortInUse(self.port, "another program (it does not answer /healthz like kimaki)")
        pid = int(holder["pid"])
        holder_dir = holder.get("data_dir")
        if holder_dir and holder_dir != str(self.data_dir):
            raise PortInUse(self.port, f"kimaki pid {pid} for another data dir ({holder_dir})")
        if not replace:
            raise AlreadyRunning(pid, self.port)
        await self._take_over(pid)

    async def release(self) -> None:
        """Stop serving and free the port (the token file goes first, so a successor keeps its own)."""
        runner, self._runner = self._runner, None
        if self._token is not None:
            remove_token(self.data_dir, self._token)
            self._token = None
        if runner is not None:
            await runner.cleanup()
            log.info("released lock port %s", self.port)

    async def __aenter__(self) -> InstanceLock:
        await self.acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.release()

    # -- internals ------------------------------------------------------------------------------

    async def _try_bind(self) -> bool:
        from aiohttp import web

        token = new_token()
        app = build_app(
            status=lambda: self._status(),
            actions=self._actions,
            token=token,
            data_dir=self.data_dir,
            started=self._started,
        )
        # A short shutdown grace: /api/shutdown answers before the server stops, nothing lingers.
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, HOST, self.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            if exc.errno != errno.EADDRINUSE:
                raise InstanceError(f"cannot listen on {HOST}:{self.port}: {exc.strerror or exc}") from exc
            return False
        # Only now: the file belongs to whoever holds the port (a refused start must not clobber it).
        try:
            write_token(self.data_dir, token)
        except OSError:  # a read-only or full data dir: the caller explains it
            await runner.cleanup()
            raise
        self._runner, self._token = runner, token
        log.info("holding lock port %s:%s for %s", HOST, self.port, self.data_dir)
        return True

    async def _take_over(self, pid: int) -> None:
        """Ask the running kimaki to stop (control API, else SIGTERM), then bind within the timeout."""
        try:
            await ControlClient(self.port, read_token(self.data_dir)).shutdown()
            log.info("asked kimaki pid %s to shut down through the control API", pid)
        except ControlError as exc:
            log.info("control API shutdown failed (%s); sending SIGTERM to pid %s", exc, pid)
            _terminate(pid)
        deadline = time.monotonic() + self._replace_timeout
        while time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            if await self._try_bind():
                log.info("took over from kimaki pid %s", pid)
                return
        raise AlreadyRunning(pid, self.port, f"It did not stop within {self._replace_timeout:g} s.")


def _terminate(pid: int) -> None:
    if pid <= 0 or pid == os.getpid():
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    except PermissionError:
        log.warning("not allowed to signal pid %s", pid)


async def running_instance(data_dir: Path, port: int | None = None) -> JSONObject | None:
    """The /healthz of the kimaki running for `data_dir` (on `port`, the `lock_port` setting), or
    None (for CLI subcommands)."""
    holder = await ControlClient(lock_port(Path(data_dir), port)).health()
    if holder is None or holder.get("data_dir") not in (None, str(data_dir)):
        return None
    return holder


def control_client(data_dir: Path, port: int | None = None) -> ControlClient:
    """A client for the running instance's control API, with the token from the data dir."""
    return ControlClient(lock_port(Path(data_dir), port), read_token(Path(data_dir)))
