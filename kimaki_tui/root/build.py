"""Everything one run owns, built once and in order: settings and secrets (given) → store → OpenCode
supervisor (given, already starting) → core → event stream → task scheduler → Discord bot worker
(started on demand, so discord.py loads after the control center is drawn). `close()` stops them
in reverse. Front ends get what they need from here as constructor arguments.

`Services` also answers the lock port's questions (status, sessions, where OpenCode listens) and
its requests (tasks or server decisions changed in the database).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from kimaki_tui.control_api import ControlActions, InstanceStatus, JSONObject
from kimaki_tui.core.bus import EventBus
from kimaki_tui.core.events import ChatStatus
from kimaki_tui.core.sandboxes import SandboxService
from kimaki_tui.core.service import Core
from kimaki_tui.core.turn_routing import JudgeOptions
from kimaki_tui.core.workflows import SkillFilter
from kimaki_tui.errors import KimakiError
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.injection_guard import guard_files
from kimaki_tui.opencode.schema import ModelRef
from kimaki_tui.opencode.status import ServerStatus
from kimaki_tui.opencode.stream import EventStream
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.root.task_gate import CoreTaskGate
from kimaki_tui.scheduling.scheduler import TaskScheduler
from kimaki_tui.secrets import SecretStore
from kimaki_tui.settings import Settings
from kimaki_tui.store.db import LOOP_LOCK_WAIT_MS
from kimaki_tui.store.repo import Store

if TYPE_CHECKING:
    from kimaki_tui.agent_tools.server import AgentToolServer
    from kimaki_tui.bot.client import KimakiBot
    from kimaki_tui.bot.runner import BotWorker
    from kimaki_tui.opencode.events import Event
    from kimaki_tui.root.agent_tools import AgentEndpoint
    from kimaki_tui.sandbox.api import SandboxBackend
    from kimaki_tui.scheduling.request import PostedStarter, SendRequest

log = logging.getLogger(__name__)


class Services:
    """`async with Services(settings, secrets, supervisor):` — started, then closed in reverse."""

    def __init__(
        self,
        settings: Settings,
        secrets: SecretStore,
        supervisor: OpenCodeSupervisor,
        *,
        stop: asyncio.Event | None = None,
        agent_endpoint: AgentEndpoint | None = None,
        chat_expected: bool = False,
        settle_heap: Callable[[], None] | None = None,
    ) -> None:
        """`settle_heap`: called each time Discord (re)connects: start-up, or a reconnection's
        rebuilt caches, is over by then."""
        self.settings = settings
        self._settle_heap = settle_heap
        self._discord_online = False
        self._chat_expected = chat_expected  # a bot will start: queues left over wait for it
        self.secrets = secrets
        self.supervisor = supervisor
        self.stop = stop or asyncio.Event()  # set: the run ends (a signal, the control API, the TUI)
        self.bus = EventBus()
        self.store = Store.open(settings.db_path, lock_wait_ms=LOOP_LOCK_WAIT_MS)
        self.server_status = supervisor.status
        supervisor.add_status_listener(self._on_server_status)
        self._sweep_task: asyncio.Task[None] | None = None
        self._sandboxes: SandboxService | None = None
        self.core = Core(
            client=self._core_client(settings, supervisor),
            store=self.store,
            bus=self.bus,
            wait_stream=self._wait_stream,
            options=settings.sessions,
            release_idle_after=settings.opencode.release_idle_after,
            skills=SkillFilter(
                enabled=frozenset(settings.discord.enable_skill),
                disabled=frozenset(settings.discord.disable_skill),
            ),
            sandboxes=self._sandboxes,
            injection_guard=guard_files(supervisor.environment),
            turn_judge=turn_judge_options(settings),
        )
        self.core.server.use_restart(supervisor.restart)
        self.core.server.report(self.server_status)
        self.scheduler = TaskScheduler(
            self.store, self, gate=CoreTaskGate(self.core), pre_run_timeout=settings.tasks.pre_run_timeout
        )
        self.core.tasks.use_timers(self.scheduler)
        self.agent_tools: AgentToolServer | None = None
        self._observe_tool_calls: Callable[[Event], None] | None = None
        self._tools_task: asyncio.Task[None] | None = None
        if agent_endpoint is not None:
            self._build_agent_tools(agent_endpoint)
        self.stream = EventStream(supervisor.client, self._handle_event, on_connect=self.core.resync)
        self.worker: BotWorker | None = None
        self.bot_task: asyncio.Task[None] | None = None
        self._stream_task: asyncio.Task[None] | None = None
        self._release_task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        loaded = self.core.start()
        if self._chat_expected:
            self.core.chat_delivery.expect()
        log.info("loaded %d thread mapping(s) from %s", loaded, self.settings.db_path)
        threads = ((view.thread_id, view.directory) for view in self.core.conversations.all())
        if adopted := await self.core.sandboxes.adopt(threads):
            log.info("%d sandboxed thread(s) found paused from an earlier run", adopted)
        self.supervisor.on_restarted.append(self._server_restarted)
        self.supervisor.start_background()
        self._stream_task = asyncio.create_task(self._run_stream(), name="opencode-events")
        self._release_task = asyncio.create_task(self.core.instances.run(), name="release-idle-projects")
        if self._sandboxes is not None:
            self._sweep_task = asyncio.create_task(self._sandboxes.run(), name="sandbox-sweep")
        self.bus.add_callback(self._follow_discord)
        await self.scheduler.start(online=False)
        if self.agent_tools is not None:
            starting = self._start_agent_tools(self.agent_tools)
            self._tools_task = asyncio.create_task(starting, name="kimaki-mcp")

    async def close(self) -> None:
        await self.scheduler.stop()
        await self.stop_bot()
        await _finish(self._stream_task, "the OpenCode event stream")
        await _finish(self._release_task, "releasing idle OpenCode projects")
        await _finish(self._sweep_task, "pausing idle sandboxes")
        await self.core.close()
        await self.supervisor.aclose()
        await _finish(self._tools_task, "starting the kimaki MCP server")
        if self.agent_tools is not None:  # after OpenCode, whose MCP connections it would wait for
            await self.agent_tools.stop()
        self.store.close()

    async def __aenter__(self) -> Services:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def wait_ready(self, timeout: float | None = 60.0) -> None:
        """OpenCode healthy and the event stream connected (raises the supervisor's error if it gave up)."""
        await self.supervisor.wait_healthy(timeout)
        await self._wait_stream(timeout)

    # -- the Discord bot --------------------------------------------------------------------------

    def start_bot(self, token: str) -> None:
        """Start the bot worker (imports discord.py: call it once the control center is drawn)."""
        from kimaki_tui.bot.runner import BotWorker

        if self.bot_task is not None and not self.bot_task.done():
            return
        self.worker = BotWorker(self.core, token, self.settings, self.secrets)
        self.bot_task = asyncio.create_task(self.worker.run(), name="discord-bot")

    async def stop_bot(self) -> None:
        await _finish(self.bot_task, "the Discord bot worker")

    @property
    def discord_status(self) -> ChatStatus:
        return self.worker.status if self.worker is not None else ChatStatus("stopped")

    async def submit_task(self, request: SendRequest) -> PostedStarter:
        """The scheduler's TaskSubmitter: the bot's (imported when a task is due, so discord.py
        still loads after the control center is drawn)."""
        from kimaki_tui.bot.scheduled import BotTaskSubmitter

        submitter = BotTaskSubmitter(lambda: self.worker.bot if self.worker is not None else None)
        return await submitter.submit_task(request)

    # -- sandboxes --------------------------------------------------------------------------------

    def _core_client(self, settings: Settings, supervisor: OpenCodeSupervisor) -> OpenCodeClient:
        """The shared server's client, or one routing each sandboxed worktree to its sandbox: with
        `--sandbox bwrap` or `podman`, and with `none` too where bubblewrap is installed, so
        `/sandbox bwrap` can sandbox one channel's new threads (routing adds nothing to other calls)."""
        from kimaki_tui.sandbox.registry import ServerRegistry
        from kimaki_tui.sandbox.routing import RoutedClient

        backend = sandbox_backend(settings, supervisor)
        if backend is None:
            return supervisor.client
        registry = ServerRegistry(backend)
        client = RoutedClient(supervisor.client, registry)
        self._sandboxes = SandboxService(
            self.store, settings.sandbox, settings.data_dir, registry=registry, client=client
        )
        return client

    # -- the lock port ----------------------------------------------------------------------------

    def instance_status(self) -> InstanceStatus:
        discord = self.discord_status
        return InstanceStatus(
            discord_state=discord.state,
            guilds=discord.guilds,
            opencode_state=self.server_status.state,
            opencode_port=self.supervisor.port,
            active_sessions=sum(1 for s in self.core.conversations.all() if s.state != "idle"),
        )

    def control_actions(self) -> ControlActions:
        return ControlActions(
            sessions=self.sessions,
            opencode=self.opencode_access,
            tasks_changed=self.scheduler.sync,
            guilds_changed=self.guilds_changed,
            commands_sync=self.commands_sync,
            bot_status_changed=self.bot_status_changed,
            shutdown=self.stop.set,
        )

    async def commands_sync(self) -> int | None:
        """`kimaki commands sync`: the servers' commands follow OpenCode's workflows now."""
        bot = self.worker.bot if self.worker is not None else None
        if bot is None or not bot.is_ready():
            return None
        return await bot.guild_keeper.refresh_commands()

    def guilds_changed(self) -> None:
        """`kimaki guild allow|deny` wrote the database: the bot follows (commands at once)."""
        self.core.guilds.reload()

    async def bot_status_changed(self) -> None:
        """`kimaki bot status set|clear` wrote the chosen status: show it (or at the next connect)."""
        from kimaki_tui.bot.presence import show_bot_status

        bot = self.worker.bot if self.worker is not None else None
        if bot is not None:
            await show_bot_status(bot)

    def sessions(self) -> list[JSONObject]:
        return [
            {"thread_id": s.thread_id, "session_id": s.session_id, "directory": s.directory, "state": s.state}
            for s in self.core.conversations.all()
        ]

    def opencode_access(self) -> JSONObject | None:
        """Where this run's OpenCode listens, with its password (for `kimaki session read`)."""
        if self.supervisor.base_url is None:
            return None
        return {"url": self.supervisor.base_url, "username": "opencode", "password": self.supervisor.password}

    # -- the agent's Discord tools ----------------------------------------------------------------

    def _build_agent_tools(self, endpoint: AgentEndpoint) -> None:
        from kimaki_tui.root.agent_tools import build_agent_tools, tool_limits

        def current_bot() -> KimakiBot | None:
            return self.worker.bot if self.worker is not None else None

        server, tracker = build_agent_tools(
            self.core, self.scheduler, current_bot, endpoint, tool_limits(self.settings.agent_tools)
        )
        self.agent_tools, self._observe_tool_calls = server, tracker.observe

    async def _start_agent_tools(self, server: AgentToolServer) -> None:
        """In the background, its libraries imported in a thread (about 0.45 s that must not hold up
        the control center's first screen). Without it the run goes on, minus the Discord tools."""
        from kimaki_tui.agent_tools.server import import_libraries

        try:
            await asyncio.to_thread(import_libraries)
            await server.start()
        except (OSError, RuntimeError):
            log.exception("the kimaki MCP server did not start; the agent has no Discord tools")
            self.agent_tools = None

    def _handle_event(self, event: Event) -> None:
        self.core.handle_event(event)
        if self._observe_tool_calls is not None:
            self._observe_tool_calls(event)

    # -- internals --------------------------------------------------------------------------------

    async def _run_stream(self) -> None:
        await self.supervisor.wait_healthy()
        await self.stream.run()

    async def _wait_stream(self, timeout: float | None = 30.0) -> None:
        if not await self.stream.wait_connected(timeout):
            log.warning("OpenCode event stream not connected after %ss; sending anyway", timeout)

    async def _server_restarted(self) -> None:
        await self.core.server_restarted()
        self.stream.reconnect_now()

    def _on_server_status(self, status: ServerStatus) -> None:
        self.server_status = status
        self.core.server.report(status)

    def _follow_discord(self, event: object) -> None:
        """Scheduled sends go out only while the bot is connected (it posts the starter)."""
        if not isinstance(event, ChatStatus):
            return
        online = event.state == "connected"
        if online and not self._discord_online and self._settle_heap is not None:
            self._settle_heap()
        self._discord_online = online
        if online != self.scheduler.online:
            task = asyncio.create_task(self.scheduler.set_online(online))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)


