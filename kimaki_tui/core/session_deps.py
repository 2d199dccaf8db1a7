"""What every session runtime is built with: `CoreDeps`, the collaborators the core hands each
thread's runtime (the OpenCode client, the store, the bus, the approval brokers, the server's
cached facts, the session settings), and `ServerInfo`, the facts about the OpenCode server a
runtime reads synchronously (a model's context limit, a directory's git branch).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from kimaki_tui.core.approvals import PermissionBroker, QuestionBroker
from kimaki_tui.core.bus import EventBus
from kimaki_tui.core.delivery import ChatDelivery
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.injection_guard import GuardFiles
from kimaki_tui.settings import SessionSettings
from kimaki_tui.store.repo import Store


class ServerInfo(Protocol):
    """Cached facts about the OpenCode server the runtime needs synchronously."""

    def context_limit(self, provider_id: str, model_id: str) -> int | None: ...

    async def refresh(self, directory: str) -> None: ...

    def branch(self, directory: str) -> str: ...


@dataclass(slots=True)
class CoreDeps:
    client: OpenCodeClient
    store: Store
    bus: EventBus
    permissions: PermissionBroker
    questions: QuestionBroker
    server: ServerInfo
    wait_stream: Callable[[], Awaitable[None]]
    options: SessionSettings = dataclasses.field(default_factory=SessionSettings)
    clock: Callable[[], float] = time.monotonic  # MEMORY.md reminders' idle gap (injectable for tests)
    chat: ChatDelivery = dataclasses.field(default_factory=ChatDelivery)
    injection_guard: GuardFiles | None = None  # where the guard plugin reads sessions' patterns
