"""The OpenCode server as front ends see it: its last reported status and a restart.

The composition root reports each status the supervisor gives (`report`, which also tells every
front end on the bus) and hands in the restart (`use_restart`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from kimaki_tui.core.bus import EventBus
from kimaki_tui.opencode.status import ServerStatus

Restart = Callable[[], Awaitable[None]]


class ServerControl:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._status = ServerStatus("stopped")
        self._restart: Restart | None = None

    @property
    def status(self) -> ServerStatus:
        return self._status

    @property
    def can_restart(self) -> bool:
        return self._restart is not None

    def report(self, status: ServerStatus) -> None:
        self._status = status
        self._bus.publish(status)

    def use_restart(self, restart: Restart | None) -> None:
        self._restart = restart

    async def restart(self) -> None:
        if self._restart is None:
            raise RuntimeError("this kimaki cannot restart its OpenCode server")
        await self._restart()
