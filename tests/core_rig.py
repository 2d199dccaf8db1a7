"""A core wired to a real OpenCode server for end-to-end tests: store, bus recorder, event stream.

`CoreRig` builds the same objects the composition root builds (Core + EventStream + Store) so a
test can drive prompts, approvals and aborts, and wait for the domain events a front end would see.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from kimaki_tui.core.bus import EventBus
from kimaki_tui.core.prompts import PromptInput
from kimaki_tui.core.sandboxes import SandboxService
from kimaki_tui.core.service import Core
from kimaki_tui.core.session import SessionRuntime
from kimaki_tui.core.turn_routing import JudgeOptions
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.injection_guard import GuardFiles
from kimaki_tui.opencode.stream import EventStream
from kimaki_tui.sandbox.api import SandboxBackend
from kimaki_tui.sandbox.registry import ServerRegistry
from kimaki_tui.sandbox.routing import RoutedClient
from kimaki_tui.settings import SandboxSettings, SessionSettings
from kimaki_tui.store.db import LOOP_LOCK_WAIT_MS
from kimaki_tui.store.repo import Store
from tests.harness import wait_until

E = TypeVar("E")


class CoreRig:
    def __init__(
        self,
        client: OpenCodeClient,
        db_path: Path,
        *,
        options: SessionSettings | None = None,
        clock: Callable[[], float] | None = None,
        chat_expected: bool = False,
        sandbox: tuple[SandboxSettings, SandboxBackend] | None = None,
        injection_guard: GuardFiles | None = None,
        turn_judge: JudgeOptions | None = None,
    ) -> None:
        self.client = client
        self._chat_expected = chat_expected  # as the root when a bot will start
        self.store = Store.open(db_path, lock_wait_ms=LOOP_LOCK_WAIT_MS)  # as the root
        self.bus = EventBus()
        self.events: list[Any] = []
        self.bus.add_callback(self.events.append)
        self.sandboxes: SandboxService | None = None
        self.registry: ServerRegistry | None = None
        core_client = client
        if sandbox is not None:  # wired as the composition root wires it
            registry = self.registry = ServerRegistry(sandbox[1])
            core_client = RoutedClient(client, registry)
            data_dir = db_path.parent / "data"
            self.sandboxes = SandboxService(
                self.store, sandbox[0], data_dir, registry=registry, client=core_client
            )
        self.core = Core(
            client=core_client,
            store=self.store,
            bus=self.bus,
            wait_stream=self._wait_stream,
            options=options,
            clock=clock or time.monotonic,
            sandboxes=self.sandboxes,
            injection_guard=injection_guard,
            turn_judge=turn_judge,
        )
        self.stream = EventStream(client, self.core.handle_event, on_connect=self.core.resync)
        self._task: asyncio.Task[None] | None = None
        self._sweep: asyncio.Task[None] | None = None

    async def _wait_stream(self) -> None:
        await self.stream.wait_connected(20)

    async def __aenter__(self) -> CoreRig:
        self.core.start()
        if self._chat_expected:
            self.core.chat_delivery.expect()
        self._task = asyncio.create_task(self.stream.run())
        assert await self.stream.wait_connected(20), "event stream did not connect"
        if self.sandboxes is not None:  # as the composition root does at start
            views = self.core.conversations.all()
            await self.sandboxes.adopt((view.thread_id, view.directory) for view in views)
            self._sweep = asyncio.create_task(self.sandboxes.run(every=0.1))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for task in (self._task, self._sweep):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self.core.close()
        self.store.close()

    def thread(self, directory: Path, thread_id: str = "1000", channel_id: str = "900") -> SessionRuntime:
        return self.core.sessions.open(thread_id, channel_id, str(directory))

    @staticmethod
    def prompt(text: str, author: str = "alice", origin: str = "test") -> PromptInput:
        return PromptInput(text, author_id=author, author_name=author, origin=origin)

    def of_type(self, kind: type[E], predicate: Callable[[E], bool] = lambda e: True) -> list[E]:
        return [e for e in self.events if isinstance(e, kind) and predicate(e)]

    async def wait_for(
        self, kind: type[E], predicate: Callable[[E], bool] = lambda e: True, timeout: float = 30.0
    ) -> E:
        found = await wait_until(
            lambda: next(iter(self.of_type(kind, predicate)), None), timeout, 0.05, f"a {kind.__name__}"
        )
        return found

    async def wait_count(self, kind: type[E], count: int, timeout: float = 30.0) -> list[E]:
        await wait_until(
            lambda: len(self.of_type(kind)) >= count, timeout, 0.05, f"{count} x {kind.__name__}"
        )
        return self.of_type(kind)
