"""Carry what kimaki's database holds into kimaki-tui's: bot token and Gemini key (to the
SecretStore), channel links, the thread ↔ session map, channel and session model/agent
preferences and the scheduled tasks still to come (through the Store API).

Running it again imports nothing new: a row kimaki-tui already has with the same value counts as
"already there", and one it has with another value is kept as kimaki-tui has it (skipped, with
the reason). A dry run decides exactly the same way and writes nothing.

kimaki does not record which channel a thread belongs to, and kimaki-tui needs it (a thread's
project is its channel's): the import asks Discord (`GET /channels/<thread>`) with the bot token.
Without Discord, threads are skipped with the reason, and a later run picks them up.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from kimaki_tui.discord_rest import THREAD_TYPES, DiscordApiError
from kimaki_tui.migrate_kimaki.report import ImportReport
from kimaki_tui.migrate_kimaki.source import KimakiBot, KimakiChannel, KimakiData, KimakiPref, KimakiThread
from kimaki_tui.migrate_kimaki.tasks import TaskSkipped, convert_task
from kimaki_tui.secrets import BOT_TOKEN, GEMINI_API_KEY, SecretsUnavailable, app_id_from_token

if TYPE_CHECKING:
    from kimaki_tui.scheduling.request import SendRequest
    from kimaki_tui.scheduling.when import Schedule
    from kimaki_tui.secrets import SecretStore
    from kimaki_tui.store.records import ScheduledTask, ThreadOrigin
    from kimaki_tui.store.repo import Store

log = logging.getLogger(__name__)

LOOKUPS_AT_ONCE = 8
SECRET_NAMES = {BOT_TOKEN: "bot token", GEMINI_API_KEY: "Gemini key"}
_Answer = dict[str, Any] | str  # Discord's channel object, or why there is none
_UNREACHABLE = frozenset({0, 401})  # Discord not reached, or the token refused: stop asking


class ChannelLookup(Protocol):
    """Discord's view of a channel or thread (`DiscordRest` fits); raises DiscordApiError."""

    async def channel(self, channel_id: str) -> dict[str, Any]: ...


def discord_token(data: KimakiData, secrets: SecretStore) -> str | None:
    """The token to ask Discord with: kimaki's own bot's, else the one kimaki-tui already has."""
    bot = data.current_bot
    if bot is not None and bot.mode == "self_hosted" and app_id_from_token(bot.token):
        return bot.token
    return secrets.get_bot_token()


