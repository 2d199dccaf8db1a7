"""The composition root: builds every long-lived service, starts them in order, stops them in reverse.

Store → event bus → OpenCode supervisor (started in the background so its 2–3 s start overlaps
the rest) → core → event stream. Front ends (the Discord bot, the control center) are attached
by the caller; nothing here imports them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from types import TracebackType

from kimaki_tui.config import Settings
from kimaki_tui.core.bus import EventBus
from kimaki_tui.core.service import Core
from kimaki_tui.core.session import RuntimeOptions
from kimaki_tui.opencode.status import ServerStatus
from kimaki_tui.opencode.stream import EventStream
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.store.repo import Store

log = logging.getLogger(__name__)


class Runtime:
    def __init__(
        self,
        settings: Settings,
        *,
        opencode_env: Mapping[str, str] | None = None,
        opencode_binary: str | None = None,
        options: RuntimeOptions | None = None,
        approval_timeout: float = 600.0,
        supervisor: OpenCodeSupervisor | None = None,
    ) -> None:
        self.settings = settings
        self.bus = EventBus()
        self.store = Store.open(settings.db_path)
        # A supervisor may be handed in already starting, so OpenCode's start overlaps ours.
        self.supervisor = supervisor or OpenCodeSupervisor(binary=opencode_binary, env=opencode_env)
        self.server_status = self.supervisor.status
        self.supervisor.add_status_listener(self._on_server_status)
        self.core = Core(
            client=self.supervisor.client,
            store=self.store,
            bus=self.bus,
            wait_stream=self._wait_stream,
            options=options,
            approval_timeout=approval_timeout,
        )
        self.core.server.use_restart(self.supervisor.restart)
        self.core.server.report(self.server_status)
        self.stream = EventStream(self.supervisor.client, self.core.handle_event, on_connect=self.core.resync)
        self._stream_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        loaded = self.core.start()
        log.info("loaded %d thread mapping(s) from %s", loaded, self.settings.db_path)
        self.supervisor.on_restarted.append(self._server_restarted)
        self.supervisor.start_background()
        self._stream_task = asyncio.create_task(self._run_stream(), name="opencode-events")

    async def wait_ready(self, timeout: float | None = 60.0) -> None:
        """OpenCode healthy and the event stream connected (raises the supervisor's error if it gave up)."""
        await self.supervisor.wait_healthy(timeout)
        await self._wait_stream(timeout)

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

    async def stop(self) -> None:
        if self._stream_task is not None:
            self._stream_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._stream_task
        await self.core.close()
        await self.supervisor.aclose()
        self.store.close()

    async def __aenter__(self) -> Runtime:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