async def _finish(task: asyncio.Task[None] | None, what: str) -> None:
    """Cancel a background task and wait for its end. Shutting down is a boundary: a failure it
    ended with is logged with its traceback, and the rest still closes (OpenCode must not linger)."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    except Exception:  # shutting down: report it, and close the rest
        log.exception("%s failed", what)


def turn_judge_options(settings: Settings) -> JudgeOptions:
    """What `ai` turn routing asks, from the settings (the model was checked when they loaded)."""
    discord = settings.discord
    model = ModelRef.parse(discord.turn_routing_model) if discord.turn_routing_model else None
    return JudgeOptions(model=model, timeout=discord.turn_routing_timeout)


def sandbox_backend(settings: Settings, supervisor: OpenCodeSupervisor) -> SandboxBackend | None:
    """The machine's one sandbox backend: podman with `--sandbox podman` (which must be installed),
    else bubblewrap where it is installed (or asked for: its absence is then said per thread)."""
    import shutil

    env, log_level = supervisor.environment, settings.opencode.log_level
    if settings.sandbox.mode == "podman":
        from kimaki_tui.sandbox.podman import CONTAINERFILE, PodmanBackend

        if shutil.which("podman") is None:
            raise KimakiError(
                "--sandbox podman needs podman, which is not installed here.",
                f"Install podman and build the image: podman build -t {settings.sandbox.image} "
                f"-f {CONTAINERFILE} . — or use --sandbox bwrap.",
            )
        return PodmanBackend(image=settings.sandbox.image, env=env, log_level=log_level)
    if settings.sandbox.mode == "none" and shutil.which("bwrap") is None:
        return None
    from kimaki_tui.sandbox.bwrap import BwrapBackend

    return BwrapBackend(binary=supervisor.binary, env=env, log_level=log_level)
