"""The core facade every front end talks to: prompts, queue, aborts, approvals, projects, and
which Discord servers are served (`guilds`).

An approval clicked in Discord and one pressed in the control center arrive here through the
same call; the brokers decide who was first and announce the outcome on the bus.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from kimaki_tui.core.approvals import AnswerResult, PermissionBroker, QuestionBroker
from kimaki_tui.core.bus import EventBus
from kimaki_tui.core.events import PermissionReply, PermissionRequest, QuestionRequest
from kimaki_tui.core.guilds import GuildAccess
from kimaki_tui.core.history import SessionHistory
from kimaki_tui.core.prompts import PromptInput, SubmitResult
from kimaki_tui.core.server_info import ServerFacts
from kimaki_tui.core.session import CoreDeps, SessionRuntime, SessionSnapshot
from kimaki_tui.core.sessions import SessionRegistry
from kimaki_tui.errors import KimakiError
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.events import Event
from kimaki_tui.settings import SessionSettings
from kimaki_tui.store.records import ThreadSource
from kimaki_tui.store.repo import Store

log = logging.getLogger(__name__)


class UnknownThread(KimakiError, LookupError):
    """A thread with no session mapping in this instance."""


class Core:
    def __init__(
        self,
        *,
        client: OpenCodeClient,
        store: Store,
        bus: EventBus,
        wait_stream: Callable[[], Awaitable[None]],
        options: SessionSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        options = options or SessionSettings()
        self.client = client
        self.store = store
        self.bus = bus
        self.permissions = PermissionBroker(client, bus, store, timeout=options.approval_timeout)
        self.questions = QuestionBroker(client, bus, store, timeout=options.approval_timeout)
        self.server = ServerFacts(client)
        deps = CoreDeps(
            client,
            store,
            bus,
            self.permissions,
            self.questions,
            self.server,
            wait_stream,
            options,
            clock,
        )
        self.sessions = SessionRegistry(deps)
        self.history = SessionHistory(client)
        self.guilds = GuildAccess(store, bus)
        # Set by the composition root: restarts the OpenCode server and returns once it is healthy
        # (running turns are reported as failed through `server_restarted`). None: not available.
        self.restart_server: Callable[[], Awaitable[None]] | None = None

    def start(self) -> int:
        """Load the thread mappings; requests left pending by a previous run are expired."""
        for row in self.store.pending_requests():
            self.store.resolve_pending(row.request_id, "expired", None, "restart")
        return self.sessions.load()

    async def close(self) -> None:
        self.permissions.close()
        self.questions.close()
        await self.sessions.close()

    # ---- wiring for the event stream and the supervisor ---------------------------------------
    def handle_event(self, event: Event) -> None:
        self.sessions.handle_event(event)

    async def resync(self) -> None:
        await self.sessions.resync()

    async def server_restarted(self) -> None:
        self.server.forget()
        self.sessions.server_restarted()

    # ---- sessions -----------------------------------------------------------------------------
    def open_thread(
        self,
        thread_id: str,
        channel_id: str,
        directory: str,
        session_id: str | None = None,
        source: ThreadSource = "discord",
    ) -> SessionRuntime:
        return self.sessions.open(thread_id, channel_id, directory, session_id, source)

    def runtime(self, thread_id: str) -> SessionRuntime:
        runtime = self.sessions.get(thread_id)
        if runtime is None:
            raise UnknownThread(f"thread {thread_id} has no session in this kimaki instance")
        return runtime

    def has_thread(self, thread_id: str) -> bool:
        return self.sessions.get(thread_id) is not None

    async def submit(self, thread_id: str, prompt: PromptInput) -> SubmitResult:
        return await self.runtime(thread_id).submit(prompt)

    async def enqueue(self, thread_id: str, prompt: PromptInput) -> SubmitResult:
        return await self.runtime(thread_id).enqueue(prompt)

    async def abort(self, thread_id: str, *, by: str, source: str) -> bool:
        return await self.runtime(thread_id).abort(by=by, source=source)

    def snapshots(self) -> list[SessionSnapshot]:
        return self.sessions.snapshots()

    # ---- approvals ----------------------------------------------------------------------------
    def pending_permissions(self, session_id: str | None = None) -> list[PermissionRequest]:
        return self.permissions.pending(session_id)

    def pending_questions(self, session_id: str | None = None) -> list[QuestionRequest]:
        return self.questions.pending(session_id)

    async def answer_permission(
        self, request_id: str, reply: PermissionReply, *, by: str, source: str, message: str | None = None
    ) -> AnswerResult:
        return await self.permissions.answer(request_id, reply, by=by, source=source, message=message)

    async def answer_question(
        self, request_id: str, answers: list[list[str]], *, by: str, source: str
    ) -> AnswerResult:
        return await self.questions.answer(request_id, answers, by=by, source=source)

    async def reject_question(self, request_id: str, *, by: str, source: str) -> AnswerResult:
        return await self.questions.reject(request_id, by=by, source=source)

    # ---- projects -----------------------------------------------------------------------------
    def link_channel(self, channel_id: str, guild_id: str, directory: str, app_id: str | None = None) -> None:
        path = str(Path(directory).expanduser().resolve())
        self.store.add_project(path)
        self.store.link_channel(channel_id, guild_id, path, app_id)

    def channel_directory(self, channel_id: str) -> str | None:
        return self.store.channel_directory(channel_id)
