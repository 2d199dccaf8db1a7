"""The agent tools wired into a run: the ports `AgentToolkit` needs, implemented with this run's
core, scheduler and Discord bot, and the MCP server built on them.

- `CoreLocator`: a session's thread and directory, from the core's conversations.
- `SharedThreadActions`: buttons and upload prompts as core requests that the thread (through the
  bot connected at the time of the call) and the control center both show, first answer wins
  (while Discord is down, the control center alone; refused only when nobody could answer);
  files posted to the thread (discord.py is imported only when a tool runs).
- `TaskWakes`: `kimaki_sleep` as a one-shot scheduled task that prompts the thread, so the wake
  is in the database and survives a restart; a newer sleep of the same thread replaces it.
- `BotSessionStarter`: `kimaki_send` starts a thread in a project channel of the same server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from kimaki_tui.agent_tools.calls import CallTracker
from kimaki_tui.agent_tools.opencode_config import with_agent_tools
from kimaki_tui.agent_tools.ports import (
    Clicked,
    NoAnswer,
    OutgoingFile,
    SessionPlace,
    StartedSession,
    ToolRefused,
    Uploaded,
)
from kimaki_tui.agent_tools.server import PATH, AgentToolServer, reserve_listener
from kimaki_tui.agent_tools.toolkit import SERVER_NAME, AgentToolkit, ToolLimits
from kimaki_tui.core.events import ToolRequestResolved
from kimaki_tui.core.service import Core
from kimaki_tui.core.tool_requests import ToolRequestPlace
from kimaki_tui.opencode.config_content import CONFIG_CONTENT
from kimaki_tui.opencode.errors import OpenCodeError
from kimaki_tui.scheduling.request import SendRequest
from kimaki_tui.scheduling.when import Schedule

if TYPE_CHECKING:
    from kimaki_tui.bot.agent_requests import AgentRequests
    from kimaki_tui.bot.client import KimakiBot
    from kimaki_tui.scheduling.scheduler import TaskScheduler
    from kimaki_tui.settings import AgentToolSettings

PARENT_DEPTH = 5  # subagents of subagents…: how far up a calling session's parents are followed
log = logging.getLogger(__name__)
CurrentBot = Callable[[], "KimakiBot | None"]
WAKE_TASK_NAME = "kimaki_sleep"  # marks the scheduled tasks that are wakes (one per thread)
NOT_CONNECTED = "Discord is not connected right now; try again later."


@dataclass(frozen=True, slots=True)
class AgentEndpoint:
    """Where this run's MCP server will listen and its secret, known before OpenCode is spawned."""

    secret: str
    listener: socket.socket

    @classmethod
    def reserve(cls) -> AgentEndpoint:
        return cls(secrets.token_urlsafe(32), reserve_listener())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}{PATH}"

    def opencode_env(self, env: Mapping[str, str] | None, limits: ToolLimits) -> dict[str, str]:
        """`env` (OpenCode's extra environment) with the MCP server added to its config content."""
        extra = dict(env or {})
        base = {CONFIG_CONTENT: extra.get(CONFIG_CONTENT, os.environ.get(CONFIG_CONTENT, ""))}
        headers = {"Authorization": f"Bearer {self.secret}"}
        return {**extra, **with_agent_tools(base, self.url, headers, limits)}


def tool_limits(settings: AgentToolSettings) -> ToolLimits:
    """The tools' waits and sizes as the settings give them."""
    return ToolLimits(
        upload_timeout=settings.upload_timeout,
        buttons_timeout=settings.buttons_timeout,
        max_file_bytes=settings.max_send_file,
        longest_sleep=timedelta(days=settings.longest_sleep_days),
    )


def wake_prompt(reason: str) -> str:
    return f"⏰ Waking up (kimaki_sleep): {reason}"


class CoreLocator:
    """A session kimaki runs for a thread, or a subagent session under one (the `task` tool's
    child sessions, found by walking their parents in OpenCode): its interactions show in the
    thread of the session at the top."""

    def __init__(self, core: Core) -> None:
        self._core = core
        self._parents: dict[str, str | None] = {}  # session id → its parent's, as OpenCode said

    async def locate(self, session_id: str) -> SessionPlace | None:
        current: str | None = session_id
        for depth in range(PARENT_DEPTH):
            if current is None:
                return None
            view = self._core.conversations.for_session(current)
            if view is not None:
                return SessionPlace(session_id, view.thread_id, Path(view.directory), subagent=depth > 0)
            current = await self._parent(current)
        return None

    async def _parent(self, session_id: str) -> str | None:
        if session_id not in self._parents:
            try:
                info = await self._core.client.get_session(session_id)
            except OpenCodeError as exc:
                log.info("cannot read session %s to find its thread: %s", session_id, exc)
                return None
            self._parents[session_id] = info.parent_id
        return self._parents[session_id]


