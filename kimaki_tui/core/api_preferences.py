"""The core's door for per-session and per-channel choices: the model, agent and thinking level
prompts use, a channel's mention mode, worktrees and verbosity (`Preferences`), and its turn
routing (`Routing`).

Re-exported by `core.api`, the one door.
"""

from __future__ import annotations

from typing import Literal, Protocol

from kimaki_tui.core.routing import ThreadMessage
from kimaki_tui.opencode.catalog import Agent, ProviderCatalog
from kimaki_tui.settings.tree import TurnRouting, Verbosity

PreferenceKind = Literal["model", "agent"]
# "global": the default of every channel (for models; a session's or channel's own choice wins).
PreferenceScope = Literal["session", "channel", "global"]


class Preferences(Protocol):
    """Which model and agent prompts use: per session, else per channel, else OpenCode's default."""

    async def providers(self, directory: str) -> ProviderCatalog: ...

    async def agents(self, directory: str) -> list[Agent]: ...

    def current(
        self, kind: PreferenceKind, *, channel_id: str, thread_id: str | None = None
    ) -> str | None: ...

    async def choose(
        self,
        kind: PreferenceKind,
        value: str,
        scope: PreferenceScope,
        *,
        channel_id: str,
        thread_id: str | None = None,
    ) -> PreferenceScope:
        """Store the choice; "session" applies to the thread's session (created if needed) and falls
        back to the channel outside a conversation; "global" (models) also clears the channel's own.
        Returns the scope that was used."""
        ...

    def clear_model(self, scope: PreferenceScope, *, channel_id: str, thread_id: str | None = None) -> None:
        """Forget the model chosen at `scope` (the next one down the cascade applies again)."""
        ...

    def variant(self, *, channel_id: str, thread_id: str | None = None) -> str | None:
        """The thinking level (model variant) the next prompt there asks for (None: the model's own)."""
        ...

    async def variants(
        self, directory: str, *, channel_id: str, thread_id: str | None = None
    ) -> tuple[str, ...]:
        """The thinking levels the model the next prompt there uses offers (none: it has none)."""
        ...

    async def choose_variant(
        self, variant: str | None, scope: PreferenceScope, *, channel_id: str, thread_id: str | None = None
    ) -> PreferenceScope:
        """Store the thinking level at `scope` (None: the model's own level, which wins over a wider
        scope's), scopes as for `choose`; returns the scope used."""
        ...

    def mention_mode(self, channel_id: str, *, default: bool) -> bool:
        """Whether only mentions (and `!`) start threads in the channel: its own choice, else `default`."""
        ...

    def set_mention_mode(self, channel_id: str, on: bool | None) -> None:
        """Set the channel's mention mode, persisted; None forgets it (the global default applies)."""
        ...

    def worktrees(self, channel_id: str, *, default: bool) -> bool:
        """Whether the channel's new threads each get a git worktree: its own choice, else `default`."""
        ...

    def set_worktrees(self, channel_id: str, on: bool | None) -> None:
        """Set the channel's automatic worktrees, persisted; None forgets it (the global default applies)."""
        ...

    def verbosity(self, channel_id: str, *, default: Verbosity) -> Verbosity:
        """Which tool lines the channel's threads show: its own choice, else `default`."""
        ...

    def set_verbosity(self, channel_id: str, value: Verbosity | None) -> None:
        """Set the channel's verbosity, persisted (running sessions follow at once); None forgets it."""
        ...


class Routing(Protocol):
    """Turn routing (`core.turn_routing`): whether a thread message gets an answer."""

    def mode(self, channel_id: str | None, *, default: TurnRouting) -> TurnRouting:
        """The channel's own /turn-routing choice, else `default`."""
        ...

    def set_mode(self, channel_id: str, mode: TurnRouting | None) -> None:
        """Set the channel's turn routing, persisted; None forgets it (the global default applies)."""
        ...

    async def needs_answer(
        self, message: ThreadMessage, *, channel_id: str | None, directory: str, default: TurnRouting
    ) -> bool:
        """False when the message is only context for the session (by the channel's mode). Never
        raises: when the model cannot decide, the message is answered."""
        ...
