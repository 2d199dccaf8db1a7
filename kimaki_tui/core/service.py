"""The core: builds the session registry, the approval brokers and the services front ends use
(`core.api.CoreApi`), and takes the event stream and the supervisor's news from the root.

An approval clicked in Discord and one pressed in the control center arrive through the same
service call; the brokers decide who was first and announce the outcome on the bus. The attributes
other than the services (`client`, `store`, `bus`, `sessions`, brokers) are for the composition
root and tests only: front ends see this object through `CoreApi`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from kimaki_tui.core.api import EventCallback
from kimaki_tui.core.approval_service import ApprovalService
from kimaki_tui.core.approvals import PermissionBroker, QuestionBroker
from kimaki_tui.core.bus import EventBus
from kimaki_tui.core.catchup import HandledMessages
from kimaki_tui.core.conversations import ConversationService
from kimaki_tui.core.delivery import ChatDelivery
from kimaki_tui.core.events import SandboxResuming
from kimaki_tui.core.external import ExternalSessions
from kimaki_tui.core.guilds import GuildAccess
from kimaki_tui.core.history import HistoryService
from kimaki_tui.core.insight import InsightService
from kimaki_tui.core.instances import InstanceKeeper
from kimaki_tui.core.integrations import IntegrationService
from kimaki_tui.core.outbox import Outbox
from kimaki_tui.core.posts import PostLedger
from kimaki_tui.core.preferences import PreferenceService
from kimaki_tui.core.project_service import ProjectService
from kimaki_tui.core.resume import ResumeService
from kimaki_tui.core.sandboxes import SandboxService
from kimaki_tui.core.server import ServerControl
from kimaki_tui.core.server_info import ServerFacts
from kimaki_tui.core.session_deps import CoreDeps
from kimaki_tui.core.sessions import SessionRegistry
from kimaki_tui.core.tasks import TaskService
from kimaki_tui.core.tool_requests import ToolRequests
from kimaki_tui.core.turn_routing import JudgeOptions, TurnRouter
from kimaki_tui.core.turns import TurnLedger
from kimaki_tui.core.workflows import SkillFilter, WorkflowService
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.events import Event
from kimaki_tui.opencode.injection_guard import GuardFiles
from kimaki_tui.settings import SandboxSettings, SessionSettings
from kimaki_tui.store.repo import Store

log = logging.getLogger(__name__)


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
        release_idle_after: float = 0.0,
        skills: SkillFilter | None = None,
        sandboxes: SandboxService | None = None,
        injection_guard: GuardFiles | None = None,
        turn_judge: JudgeOptions | None = None,
    ) -> None:
        options = options or SessionSettings()
        self.client = client
        self.store = store
        self.bus = bus
        permission_timeout = options.permission_timeout_minutes * 60
        self.permissions = PermissionBroker(client, bus, store, timeout=permission_timeout)
        # As in kimaki, a question waits for its answer however long it takes.
        self.questions = QuestionBroker(client, bus, store, timeout=0)
        self.facts = ServerFacts(client)
        self.chat_delivery = ChatDelivery()
        deps = CoreDeps(
            client,
            store,
            bus,
            self.permissions,
            self.questions,
            self.facts,
            wait_stream,
            options,
            clock,
            self.chat_delivery,
            injection_guard,
        )
        self.sessions = SessionRegistry(deps)
        self.instances = InstanceKeeper(client, self.sessions.all, release_idle_after)
        bus.add_callback(self.instances.on_event)
        # The services of core.api.CoreApi.
        self.approvals = ApprovalService(self.permissions, self.questions, store, bus)
        self.tool_requests = ToolRequests(bus)
        self.server = ServerControl(bus)
        self.conversations = ConversationService(self.sessions, self.approvals, self.server)
        self.posts = PostLedger(store)
        self.outbox = Outbox(store, self.approvals)
        self.turns = TurnLedger(store, bus)
        self.handled = HandledMessages(store)
        self.history = HistoryService(client, self.sessions)
        self.resume = ResumeService(client, store, self.sessions)
        self.projects = ProjectService(store, client, bus)
        self.preferences = PreferenceService(client, store, self.sessions)
        self.routing = TurnRouter(client, store, turn_judge)
        self.tasks = TaskService(store)
        self.guilds = GuildAccess(store, bus)
        self.insight = InsightService(client, self.sessions, self.facts)
        self.workflows = WorkflowService(client, skills or SkillFilter())
        self.integrations = IntegrationService(client)
        self.external = ExternalSessions(client, store, self.sessions, bus, enabled=not options.disable_sync)
        self.sandboxes = sandboxes or SandboxService(store, SandboxSettings(), Path())
        self.sandboxes.follow(self.handle_event, self.resync, self._sandbox_resuming, self._thread_in_use)

    def subscribe(self, callback: EventCallback) -> Callable[[], None]:
        return self.bus.add_callback(callback)

    def publish(self, event: object) -> None:
        self.bus.publish(event)

    def start(self) -> int:
        """Load the thread mappings; requests left pending by a previous run are expired, turns it
        left running are noted."""
        self.approvals.expire_left_over()
        self.turns.start()
        return self.sessions.load()

    async def close(self) -> None:
        await self.sandboxes.close()
        self.permissions.close()
        self.questions.close()
        await self.external.close()
        await self.sessions.close()
        self.turns.close()

    # ---- wiring for the event stream and the supervisor ---------------------------------------
    def handle_event(self, event: Event) -> None:
        self.sessions.handle_event(event)
        self.external.handle_event(event)

    def _thread_in_use(self, thread_id: str) -> bool:
        runtime = self.sessions.get(thread_id)
        return runtime is not None and runtime.in_use

    def _sandbox_resuming(self, thread_id: str) -> None:
        runtime = self.sessions.get(thread_id)
        session_id = runtime.session_id if runtime is not None else None
        self.bus.publish(SandboxResuming(session_id or "", thread_id=thread_id))

    async def resync(self) -> None:
        await self.sessions.resync()

    async def server_restarted(self) -> None:
        self.facts.forget()
        self.sessions.server_restarted()
