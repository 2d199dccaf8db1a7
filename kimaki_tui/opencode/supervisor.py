"""Runs one `opencode serve` process: start, health-wait, restart on crash, stop without orphans.

The server listens on a free loopback port with a fresh password per run; the supervisor
rebinds its `client` whenever that changes and tells `on_restarted` callbacks so the core can
reconnect. Each start checks OpenCode's version (see `version.py`): too old is a start error,
newer than tested a warning in the log and in `status`. The child itself (serve_process.py) gets
its own process group and PR_SET_PDEATHSIG (it dies even if this process is SIGKILLed); stopping
also ends the tool processes it started. A `ServeLauncher` (launcher.py) decides what is spawned:
`opencode serve` itself by default, or the same command wrapped in a sandbox (kimaki_tui/sandbox/).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from kimaki_tui.logs import known_secrets
from kimaki_tui.opencode.catalog import Health
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.environment import agent_environment
from kimaki_tui.opencode.errors import (
    OpenCodeCrashLoop,
    OpenCodeError,
    OpenCodeNotInstalled,
    OpenCodeStartError,
    OpenCodeTooOld,
    OpenCodeUnavailable,
)
from kimaki_tui.opencode.launcher import DirectLauncher, ServeLauncher
from kimaki_tui.opencode.process import RUN_MARK, end_marked, end_orphaned, new_run_mark
from kimaki_tui.opencode.serve_process import ServeProcess
from kimaki_tui.opencode.status import ServerStatus
from kimaki_tui.opencode.version import VersionCheck, judge_version

log = logging.getLogger(__name__)

_SERVE_ARGS = ("serve", "--hostname", "127.0.0.1", "--port", "0", "--print-logs")

RestartCallback = Callable[[], Awaitable[None]]


def find_opencode(explicit: str | None = None, env: Mapping[str, str] = os.environ) -> str:
    """The opencode binary: `explicit` (the `opencode.path` setting, OPENCODE_PATH) if given, else
    the first `opencode` on the PATH of `env` (the environment OpenCode will run in)."""
    if explicit:
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return explicit
        raise OpenCodeNotInstalled(f"OPENCODE_PATH={explicit} is not an executable file.")
    found = shutil.which("opencode", path=env.get("PATH", os.defpath))
    if found is None:
        raise OpenCodeNotInstalled("opencode was not found on PATH.")
    return found


class OpenCodeSupervisor:
    def __init__(
        self,
        *,
        binary: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        on_status: Callable[[ServerStatus], None] | None = None,
        health_timeout: float = 30.0,
        request_timeout: float = 2.0,
        max_crashes: int = 5,
        crash_window: float = 60.0,
        stop_timeout: float = 5.0,
        client: OpenCodeClient | None = None,
        restart_backoff: float = 1.0,
        restart_backoff_max: float = 30.0,
        log_level: str = "WARN",
        launcher: ServeLauncher | None = None,
    ) -> None:
        self._binary = binary
        self._launcher: ServeLauncher = launcher or DirectLauncher()
        self._env = dict(env or {})
        self._cwd = cwd
        self._status_listeners: list[Callable[[ServerStatus], None]] = [on_status] if on_status else []
        self._health_timeout = health_timeout
        self._request_timeout = request_timeout
        self._max_crashes = max_crashes
        self._crash_window = crash_window
        self._stop_timeout = stop_timeout
        self._backoff = (restart_backoff, restart_backoff_max)
        self._log_level = log_level
        self._owns_client = client is None
        self.client = client or OpenCodeClient("http://127.0.0.1:1")
        self.on_restarted: list[RestartCallback] = []
        self.output: deque[str] = deque(maxlen=200)
        self._proc: ServeProcess | None = None
        self._run_mark = ""  # in the environment of the server and every tool it starts
        self._start_task: asyncio.Task[None] | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self._crashes: deque[float] = deque()
        self._failure: OpenCodeError | None = None
        self._changed = asyncio.Event()
        self.port: int | None = None
        self.password: str | None = None
        self.healthy = False
        self.version: VersionCheck | None = None
        self.status = ServerStatus("stopped")

    @property
    def binary(self) -> str | None:
        """The opencode binary it runs (None: the first on PATH)."""
        return self._binary

    @property
    def environment(self) -> dict[str, str]:
        """The extra variables its server gets (provider keys, OPENCODE_CONFIG...)."""
        return dict(self._env)

    @property
    def base_url(self) -> str | None:
        return f"http://127.0.0.1:{self.port}" if self.port else None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    # -- public lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        """Spawn the server and wait until it answers health checks."""
        self.start_background()
        await self.wait_healthy()

    def start_background(self) -> asyncio.Task[None]:
        """Begin starting so other start-up work can overlap; `wait_healthy()` joins it."""
        if self._start_task is not None and self._active():
            return self._start_task  # already starting, running or restarting
        self._failure = None
        self._start_task = asyncio.create_task(self._initial_start(), name="opencode-start")
        self._start_task.add_done_callback(_retrieve)
        return self._start_task

    async def wait_healthy(self, timeout: float | None = None) -> None:
        """Return once healthy; raise the start or crash-loop error if it gave up."""
        async with asyncio.timeout(timeout):
            while True:
                changed = self._changed
                if self._failure is not None:
                    raise self._failure
                if self.healthy:
                    return
                if not self._active():
                    raise OpenCodeUnavailable("the OpenCode supervisor is not running")
                await changed.wait()

    async def stop(self) -> None:
        """Stop the server (SIGTERM to its group, SIGKILL after stop_timeout)."""
        await self._shutdown()
        self._publish("stopped")

    async def restart(self) -> None:
        """Stop and start again (new port), then run the on_restarted callbacks."""
        await self._shutdown()
        self._crashes.clear()
        await self.start()
        await self._run_restarted()

    async def aclose(self) -> None:
        await self.stop()
        if self._owns_client:
            await self.client.aclose()

    # -- starting -------------------------------------------------------------------------

    def _active(self) -> bool:
        tasks = (self._start_task, self._watch_task)
        return any(t is not None and not t.done() for t in tasks)

    async def _initial_start(self) -> None:
        self._publish("starting")
        # Tools of a server whose kimaki was killed (-9) were orphaned with it: end them now.
        if ended := await asyncio.to_thread(end_orphaned):
            log.warning("ended %d process(es) left by an OpenCode whose kimaki was killed", ended)
        try:
            proc = await self._start_once()
        except OpenCodeError as exc:
            self._fail(exc, loud=False)  # raised to the caller, which reports it
            raise
        self._became_healthy(proc)

    def _became_healthy(self, proc: ServeProcess) -> None:
        self.healthy = True
        self._publish("healthy")
        self._watch_task = asyncio.create_task(self._watch(proc), name="opencode-watch")

    async def _start_once(self) -> ServeProcess:
        """Spawn, read the port from stdout, poll health; kill the process on any failure."""
        deadline = time.monotonic() + self._health_timeout
        proc = await self._spawn()
        try:
            url = self._launcher.public_url(await proc.wait_listening(deadline, self._health_timeout))
            self.port = int(url.rsplit(":", 1)[1].strip("/"))
            self.client.rebind(url, self.password)
            health = await self._poll_health(proc, deadline)
            await self._check_version(health.version or None)
        except BaseException as exc:
            await proc.kill()
            if isinstance(exc, asyncio.CancelledError | OpenCodeTooOld):
                raise
            # A release too old to serve kimaki's API often fails this way: say so instead.
            await self._check_version(None, failure=exc)
            if isinstance(exc, OpenCodeStartError):
                raise
            raise OpenCodeStartError(f"OpenCode failed to start: {exc}", self.output) from exc
        log.info("opencode %s healthy on port %s (pid %s)", self._binary, self.port, proc.pid)
        return proc

    async def _spawn(self) -> ServeProcess:
        # Checked at each spawn: a configured path that is not (or no longer) a binary is named.
        binary = self._binary = find_opencode(self._binary, {**os.environ, **self._env})
        self.password = secrets.token_urlsafe(24)
        self._run_mark = new_run_mark(secrets.token_hex(6))
        env = agent_environment(
            {**os.environ, **self._env},
            secret_values=known_secrets(),
            extra={"OPENCODE_SERVER_PASSWORD": self.password, RUN_MARK: self._run_mark},
        )
        args = [*_SERVE_ARGS, "--log-level", self._log_level]
        launch = self._launcher.command(binary, args, env, self._cwd)
        self.output.clear()
        self.healthy, self.port = False, None
        graceful = self._launcher.graceful_stop
        self._proc = await ServeProcess.spawn(launch, self.output, graceful, self._run_mark)
        return self._proc

    async def _check_version(self, reported: object, *, failure: BaseException | None = None) -> None:
        """Raise OpenCodeTooOld for a version kimaki cannot work with (chained to `failure`, the
        start error it explains, if any); log a newer-than-tested one once."""
        result = await judge_version(reported, self._binary, self._env)
        if failure is not None and result.ok:
            return  # the start failed for another reason; report that one
        if result != self.version and result.message:
            log_at = log.error if not result.ok else log.warning
            log_at("%s", result.message + ("" if result.ok else f" {OpenCodeTooOld.hint}"))
        self.version = result
        if not result.ok:
            raise OpenCodeTooOld(result.message) from failure

    async def _poll_health(self, proc: ServeProcess, deadline: float) -> Health:
        last: Exception | None = None
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                await proc.join_readers()
                raise OpenCodeStartError(
                    f"OpenCode exited with code {proc.returncode} while starting.", self.output
                )
            try:
                timeout = min(self._request_timeout, max(deadline - time.monotonic(), 0.05))
                health = await self.client.health(timeout=timeout)
                if health.healthy:
                    return health
            except OpenCodeError as exc:
                last = exc
            await asyncio.sleep(0.1)
        raise OpenCodeStartError(
            f"OpenCode was not healthy within {self._health_timeout:g} s (last error: {last}).", self.output
        )

    # -- watching and restarting ----------------------------------------------------------

    async def _watch(self, proc: ServeProcess) -> None:
        while True:
            code = await proc.wait()
            await proc.join_readers()
            self.healthy = False
            log.warning("opencode (pid %s) exited unexpectedly with code %s", proc.pid, code)
            # Its tools were reparented when it died: they must not outlive it.
            if ended := end_marked(self._run_mark):
                log.warning("ended %d process(es) the crashed OpenCode had started", ended)
            restarted = await self._recover(f"OpenCode exited with code {code}")
            if restarted is None:
                return
            proc = restarted
            await self._run_restarted()

    async def _recover(self, reason: str) -> ServeProcess | None:
        """Restart with backoff until healthy; None when the crash budget is spent."""
        while True:
            now = time.monotonic()
            self._crashes.append(now)
            while self._crashes and now - self._crashes[0] > self._crash_window:
                self._crashes.popleft()
            if len(self._crashes) >= self._max_crashes:
                detail = (
                    f"OpenCode crashed {len(self._crashes)} times within {self._crash_window:g} s; "
                    f"gave up restarting. Last: {reason}"
                )
                self._fail(OpenCodeCrashLoop(f"{detail}\n" + "\n".join(list(self.output)[-30:])), detail)
                return None
            delay = min(self._backoff[0] * 2 ** (len(self._crashes) - 1), self._backoff[1])
            self._publish("restarting", f"{reason}; restarting in {delay:g} s")
            await asyncio.sleep(delay)
            try:
                proc = await self._start_once()
            except OpenCodeTooOld as exc:  # restarting cannot help
                self._fail(exc)
                return None
            except OpenCodeError as exc:
                reason = str(exc).splitlines()[0]
                continue
            self.healthy = True
            self._publish("healthy", "restarted")
            return proc

    async def _run_restarted(self) -> None:
        for callback in list(self.on_restarted):
            try:
                await callback()
            except Exception:  # one subscriber's bug must not stop the others hearing of it
                log.exception("on_restarted callback %r failed", callback)

    # -- stopping -------------------------------------------------------------------------

    async def _shutdown(self) -> None:
        for task in (self._start_task, self._watch_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, OpenCodeError):
                    await task
        self._start_task = self._watch_task = None
        if self._proc is not None:
            await self._proc.kill(grace=self._stop_timeout)
        self.healthy, self.port = False, None
        self._notify()

    # -- status ---------------------------------------------------------------------------

    def _fail(self, error: OpenCodeError, detail: str | None = None, *, loud: bool = True) -> None:
        self._failure = error
        self.healthy = False
        reason = detail or str(error).splitlines()[0]
        if loud:  # a running kimaki can answer nothing from now on: say so, not only in the status
            log.error("OpenCode is given up on, kimaki cannot answer until restarted: %s", reason)
        self._publish("failed", reason)

    def _publish(self, state: Any, detail: str = "") -> None:
        warning = self.version.short if self.version is not None and self.version.ok else ""
        self.status = ServerStatus(state, port=self.port, detail=detail, pid=self.pid, warning=warning)
        self._notify()
        for listener in list(self._status_listeners):
            try:
                listener(self.status)
            except Exception:  # one subscriber's bug must not stop the others hearing of it
                log.exception("on_status callback failed")

    def add_status_listener(self, listener: Callable[[ServerStatus], None]) -> None:
        """Also tell `listener` about every status change (e.g. a runtime built after start)."""
        self._status_listeners.append(listener)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()


def _retrieve(task: asyncio.Task[None]) -> None:
    """Mark a background start's error as seen: `wait_healthy` reports it, not the loop."""
    if not task.cancelled():
        task.exception()
