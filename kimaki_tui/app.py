"""Run kimaki: one asyncio loop owning the lock port, the runtime, the Discord bot and (on a
terminal) the control center, until Ctrl+C, SIGTERM, quitting the TUI, or SIGUSR2 (restart).

Start-up errors the user can fix (no token, another instance, OpenCode missing or never healthy,
a rejected token) become one clear message and a non-zero exit code, never a traceback.
Shutdown runs in reverse order: control center, bot, runtime (event stream, core, OpenCode,
store), lock port. SIGUSR2 does the same and then re-executes kimaki with the same arguments;
queued messages are in the database, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kimaki_tui.config import Settings, app_id_from_token

if TYPE_CHECKING:
    from kimaki_tui.bot.runner import BotWorker
    from kimaki_tui.control_api import InstanceStatus
    from kimaki_tui.core.events import ChatStatus
    from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
    from kimaki_tui.runtime import Runtime
    from kimaki_tui.scheduling.request import PostedStarter, SendRequest
    from kimaki_tui.scheduling.scheduler import TaskScheduler

log = logging.getLogger(__name__)

NO_TOKEN = (
    "kimaki: no Discord bot token. Set KIMAKI_BOT_TOKEN to your bot's token "
    "(Developer Portal → your application → Bot → Reset Token), or run `kimaki setup` in a terminal."
)
RESTART = 75  # internal: the loop ended for a SIGUSR2 restart


@dataclass(frozen=True, slots=True)
class RunOptions:
    tui: bool = False
    replace: bool = False
    allow_secrets_file: bool = False
    reset_database: bool = False  # --reset-database: move the database aside (once the lock is held)
    restart_onboarding: bool = False
    add_channels: bool = False
    # `kimaki demo`: OpenCode's env (an isolated offline config), and the front end to run
    # instead of the control center or the headless wait (it returns the exit code).
    opencode_env: Mapping[str, str] | None = None
    front: Callable[[Session], Awaitable[int]] | None = None


def run(settings: Settings, options: RunOptions | None = None) -> int:
    from kimaki_tui.logs import register_secret
    from kimaki_tui.secrets import SecretStore

    options = options or RunOptions(tui=not settings.no_tui)
    if not options.reset_database:
        from kimaki_tui.store.db import check_database_file

        check_database_file(settings.db_path)  # a damaged database fails before OpenCode starts
    secrets = SecretStore(settings.data_dir, allow_file=options.allow_secrets_file)
    if secrets.warning:
        log.warning("%s", secrets.warning)
        if not options.tui:
            _tell(f"kimaki: {secrets.warning}")
    token = secrets.get_bot_token()
    if not token and not options.tui:
        _tell(NO_TOKEN)
        return 2
    register_secret(token)
    try:
        code = asyncio.run(_main(settings, token, options))
    except KeyboardInterrupt:
        return 130
    if code == RESTART:
        log.info("restarting in place (SIGUSR2)")
        os.execv(sys.executable, [sys.executable, "-m", "kimaki_tui", *sys.argv[1:]])
    return code


class Session:
    """Everything one run owns, with the status the lock port reports."""

    def __init__(self, settings: Settings, runtime: Runtime, stop: asyncio.Event) -> None:
        self.settings = settings
        self.runtime = runtime
        self.stop = stop
        self.worker: BotWorker | None = None
        self.bot_task: asyncio.Task[None] | None = None
        self.scheduler: TaskScheduler | None = None
        self.allow_secrets_file = False  # --secrets-file: keys set from Discord may go to the file

    def start_bot(self, token: str) -> None:
        from kimaki_tui.bot.options import BotOptions
        from kimaki_tui.bot.runner import BotWorker

        if self.bot_task is not None and not self.bot_task.done():
            return
        options = BotOptions(
            app_id=app_id_from_token(token),
            data_dir=self.settings.data_dir,
            projects_dir=self.settings.projects_dir,
            guild_ready_timeout=0.5,
            allow_secrets_file=self.allow_secrets_file,
        )
        self.worker = BotWorker(self.runtime.core, token, options)
        self.bot_task = asyncio.create_task(self.worker.run(), name="discord-bot")

    async def stop_bot(self) -> None:
        if self.bot_task is not None:
            self.bot_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.bot_task

    def status(self) -> InstanceStatus:
        from kimaki_tui.control_api import InstanceStatus

        discord = self.worker.status if self.worker else None
        server = self.runtime.server_status
        return InstanceStatus(
            discord_state=discord.state if discord else "stopped",
            guilds=discord.guilds if discord else 0,
            opencode_state=server.state,
            opencode_port=self.runtime.supervisor.port,
            active_sessions=sum(1 for s in self.runtime.core.conversations.all() if s.state != "idle"),
        )

    def opencode(self) -> dict[str, object] | None:
        supervisor = self.runtime.supervisor
        if supervisor.base_url is None:
            return None
        return {"url": supervisor.base_url, "username": "opencode", "password": supervisor.password}

    async def tasks_changed(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.sync()

    async def submit_task(self, request: SendRequest) -> PostedStarter:
        """The scheduler's TaskSubmitter: the bot's (imported when a task is due, so discord.py
        still loads after the dashboard is drawn)."""
        from kimaki_tui.bot.scheduled import BotTaskSubmitter

        submitter = BotTaskSubmitter(lambda: self.worker.bot if self.worker is not None else None)
        return await submitter.submit_task(request)

    def guilds_changed(self) -> None:
        """`kimaki guild allow|deny` wrote the database: the bot follows (commands at once)."""
        self.runtime.core.guilds.reload()

    def sessions(self) -> list[dict[str, object]]:
        return [
            {"thread_id": s.thread_id, "session_id": s.session_id, "directory": s.directory, "state": s.state}
            for s in self.runtime.core.conversations.all()
        ]


async def _main(settings: Settings, token: str | None, options: RunOptions) -> int:
    from kimaki_tui.control_api import ControlActions
    from kimaki_tui.instance import InstanceError, InstanceLock
    from kimaki_tui.opencode.supervisor import OpenCodeSupervisor

    # OpenCode takes ~2 s to start: spawn it first so everything below overlaps with it.
    supervisor = OpenCodeSupervisor(env=options.opencode_env)
    starting = supervisor.start_background()
    # Let the spawn actually happen before the (synchronous) imports below.
    for _ in range(200):
        if supervisor.pid is not None or starting.done():
            break
        await asyncio.sleep(0.001)

    stop = asyncio.Event()
    restart = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def restart_in_place() -> None:
        restart.set()
        stop.set()

    loop.add_signal_handler(signal.SIGUSR2, restart_in_place)
    holder: list[Session] = []
    lock = InstanceLock(
        settings.data_dir,
        lambda: holder[0].status() if holder else _starting(),
        actions=ControlActions(
            sessions=lambda: holder[0].sessions() if holder else [],
            opencode=lambda: holder[0].opencode() if holder else None,
            tasks_changed=lambda: holder[0].tasks_changed() if holder else None,
            guilds_changed=lambda: holder[0].guilds_changed() if holder else None,
            shutdown=stop.set,
        ),
    )
    try:
        await lock.acquire(replace=options.replace)
    except InstanceError as exc:
        await supervisor.aclose()
        _tell(f"kimaki: {exc}")
        return 1
    except BaseException:
        await supervisor.aclose()
        raise
    try:
        runtime = _open_runtime(settings, supervisor, reset_database=options.reset_database)
    except BaseException:
        await supervisor.aclose()
        await lock.release()
        raise
    try:
        async with runtime:
            session = Session(settings, runtime, stop)
            session.allow_secrets_file = options.allow_secrets_file
            holder.append(session)
            if token and not (options.tui and options.front is None):
                # With the control center, the bot starts once the dashboard is drawn (tui_wiring).
                session.start_bot(token)
            await _start_scheduler(session)
            try:
                if options.front is not None:
                    code = await options.front(session)
                elif options.tui:
                    from kimaki_tui.tui_wiring import run_tui

                    code = await run_tui(session, token, options)
                else:
                    code = await _headless(session)
            finally:
                if session.scheduler is not None:
                    await session.scheduler.stop()
                await session.stop_bot()
    finally:
        await lock.release()
    return RESTART if restart.is_set() else code


def _open_runtime(settings: Settings, supervisor: OpenCodeSupervisor, *, reset_database: bool) -> Runtime:
    """The runtime (it opens the database). Only now that this process holds the lock port may
    `--reset-database` move the database aside: no other kimaki is using it."""
    from kimaki_tui.runtime import Runtime
    from kimaki_tui.store.db import set_database_aside

    if reset_database:
        aside = set_database_aside(settings.db_path)
        if aside is not None:
            _tell(f"kimaki: moved the database aside to {aside}; starting with an empty one.")
    return Runtime(settings, supervisor=supervisor)


async def _start_scheduler(session: Session) -> None:
    """Scheduled tasks (`kimaki send --send-at`) from the shared store, sent by the bot when due."""
    from kimaki_tui.core.events import ChatStatus
    from kimaki_tui.scheduling.scheduler import TaskScheduler

    scheduler = TaskScheduler(session.runtime.store, session)
    session.scheduler = scheduler
    session.runtime.core.tasks.use_timers(scheduler)
    pending: set[asyncio.Task[None]] = set()

    def follow(event: object) -> None:
        # Send only while connected: the bot posts the starter and starts the thread.
        if isinstance(event, ChatStatus) and (event.state == "connected") != scheduler.online:
            task = asyncio.create_task(scheduler.set_online(event.state == "connected"))
            pending.add(task)
            task.add_done_callback(pending.discard)

    session.runtime.core.bus.add_callback(follow)
    await scheduler.start(online=session.worker is not None and session.worker.status.state == "connected")


def _starting() -> InstanceStatus:
    from kimaki_tui.control_api import InstanceStatus

    return InstanceStatus(discord_state="connecting", opencode_state="starting")


async def _headless(session: Session) -> int:
    from kimaki_tui.opencode.errors import OpenCodeError

    runtime = session.runtime
    try:
        await runtime.wait_ready(timeout=None)
    except OpenCodeError as exc:
        log.error("OpenCode could not start: %s", exc)
        _tell(f"kimaki: {exc}" + (f"\n{exc.hint}" if exc.hint else ""))
        return 1
    log.info("OpenCode ready on port %s", runtime.supervisor.port)
    assert session.worker is not None and session.bot_task is not None
    stopper = asyncio.create_task(session.stop.wait())
    try:
        await _announce_ready(session, {stopper, session.bot_task})
        await asyncio.wait({stopper, session.bot_task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if session.worker.status.state == "failed":
        _tell(f"kimaki: {session.worker.status.detail}")
        return 1
    log.info("stopping")
    return 0


async def _announce_ready(session: Session, stoppers: set[asyncio.Task[object]]) -> None:
    """Say "ready" once Discord is connected too (the headless user's sign that all is up)."""
    from kimaki_tui.core.events import ChatStatus

    worker = session.worker
    assert worker is not None
    changed = asyncio.Event()

    def watch(event: object) -> None:
        if isinstance(event, ChatStatus) and event.state in ("connected", "failed"):
            changed.set()

    unsubscribe = session.runtime.core.bus.add_callback(watch)
    try:
        if worker.status.state != "connected":
            waiter = asyncio.create_task(changed.wait())
            await asyncio.wait({waiter, *stoppers}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
    finally:
        unsubscribe()
    status = worker.status
    if status.state == "connected":
        port = session.runtime.supervisor.port
        log.info("ready: Discord connected as %s in %d server(s)", status.user, status.guilds)
        _tell(f"kimaki: ready — Discord: {status.user} in {status.guilds} server(s); OpenCode on port {port}")
        _warn_access(session, status)


def _warn_access(session: Session, status: ChatStatus) -> None:
    """Headless start-up warnings about who can reach the bot (the control center shows them in its
    status bar and as notices; the bot logs them)."""
    from kimaki_tui.setup.guide import PUBLIC_BOT

    if status.public_bot:  # the bot logged it at login
        _tell(f"kimaki: warning: {PUBLIC_BOT}")
    pending = session.runtime.core.guilds.pending()
    if pending:
        names = ", ".join(f"{g.name} ({g.guild_id})" for g in pending)
        _tell(f"kimaki: {len(pending)} server(s) waiting for your approval: {names} (kimaki guild allow ID)")


def _tell(message: str) -> None:
    """Headless status for the person at the terminal (only before or without the TUI)."""
    print(message, file=sys.stderr, flush=True)