class KimakiImporter:
    """One import run over data already read from kimaki's file; `run()` returns the report."""

    def __init__(
        self,
        data: KimakiData,
        store: Store,
        secrets: SecretStore,
        *,
        discord: ChannelLookup | None,
        dry_run: bool = False,
        now: datetime | None = None,
    ) -> None:
        self.data = data
        self.store = store
        self.secrets = secrets
        self.discord = discord
        self.dry_run = dry_run
        self.now = now or datetime.now(UTC)
        self.report = ImportReport(source=data.path, target=store.path, dry_run=dry_run)
        # What kimaki-tui holds (or, in a dry run, would hold) as the import goes.
        self.links = {link.channel_id: link.directory for link in store.list_channels()}
        self.thread_channels: dict[str, str] = {}
        self._discord_down: str | None = None

    async def run(self) -> ImportReport:
        bot = self.data.current_bot
        self._bot_token(bot)
        self._api_keys(bot)
        await self._channels(bot)
        await self._threads()
        self._prefs()
        self._tasks()
        done = "would import" if self.dry_run else "imported"
        imported, skipped = self.report.total_imported, len(self.report.skips)
        log.info("kimaki import from %s: %s %d rows, skipped %d", self.data.path, done, imported, skipped)
        return self.report

    def _write(self, action: Callable[[], object]) -> None:
        if not self.dry_run:
            action()

    # -- secrets ----------------------------------------------------------------------------------

    def _bot_token(self, current: KimakiBot | None) -> None:
        table = "bot_tokens"
        for bot in self.data.bots:
            if bot is not current:
                self.report.skip(table, bot.app_id, "an older bot: kimaki-tui keeps one bot per data dir")
            elif bot.mode != "self_hosted":
                self.report.skip(
                    table,
                    bot.app_id,
                    "kimaki's hosted gateway bot only works through kimaki's own "
                    "service; create your own bot with `kimaki setup`",
                )
            elif app_id_from_token(bot.token) is None:
                self.report.skip(table, bot.app_id, "its token is not a Discord bot token")
            else:
                self._secret(table, bot.app_id, BOT_TOKEN, bot.token)

    def _api_keys(self, current: KimakiBot | None) -> None:
        table = "bot_api_keys"
        for bot in self.data.bots:
            if not bot.has_api_keys:
                continue
            if bot is not current:
                self.report.skip(table, bot.app_id, "the keys of an older bot")
            elif bot.gemini_api_key is None:
                self.report.skip(table, bot.app_id, "no Gemini key (the only one kimaki-tui uses)")
            else:
                self._secret(table, bot.app_id, GEMINI_API_KEY, bot.gemini_api_key)

    def _secret(self, table: str, key: str, name: str, value: str) -> None:
        existing = self.secrets.get(name)
        if existing == value:
            self.report.present(table)
        elif existing:
            self.report.skip(table, key, f"kimaki-tui already has another {SECRET_NAMES[name]}; it was kept")
        else:
            try:
                self._write(lambda: self.secrets.set(name, value))
            except SecretsUnavailable as exc:
                first = str(exc).splitlines()[0]
                self.report.skip(table, key, f"{first} Pass --secrets-file, or set it in the environment.")
                return
            self.report.imported(table)

    # -- channels and threads ---------------------------------------------------------------------

    async def _channels(self, bot: KimakiBot | None) -> None:
        own_app = bot.app_id if bot is not None and bot.mode == "self_hosted" else None
        found = await self._lookup(
            c.channel_id for c in self.data.channels if c.channel_type == "text" and not c.guild_id
        )
        for channel in self.data.channels:
            self._channel(channel, own_app, found.get(channel.channel_id))

    def _channel(self, channel: KimakiChannel, own_app: str | None, looked_up: _Answer | None) -> None:
        table, key = "channel_directories", channel.channel_id
        if channel.channel_type != "text":
            self.report.skip(table, key, f"a {channel.channel_type} channel: kimaki-tui links text channels")
            return
        linked = self.links.get(key)
        if linked == channel.directory:
            self.report.present(table)
            return
        if linked is not None:
            self.report.skip(table, key, f"kimaki-tui links it to {linked}; that link was kept")
            return
        known = looked_up.get("guild_id") if isinstance(looked_up, dict) else None
        guild_id = channel.guild_id or (str(known) if known else "")
        if not guild_id:
            reason = looked_up if isinstance(looked_up, str) else "Discord did not say which server it is in"
            self.report.skip(table, key, f"its server is unknown: {reason}")
            return
        app_id = channel.app_id or own_app
        self._write(lambda: self.store.link_channel(key, guild_id, channel.directory, app_id))
        self.links[key] = channel.directory
        self.report.imported(table)

    async def _threads(self) -> None:
        waiting: list[KimakiThread] = []
        for thread in sorted(self.data.threads, key=_oldest_first):
            mapped = self.store.session_for_thread(thread.thread_id)
            if mapped is None:
                waiting.append(thread)
            elif mapped.session_id == thread.session_id:
                self.thread_channels[thread.thread_id] = mapped.channel_id
                self.report.present("thread_sessions")
            else:
                kept = f"kimaki-tui maps it to session {mapped.session_id}; that was kept"
                self.report.skip("thread_sessions", thread.thread_id, kept)
        found = await self._lookup(t.thread_id for t in waiting)
        for thread in waiting:
            self._thread(thread, found.get(thread.thread_id))

    def _thread(self, thread: KimakiThread, looked_up: _Answer | None) -> None:
        table, key = "thread_sessions", thread.thread_id
        if not isinstance(looked_up, dict):
            self.report.skip(table, key, f"cannot tell its channel: {looked_up or 'Discord was not asked'}")
            return
        if looked_up.get("type") not in THREAD_TYPES:
            self.report.skip(table, key, "Discord says it is not a thread")
            return
        channel_id = str(looked_up.get("parent_id") or "")
        directory = self.links.get(channel_id)
        if directory is None:
            self.report.skip(table, key, f"its channel {channel_id} is not a linked project channel")
            return
        where = thread.worktree_directory or directory
        origin: ThreadOrigin = "resume" if thread.source == "external_poll" else "discord"
        self._write(lambda: self.store.map_thread(key, thread.session_id, channel_id, where, origin))
        self.thread_channels[key] = channel_id
        self.report.imported(table)

    async def _lookup(self, ids: Iterable[str]) -> dict[str, _Answer]:
        """Discord's channel object per id, or why there is none (a text for the report)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        if self.discord is None:
            return dict.fromkeys(wanted, "no bot token to ask Discord with")
        gate = asyncio.Semaphore(LOOKUPS_AT_ONCE)

        async def one(channel_id: str) -> _Answer:
            async with gate:
                return await self._ask(channel_id)

        answers = await asyncio.gather(*(one(i) for i in wanted))
        return dict(zip(wanted, answers, strict=True))

    async def _ask(self, channel_id: str) -> _Answer:
        if self._discord_down is not None or self.discord is None:
            return self._discord_down or "no bot token"
        try:
            return await self.discord.channel(channel_id)
        except DiscordApiError as exc:
            if exc.status == 404:
                return "it no longer exists in Discord (or the bot cannot see it)"
            reason = f"Discord: {exc}"
            if exc.status in _UNREACHABLE:
                self._discord_down = reason + "; run the import again once Discord can be reached"
                return self._discord_down
            return reason

    # -- preferences and tasks --------------------------------------------------------------------

    def _prefs(self) -> None:
        for pref in self.data.prefs:
            self._pref(pref)

    def _pref(self, pref: KimakiPref) -> None:
        scope, kind = pref.table.split("_")  # channel|session, models|agents
        field = "model" if kind == "models" else "agent"
        if not pref.value:
            self.report.skip(pref.table, pref.key, f"an empty {field}")
            return
        if field == "model" and "/" not in pref.value.strip("/"):
            self.report.skip(pref.table, pref.key, f"the model {pref.value!r} is not 'provider/model'")
            return
        if scope == "channel" and pref.key not in self.links:
            self.report.skip(pref.table, pref.key, "its channel is not linked in kimaki-tui")
            return
        get, put = (
            (self.store.get_channel_pref, self.store.set_channel_pref)
            if scope == "channel"
            else (self.store.get_session_pref, self.store.set_session_pref)
        )
        current = getattr(get(pref.key), field)
        if current == pref.value:
            self.report.present(pref.table)
        elif current is not None:
            self.report.skip(pref.table, pref.key, f"kimaki-tui already uses {field} {current} there; kept")
        else:
            self._write(lambda: put(pref.key, **{field: pref.value}))
            self.report.imported(pref.table)

    def _tasks(self) -> None:
        existing = Counter(_signature_of(task) for task in self.store.list_tasks(all_states=True))
        for task in self.data.tasks:
            key = str(task.id)
            try:
                schedule, request = convert_task(task, self.now)
            except TaskSkipped as exc:
                self.report.skip("scheduled_tasks", key, str(exc))
                continue
            channel_id = self._task_channel(request)
            if channel_id is None:
                missing = "is not a linked channel" if request.target == "channel" else "was not imported"
                self.report.skip("scheduled_tasks", key, f"{request.target} {request.target_id} {missing}")
                continue
            signature = _signature(schedule, request.to_json())
            if existing[signature] > 0:
                existing[signature] -= 1
                self.report.present("scheduled_tasks")
                continue
            self._add_task(schedule, request, channel_id)

    def _task_channel(self, request: SendRequest) -> str | None:
        if request.target == "channel":
            return request.target_id if request.target_id in self.links else None
        if request.target_id in self.thread_channels:
            return self.thread_channels[request.target_id]
        mapped = self.store.session_for_thread(request.target_id)
        return None if mapped is None else mapped.channel_id

    def _add_task(self, schedule: Schedule, request: SendRequest, channel_id: str) -> None:
        self._write(lambda: self.store.add_task(schedule, request, channel_id=channel_id))
        self.report.imported("scheduled_tasks")


def _oldest_first(thread: KimakiThread) -> datetime:
    # Mapped oldest first, so for a session shown in several threads the newest wins (as in kimaki).
    return thread.updated_at or datetime.min.replace(tzinfo=UTC)


def _signature(schedule: Schedule, payload: dict[str, Any]) -> tuple[object, ...]:
    text = json.dumps(payload, sort_keys=True)
    return (schedule.kind, schedule.run_at, schedule.cron, schedule.timezone, text)


def _signature_of(task: ScheduledTask) -> tuple[object, ...]:
    text = json.dumps(dict(task.payload), sort_keys=True)
    return (task.kind, task.run_at, task.cron, task.timezone, text)
