"""The core's door for what an operator runs and decides: the OpenCode server (`Server`, and
`OpenCodeGivenUp` once kimaki stopped restarting it), which Discord servers are served (`Guilds`),
and the scheduled sends (`Tasks`).

Re-exported by `core.api`, the one door.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from kimaki_tui.opencode.errors import OpenCodeError
from kimaki_tui.opencode.status import ServerStatus
from kimaki_tui.store.records import GuildRecord, GuildStatus, ScheduledTask

if TYPE_CHECKING:  # the store's task slice pulls in peewee, which `kimaki --help` must not load
    from kimaki_tui.store.tasks import TaskPayload, TaskTiming


class OpenCodeGivenUp(OpenCodeError):
    """OpenCode kept crashing and kimaki stopped restarting it: nothing can be answered until then."""

    hint = "Restart it with /restart-opencode-server (or restart kimaki); kimaki's log says why it crashed."

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "OpenCode was given up on after it kept crashing, so kimaki cannot answer right now"
            + (f" ({detail[:300]})." if detail else ".")
        )


class Tasks(Protocol):
    """Scheduled sends (`kimaki send --send-at`), read from the shared database each time."""

    def all(self, *, channel_id: str | None = None, all_states: bool = False) -> list[ScheduledTask]: ...

    def get(self, task_id: int) -> ScheduledTask | None: ...

    def delete(self, task_id: int, *, channel_id: str | None = None) -> bool:
        """Delete a task (only if it belongs to `channel_id`, when given); its timer goes too."""
        ...

    def edit(self, task_id: int, payload: TaskPayload, timing: TaskTiming | None = None) -> ScheduledTask:
        """Replace what a task sends and (with `timing`) when; raises TaskEditError."""
        ...

    async def run_now(self, task_id: int, *, channel_id: str | None = None) -> str:
        """Send a task at once through the running scheduler; "" when sent, else why not."""
        ...


class Server(Protocol):
    """The OpenCode server kimaki runs."""

    @property
    def status(self) -> ServerStatus: ...

    @property
    def can_restart(self) -> bool: ...

    async def restart(self) -> None:
        """Restart it and return once healthy (running turns end as failed)."""
        ...


class Guilds(Protocol):
    """Which Discord servers are served (kimaki_tui.core.guilds has the rule)."""

    @property
    def operators(self) -> frozenset[str]: ...

    def set_operators(self, user_ids: Iterable[str]) -> None: ...

    def allowed(self, guild_id: str | int | None) -> bool: ...

    def status(self, guild_id: str | int) -> GuildStatus | None: ...

    def records(self) -> list[GuildRecord]: ...

    def pending(self) -> list[GuildRecord]: ...

    def seen(self, guild_id: str, name: str, owner_id: str | None) -> GuildRecord: ...

    def allow(self, guild_id: str, *, by: str) -> GuildRecord: ...

    def deny(self, guild_id: str, *, by: str) -> GuildRecord: ...

    def claim_notice(self, guild_id: str) -> bool: ...

    def release_notice(self, guild_id: str) -> None: ...

    def reload(self) -> list[GuildRecord]: ...
