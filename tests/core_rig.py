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
from kimaki_tui.core.service import Core
from kimaki_tui.core.session import SessionRuntime
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.stream import EventStream
from kimaki_tui.settings import SessionSettings
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
    ) -> None:
        self.client = client
        self._chat_expected = chat_expected  # as the root when a bot will start
        self.store = Store.open(db_path)
        self.bus = EventBus()
        self.events: list[Any] = []
        self.bus.add_callback(self.events.append)
        self.core = Core(
            client=client,
            store=self.store,
            bus=self.bus,
            wait_stream=self._wait_stream,
            options=options,
            clock=clock or time.monotonic,
        )
        self.stream = EventStream(client, self.core.handle_event, on_connect=self.core.resync)
        self._task: asyncio.Task[None] | None = None

    async def _wait_stream(self) -> None:
        await self.stream.wait_connected(20)

    async def __aenter__(self) -> CoreRig:
        self.core.start()
        if self._chat_expected:
            self.core.chat_delivery.expect()
        self._task = asyncio.create_task(self.stream.run())
        assert await self.stream.wait_connected(20), "event stream did not connect"
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
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
