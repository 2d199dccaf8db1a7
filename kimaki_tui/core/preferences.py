"""Which model, thinking level and agent a prompt asks OpenCode for: the session's choice, else
the channel's, else (models, levels) the global default, else OpenCode's default; and a channel's
own mention mode and verbosity. Choices are kept in the store; the menus offer what OpenCode has."""

from __future__ import annotations

from typing import get_args

from kimaki_tui.core.api import PreferenceKind, PreferenceScope
from kimaki_tui.core.sessions import SessionRegistry
from kimaki_tui.opencode.catalog import Agent, ProviderCatalog
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.settings.tree import Verbosity
from kimaki_tui.store.channel_settings import EVERY_CHANNEL, GLOBAL_MODEL, MODEL_DEFAULT_VARIANT, VARIANT
from kimaki_tui.store.repo import Store

_MENTION_MODE = "mention_mode"
_VERBOSITY = "verbosity"
_WORKTREES = "worktrees"
VERBOSITIES: tuple[Verbosity, ...] = get_args(Verbosity)


class PreferenceService:
    def __init__(self, client: OpenCodeClient, store: Store, sessions: SessionRegistry) -> None:
        self._client = client
        self._store = store
        self._sessions = sessions

    async def providers(self, directory: str) -> ProviderCatalog:
        return await self._client.providers(directory)

    async def agents(self, directory: str) -> list[Agent]:
        return await self._client.agents(directory)

    def current(self, kind: PreferenceKind, *, channel_id: str, thread_id: str | None = None) -> str | None:
        """What the next prompt there uses (None: OpenCode's default)."""
        runtime = self._sessions.get(thread_id) if thread_id else None
        if runtime is not None:
            model, agent = runtime.preferences()
            return (str(model) if model else None) if kind == "model" else agent
        prefs = self._store.get_channel_pref(channel_id)
        if kind == "model":
            return prefs.model or self._store.get_channel_setting(EVERY_CHANNEL, GLOBAL_MODEL)
        return prefs.agent

    async def choose(
        self,
        kind: PreferenceKind,
        value: str,
        scope: PreferenceScope,
        *,
        channel_id: str,
        thread_id: str | None = None,
    ) -> PreferenceScope:
        runtime = self._sessions.get(thread_id) if thread_id else None
        if scope == "session" and runtime is not None:
            session_id = await runtime.ensure_session()
            if kind == "model":
                self._store.set_session_pref(session_id, model=value)
                self._store.set_channel_setting(runtime.thread_id, VARIANT, None)
            else:
                self._store.set_session_pref(session_id, agent=value)
            return "session"
        if kind == "model":
            # A new model drops the thinking level chosen with the old one at the same scope.
            if scope == "global":  # the channel it was chosen in follows it (its own choice goes)
                self._store.set_channel_setting(EVERY_CHANNEL, GLOBAL_MODEL, value)
                self._store.set_channel_setting(EVERY_CHANNEL, VARIANT, None)
                self._store.set_channel_pref(channel_id, model=None)
                self._store.set_channel_setting(channel_id, VARIANT, None)
                return "global"
            self._store.set_channel_pref(channel_id, model=value)
            self._store.set_channel_setting(channel_id, VARIANT, None)
        else:
            self._store.set_channel_pref(channel_id, agent=value)
        return "channel"

    def clear_model(self, scope: PreferenceScope, *, channel_id: str, thread_id: str | None = None) -> None:
        """Forget the model chosen at `scope`; the next one down the cascade applies again."""
        runtime = self._sessions.get(thread_id) if thread_id else None
        if scope == "session":
            if runtime is not None and runtime.session_id is not None:
                self._store.set_session_pref(runtime.session_id, model=None)
                self._store.set_channel_setting(runtime.thread_id, VARIANT, None)
        elif scope == "channel":
            self._store.set_channel_pref(channel_id, model=None)
            self._store.set_channel_setting(channel_id, VARIANT, None)
        else:
            self._store.set_channel_setting(EVERY_CHANNEL, GLOBAL_MODEL, None)
            self._store.set_channel_setting(EVERY_CHANNEL, VARIANT, None)

    def variant(self, *, channel_id: str, thread_id: str | None = None) -> str | None:
        """The thinking level the next prompt there asks for (None: the model's own default)."""
        runtime = self._sessions.get(thread_id) if thread_id else None
        return self._store.variant(channel_id, runtime.thread_id if runtime is not None else None)

    async def variants(
        self, directory: str, *, channel_id: str, thread_id: str | None = None
    ) -> tuple[str, ...]:
        """The thinking levels of the model the next prompt there uses: OpenCode's default model
        when none is chosen; none when the model (or this OpenCode) has no variants."""
        catalog = await self._client.providers(directory)
        ref = self.current("model", channel_id=channel_id, thread_id=thread_id)
        if ref is None:
            default = (await self._client.config(directory)).model
            ref = str(default) if default else None
        model = catalog.model(ref) if ref else None
        return model.variants if model is not None else ()

    async def choose_variant(
        self, variant: str | None, scope: PreferenceScope, *, channel_id: str, thread_id: str | None = None
    ) -> PreferenceScope:
        """Keep the thinking level at `scope`; None keeps "the model's own level" there, which wins
        over a wider scope's level. Kept per thread for a session; the global one also clears the
        channel's own, as for a model."""
        variant = variant or MODEL_DEFAULT_VARIANT
        runtime = self._sessions.get(thread_id) if thread_id else None
        if scope == "session" and runtime is not None:
            self._store.set_channel_setting(runtime.thread_id, VARIANT, variant)
            return "session"
        if scope == "global":
            self._store.set_channel_setting(EVERY_CHANNEL, VARIANT, variant)
            self._store.set_channel_setting(channel_id, VARIANT, None)
            return "global"
        self._store.set_channel_setting(channel_id, VARIANT, variant)
        return "channel"

    def mention_mode(self, channel_id: str, *, default: bool) -> bool:
        """Whether only mentions (and `!`) start threads in the channel: its own choice, else `default`."""
        value = self._store.get_channel_setting(channel_id, _MENTION_MODE)
        return default if value is None else value == "on"

    def set_mention_mode(self, channel_id: str, on: bool | None) -> None:
        """Set the channel's mention mode; None forgets it (the global default applies)."""
        value = None if on is None else ("on" if on else "off")
        self._store.set_channel_setting(channel_id, _MENTION_MODE, value)

    def worktrees(self, channel_id: str, *, default: bool) -> bool:
        """Whether the channel's new threads each get a git worktree: its own choice, else `default`."""
        value = self._store.get_channel_setting(channel_id, _WORKTREES)
        return default if value is None else value == "on"

    def set_worktrees(self, channel_id: str, on: bool | None) -> None:
        """Set the channel's automatic worktrees; None forgets it (the global default applies)."""
        value = None if on is None else ("on" if on else "off")
        self._store.set_channel_setting(channel_id, _WORKTREES, value)

    def verbosity(self, channel_id: str, *, default: Verbosity) -> Verbosity:
        """Which tool lines the channel's threads show: its own choice, else `default`. Read for
        every line, so a change applies to running sessions at once."""
        value = self._store.get_channel_setting(channel_id, _VERBOSITY)
        return next((v for v in VERBOSITIES if v == value), default)

    def set_verbosity(self, channel_id: str, value: Verbosity | None) -> None:
        """Set the channel's verbosity; None forgets it (the global default applies)."""
        if value is not None and value not in VERBOSITIES:
            raise ValueError(f"unknown verbosity {value!r}; one of: {', '.join(VERBOSITIES)}")
        self._store.set_channel_setting(channel_id, _VERBOSITY, value)
