"""The lock port's HTTP face: /healthz and /readyz for anyone on this machine, and a small control API
(bearer token from a 0600 file in the data dir) that CLI subcommands and `--replace` use.

Status and actions are injected, so this module knows nothing about the bot or the core. The client
half (`ControlClient`) is what other processes use to talk to a running kimaki.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import inspect
import logging
import os
import secrets
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kimaki_tui.errors import KimakiError
from kimaki_tui.private_files import open_private

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger(__name__)

SERVICE = "kimaki"
TOKEN_FILE = "control-token"
JSONObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class InstanceStatus:
    """What /healthz reports. Ready: Discord connected and OpenCode not given up on (after a crash
    loop kimaki cannot answer anyone, whatever Discord says)."""

    discord_state: str = "stopped"
    guilds: int = 0
    opencode_state: str = "stopped"
    opencode_port: int | None = None
    active_sessions: int = 0

    @property
    def ready(self) -> bool:
        return self.discord_state == "connected" and self.opencode_state != "failed"


StatusProvider = Callable[[], InstanceStatus]
Action = Callable[[], Awaitable[None] | None]


def _signal_self(signum: int) -> Action:
    def send() -> None:
        os.kill(os.getpid(), signum)

    return send


@dataclass(slots=True)
class ControlActions:
    """What the control API can make this process do.

    The defaults send this process the signals kimaki already handles cleanly: SIGTERM (shut down)
    and SIGUSR2 (restart in place), so the API works before anything else is wired in.
    """

    sessions: Callable[[], Awaitable[Sequence[JSONObject]] | Sequence[JSONObject]] | None = None
    # {"url", "username", "password"} of this instance's OpenCode server (for `kimaki session read`).
    opencode: Callable[[], JSONObject | None] | None = None
    # Scheduled tasks changed in the database (`kimaki send --send-at`, `kimaki task delete`).
    tasks_changed: Action | None = None
    # Server decisions changed in the database (`kimaki guild allow|deny`).
    guilds_changed: Action | None = None
    # Re-register the slash commands (OpenCode's workflows changed: `kimaki commands sync`); the
    # number of servers they were sent to, None while the Discord bot is not connected.
    commands_sync: Callable[[], Awaitable[int | None]] | None = None
    # The chosen bot status changed (`kimaki bot status set|clear`): show it now.
    bot_status_changed: Action | None = None
    shutdown: Action = field(default_factory=lambda: _signal_self(signal.SIGTERM))
    restart: Action = field(default_factory=lambda: _signal_self(signal.SIGUSR2))


# -- token file -----------------------------------------------------------------------------------


def token_path(data_dir: Path) -> Path:
    return Path(data_dir) / TOKEN_FILE


def new_token() -> str:
    return secrets.token_urlsafe(32)


def write_token(data_dir: Path, token: str) -> None:
    """Write `<data-dir>/control-token`, created with mode 0600 (only by the instance holding the port)."""
    path = token_path(data_dir)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # a file left by a crash may have other modes; start from nothing
    with os.fdopen(open_private(path, exclusive=True), "w", encoding="ascii") as handle:
        handle.write(token)


def read_token(data_dir: Path) -> str | None:
    try:
        return token_path(data_dir).read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def remove_token(data_dir: Path, token: str) -> None:
    """Delete the token file if it still holds `token` (a successor may have written its own)."""
    if read_token(data_dir) == token:
        with contextlib.suppress(FileNotFoundError):
            token_path(data_dir).unlink()


# -- server ---------------------------------------------------------------------------------------


def build_app(
    *,
    status: StatusProvider,
    actions: ControlActions,
    token: str,
    data_dir: Path,
    started: float | None = None,
) -> web.Application:
    """The aiohttp application served on the lock port."""
    from aiohttp import web

    handlers = _Handlers(status, actions, data_dir, time.monotonic() if started is None else started)
    expected = f"Bearer {token}".encode()

    @web.middleware
    async def auth(request: web.Request, handler: Any) -> web.StreamResponse:
        given = request.headers.get("Authorization", "").encode()
        if request.path.startswith("/api/") and not hmac.compare_digest(given, expected):
            return web.json_response({"error": "unauthorized"}, status=401)
        response: web.StreamResponse = await handler(request)
        return response

    app = web.Application(middlewares=[auth])
    app.router.add_get("/healthz", handlers.healthz)
    app.router.add_get("/readyz", handlers.readyz)
    app.router.add_get("/api/sessions", handlers.sessions)
    app.router.add_get("/api/opencode", handlers.opencode)
    app.router.add_post("/api/tasks/sync", handlers.tasks_changed)
    app.router.add_post("/api/guilds/sync", handlers.guilds_changed)
    app.router.add_post("/api/commands/sync", handlers.commands_sync)
    app.router.add_post("/api/bot/status", handlers.bot_status_changed)
    app.router.add_post("/api/shutdown", handlers.later(actions.shutdown, "shutdown"))
    app.router.add_post("/api/restart", handlers.later(actions.restart, "restart"))
    return app


class _Handlers:
    def __init__(
        self, status: StatusProvider, actions: ControlActions, data_dir: Path, started: float
    ) -> None:
        self.status, self.actions = status, actions
        self.data_dir, self.started = data_dir, started
        self.background: set[asyncio.Task[None]] = set()

    async def healthz(self, request: web.Request) -> web.Response:
        from aiohttp import web

        now = self.status()
        body = {
            "ok": True,
            "service": SERVICE,
            "pid": os.getpid(),
            "data_dir": str(self.data_dir),
            "uptime_s": round(time.monotonic() - self.started, 3),
            "discord": {"state": now.discord_state, "guilds": now.guilds},
            "opencode": {"state": now.opencode_state, "port": now.opencode_port},
            "active_sessions": now.active_sessions,
        }
        return web.json_response(body)

    async def readyz(self, request: web.Request) -> web.Response:
        from aiohttp import web

        now = self.status()
        body = {"ready": now.ready, "discord": now.discord_state, "opencode": now.opencode_state}
        return web.json_response(body, status=200 if now.ready else 503)

    async def sessions(self, request: web.Request) -> web.Response:
        from aiohttp import web

        if self.actions.sessions is None:
            return web.json_response({"error": "sessions are not available yet"}, status=503)
        result = self.actions.sessions()
        rows = await result if inspect.isawaitable(result) else result
        return web.json_response({"sessions": list(rows)})

    async def opencode(self, request: web.Request) -> web.Response:
        from aiohttp import web

        info = self.actions.opencode() if self.actions.opencode is not None else None
        if info is None:
            return web.json_response({"error": "OpenCode is not running"}, status=503)
        return web.json_response(info)

    async def tasks_changed(self, request: web.Request) -> web.Response:
        return await self._run_now(self.actions.tasks_changed, "no task scheduler is running")

    async def guilds_changed(self, request: web.Request) -> web.Response:
        return await self._run_now(self.actions.guilds_changed, "kimaki is still starting")

    async def commands_sync(self, request: web.Request) -> web.Response:
        from aiohttp import web

        servers = await self.actions.commands_sync() if self.actions.commands_sync is not None else None
        if servers is None:
            return web.json_response({"error": "the Discord bot is not connected"}, status=503)
        return web.json_response({"ok": True, "servers": servers})

    async def bot_status_changed(self, request: web.Request) -> web.Response:
        return await self._run_now(self.actions.bot_status_changed, "the Discord bot is not connected")

    async def _run_now(self, action: Action | None, unavailable: str) -> web.Response:
        from aiohttp import web

        if action is None:
            return web.json_response({"error": unavailable}, status=503)
        result = action()
        if inspect.isawaitable(result):
            await result
        return web.json_response({"ok": True})

    def later(self, action: Action, what: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        """A handler that answers 202 at once and runs `action` after (it may stop this server)."""
        from aiohttp import web

        async def handle(request: web.Request) -> web.Response:
            log.info("control API: %s requested", what)
            task = asyncio.create_task(_run_action(action, what))
            self.background.add(task)
            task.add_done_callback(self.background.discard)
            return web.json_response({"ok": True, "action": what}, status=202)

        return handle


async def _run_action(action: Action, what: str) -> None:
    await asyncio.sleep(0.05)  # let the 202 reach the caller first
    try:
        result = action()
        if inspect.isawaitable(result):
            await result
    except Exception:  # runs after the 202: nobody else can hear of the failure
        log.exception("control API: %s failed", what)


# -- client ---------------------------------------------------------------------------------------


class ControlError(KimakiError):
    """The running kimaki could not be reached or refused the request."""


@dataclass(frozen=True, slots=True)
class ControlClient:
    """Talks to the kimaki holding a lock port (health without a token, the API with one)."""

    port: int
    token: str | None = None
    timeout: float = 3.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def health(self) -> JSONObject | None:
        """The /healthz body when a kimaki answers on the port, else None."""
        try:
            body = await self._call("GET", "/healthz", auth=False)
        except ControlError:
            return None
        if body.get("service") != SERVICE or not isinstance(body.get("pid"), int):
            return None
        return body

    async def sessions(self) -> list[JSONObject]:
        return list((await self._call("GET", "/api/sessions")).get("sessions", []))

    async def opencode(self) -> JSONObject:
        """The running OpenCode server's url and credentials."""
        return await self._call("GET", "/api/opencode")

    async def tasks_changed(self) -> None:
        await self._call("POST", "/api/tasks/sync")

    async def guilds_changed(self) -> None:
        await self._call("POST", "/api/guilds/sync")

    async def commands_sync(self) -> int:
        """Re-register the slash commands of every server; how many servers were checked."""
        return int((await self._call("POST", "/api/commands/sync")).get("servers", 0))

    async def bot_status_changed(self) -> None:
        await self._call("POST", "/api/bot/status")

    async def shutdown(self) -> None:
        await self._call("POST", "/api/shutdown")

    async def restart(self) -> None:
        await self._call("POST", "/api/restart")

    async def _call(self, method: str, path: str, *, auth: bool = True) -> JSONObject:
        import httpx

        headers = {"Authorization": f"Bearer {self.token}"} if auth and self.token else {}
        # trust_env=False: an HTTP(S)_PROXY must never see loopback traffic or the bearer token.
        async with httpx.AsyncClient(timeout=self.timeout, trust_env=False) as client:
            try:
                response = await client.request(method, self.base_url + path, headers=headers)
            except httpx.HTTPError as exc:
                raise ControlError(f"no answer on 127.0.0.1:{self.port} ({type(exc).__name__})") from None
        if response.status_code == 401:
            raise ControlError("the running kimaki refused the control token")
        if response.status_code >= 400:
            raise ControlError(f"{method} {path} failed with HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise ControlError(f"{method} {path}: not a kimaki answer") from None
        return body if isinstance(body, dict) else {}