class SharedThreadActions:
    """Buttons and upload prompts are core requests (core.tool_requests) that the Discord thread and
    the control center both show; the first answer from either resolves the tool call, and the
    thread's message is settled however the request ended."""

    def __init__(self, core: Core, current_bot: CurrentBot) -> None:
        self._core = core
        self._current_bot = current_bot

    def _requests(self) -> AgentRequests | None:
        """The bot's side of the requests; None while Discord is down and the control center
        alone shows them; refused when nobody could answer."""
        bot = self._current_bot()
        if bot is not None and bot.is_ready():
            return bot.agent_requests
        if self._core.tool_requests.attended:
            return None
        raise ToolRefused(NOT_CONNECTED)

    async def ask_files(
        self, place: SessionPlace, prompt: str, max_files: int, timeout: float
    ) -> Uploaded | NoAnswer:
        resolved = await self._wait(place, "files", prompt, (), max_files, timeout)
        if resolved is None:
            return NoAnswer("timeout")
        return Uploaded(tuple(Path(p) for p in resolved.paths))

    async def offer_buttons(
        self, place: SessionPlace, prompt: str, labels: Sequence[str], timeout: float
    ) -> Clicked | NoAnswer:
        resolved = await self._wait(place, "buttons", prompt, labels, 0, timeout)
        if resolved is None or resolved.label is None:
            return NoAnswer("timeout")
        return Clicked(resolved.label)

    async def _wait(
        self,
        place: SessionPlace,
        kind: Literal["buttons", "files"],
        prompt: str,
        labels: Sequence[str],
        max_files: int,
        timeout: float,
    ) -> ToolRequestResolved | None:
        """Open the request, show it in the thread, and wait for its first answer (None: timeout)."""
        from kimaki_tui.bot.agent_requests import RequestFailed

        requests = self._requests()
        where = ToolRequestPlace(place.session_id, place.thread_id, str(place.directory))
        registry = self._core.tool_requests
        opened = registry.open(where, kind, prompt, labels=labels, max_files=max_files)
        request_id = opened.request.request_id
        message = None
        try:
            if requests is not None:
                message = await requests.show(opened.request)
        except RequestFailed as exc:
            registry.close(request_id, "cancelled")
            raise ToolRefused(str(exc)) from None
        try:
            async with asyncio.timeout(timeout):
                await asyncio.shield(opened.resolved)
        except TimeoutError:
            registry.close(request_id, "expired")
        except asyncio.CancelledError:
            registry.close(request_id, "cancelled")
            if requests is not None and message is not None:
                await requests.settle(message, opened.resolved.result())
            raise
        resolved = opened.resolved.result()  # an answer that beat the timeout by a hair still counts
        if requests is not None and message is not None:  # shown in the thread: take its buttons down
            await requests.settle(message, resolved)
        return resolved if resolved.outcome == "answered" else None

    async def send_file(self, place: SessionPlace, file: OutgoingFile) -> None:
        from kimaki_tui.bot.agent_requests import RequestFailed

        requests = self._requests()
        if requests is None:
            raise ToolRefused(NOT_CONNECTED)
        try:
            await requests.send_file(place.thread_id, file.name, file.data, file.caption)
        except RequestFailed as exc:
            raise ToolRefused(str(exc)) from None


class TaskWakes:
    def __init__(self, core: Core, scheduler: TaskScheduler) -> None:
        self._core = core
        self._scheduler = scheduler

    async def schedule_wake(self, place: SessionPlace, at: datetime, reason: str) -> None:
        tasks = self._core.tasks
        for task in tasks.all():
            payload = task.payload
            if payload.get("name") == WAKE_TASK_NAME and payload.get("target_id") == place.thread_id:
                tasks.delete(task.id)
        view = self._core.conversations.get(place.thread_id)
        request = SendRequest("thread", place.thread_id, wake_prompt(reason), name=WAKE_TASK_NAME)
        tasks.add(Schedule("at", at, run_at=at), request, channel_id=view.channel_id if view else None)
        await self._scheduler.sync()


class BotSessionStarter:
    """Targets: a project channel's id, its name (with or without #) or its project's folder name,
    in the calling thread's server (kimaki never reaches across servers for an agent)."""

    def __init__(self, core: Core, current_bot: CurrentBot) -> None:
        self._core = core
        self._current_bot = current_bot

    async def start_session(self, target: str, prompt: str, by: SessionPlace) -> StartedSession:
        from kimaki_tui.bot.scheduled import BotTaskSubmitter
        from kimaki_tui.bot.sends import SendFailed

        bot = self._current_bot()
        if bot is None or not bot.is_ready():
            raise ToolRefused(NOT_CONNECTED)
        channel_id, name = self._find(bot, target.strip().lstrip("#"), by)
        try:
            request = SendRequest("channel", channel_id, prompt)
            posted = await BotTaskSubmitter(lambda: bot).submit_task(request)
        except SendFailed as exc:
            raise ToolRefused(f"kimaki could not start the session: {exc}") from None
        return StartedSession(posted.thread_id, f"#{name}")

    def _find(self, bot: KimakiBot, target: str, by: SessionPlace) -> tuple[str, str]:
        caller = self._core.conversations.get(by.thread_id)
        home = bot.get_channel(int(caller.channel_id)) if caller is not None else None
        guild_id = str(getattr(getattr(home, "guild", None), "id", ""))
        names = []
        for link in self._core.projects.links(guild_id or None):
            channel = bot.get_channel(int(link.channel_id))
            name = getattr(channel, "name", link.channel_id)
            names.append(name)
            if target in (link.channel_id, name, Path(link.directory).name):
                if not self._core.guilds.allowed(link.guild_id):
                    raise ToolRefused(f"#{name} is on a server kimaki does not serve.")
                return link.channel_id, name
        known = ", ".join(f"#{n}" for n in names) or "none"
        raise ToolRefused(f"No project channel {target!r} in this server (project channels: {known}).")


def build_agent_tools(
    core: Core,
    scheduler: TaskScheduler,
    current_bot: CurrentBot,
    endpoint: AgentEndpoint,
    limits: ToolLimits,
) -> tuple[AgentToolServer, CallTracker]:
    """The MCP server for this run (not started) and the tracker the event stream must feed."""
    tracker = CallTracker(f"{SERVER_NAME}_")
    toolkit = AgentToolkit(
        locator=CoreLocator(core),
        actions=SharedThreadActions(core, current_bot),
        wakes=TaskWakes(core, scheduler),
        starter=BotSessionStarter(core, current_bot),
        calls=tracker,
        limits=limits,
    )
    server = AgentToolServer(toolkit, secret=endpoint.secret, listener=endpoint.listener)
    return server, tracker
