"""The bot's side of server approval (the rule is kimaki_tui.core.guilds): tell the core who the
application's operators are and which servers the bot is in, register commands only in allowed
servers (and remove them from the others), post the one "waiting for approval" notice, and drop
every message and interaction from a server that is not allowed.

The drop happens in one place, before discord.py parses the gateway event (`install_gate`), so no
handler — slash command, autocomplete, button, select, modal or message — can answer there, now
or when one is added later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import discord

from kimaki_tui.bot.access import ensure_access_role
from kimaki_tui.core.events import GuildAccessChanged, ProjectLinksChanged
from kimaki_tui.core.guilds import PENDING_NOTICE
from kimaki_tui.opencode.status import ServerStatus
from kimaki_tui.setup.guide import PUBLIC_BOT

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

# Gateway events that can make the bot act; everything else only updates discord.py's cache.
GATED_EVENTS = ("MESSAGE_CREATE", "INTERACTION_CREATE")
QUIET = discord.AllowedMentions.none()
# Seconds between tries to read OpenCode's workflows for a server's commands while it cannot answer.
RETRY_FIRST, RETRY_MAX = 5.0, 120.0


def operator_ids(app: discord.AppInfo) -> set[str]:
    """The application's owner, or for a team-owned application its owner and accepted members."""
    team = app.team
    if team is None:
        return {str(app.owner.id)}
    accepted = discord.TeamMembershipState.accepted
    ids = {str(member.id) for member in team.members if member.membership_state == accepted}
    if team.owner_id is not None:
        ids.add(str(team.owner_id))
    return ids


def install_gate(connection: Any, allowed: Callable[[str | None], bool]) -> None:
    """Wrap discord.py's parsers of GATED_EVENTS so events from a server that is not allowed (and
    from outside any server: kimaki serves none there) are dropped before anything sees them."""
    parsers: dict[str, Callable[[Any], None]] = connection.parsers
    for event in GATED_EVENTS:
        parse = parsers[event]

        def gated(data: Any, parse: Callable[[Any], None] = parse, event: str = event) -> None:
            guild_id = data.get("guild_id") if isinstance(data, dict) else None
            if guild_id is None or not allowed(str(guild_id)):
                log.debug("ignored %s from server %s (not allowed)", event, guild_id)
                return
            parse(data)

        parsers[event] = gated


class GuildKeeper:
    """Applies each server's status to Discord: commands, the Kimaki role, the pending notice."""

    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot
        self.access = bot.core.guilds
        self.synced: set[int] = set()
        self._cleared: set[int] = set()
        self._waiting: set[int] = set()  # allowed servers whose commands wait for OpenCode
        self._locks: dict[int, asyncio.Lock] = {}
        self._role_checks: dict[int, asyncio.Task[object]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self, app: discord.AppInfo) -> None:
        """At login, before the gateway: the operators, then every server the bot is in (over
        REST, so commands are in place, or removed, before the first event arrives)."""
        self.access.set_operators(operator_ids(app))
        if app.bot_public:
            log.warning("%s", PUBLIC_BOT)
        self._unsubscribe = self.bot.core.subscribe(self._on_event)
        async for partial in self.bot.fetch_guilds(limit=None):
            try:
                guild = await self.bot.fetch_guild(partial.id, with_counts=False)
            except discord.HTTPException as exc:  # it stays unknown, so not served, until GUILD_CREATE
                log.warning("cannot read server %s (%s): %s", partial.name, partial.id, exc)
                continue
            self.access.seen(str(guild.id), guild.name, _owner(guild))
            await self.apply(guild.id)

    async def guild_ready(self, guild: discord.Guild) -> None:
        """A server became available or was joined (GUILD_CREATE), or changed owner or name."""
        record = self.access.seen(str(guild.id), guild.name, _owner(guild))
        await self.apply(guild.id)
        if record.status == "pending":
            await self._post_notice(guild)

    async def apply(self, guild_id: int, *, recompute: bool = False) -> None:
        """Commands in an allowed server, none elsewhere; the Kimaki role only where allowed.
        `recompute`: work the commands out again even if they were sent (OpenCode's workflows or
        the server's projects changed). A refusal (the bot was added without the
        applications.commands scope) is only logged."""
        try:
            await self._apply(guild_id, recompute)
        except discord.HTTPException as exc:
            log.warning("updating the commands of server %s failed: %s", guild_id, exc)

    async def _apply(self, guild_id: int, recompute: bool = False) -> None:
        lock = self._locks.setdefault(guild_id, asyncio.Lock())
        async with lock:
            target = discord.Object(guild_id)
            if self.access.allowed(guild_id):
                if guild_id not in self.synced or recompute:
                    if await self.bot.sync_commands(target):
                        self.synced.add(guild_id)
                        self._waiting.discard(guild_id)
                    else:  # again once OpenCode is healthy, or after a while (a slow first read)
                        if guild_id not in self._waiting:
                            self._run(self._retry(guild_id))
                        self._waiting.add(guild_id)
                    self._cleared.discard(guild_id)
                self._check_role(guild_id)
            elif guild_id in self.synced or guild_id not in self._cleared:
                self.bot.tree.clear_commands(guild=target)
                await self.bot.tree.sync(guild=target)
                self.synced.discard(guild_id)
                self._cleared.add(guild_id)
                log.info("no commands in server %s (%s)", guild_id, self.access.status(guild_id))

    async def _retry(self, guild_id: int) -> None:
        delay = RETRY_FIRST
        while guild_id in self._waiting:
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)
            if guild_id in self._waiting:
                await self.apply(guild_id, recompute=True)

    async def refresh_commands(self) -> int:
        """Recompute the commands of every server they were registered in (OpenCode's agents,
        commands and skills may have changed) and send those that did; returns how many servers."""
        servers = sorted(self.synced | self._waiting)
        for guild_id in servers:
            await self.apply(guild_id, recompute=True)
        return len(servers)

    async def _post_notice(self, guild: discord.Guild) -> None:
        """Tell the server, once ever, that the operator must allow it."""
        channel = guild.system_channel
        if channel is None:
            log.warning("server %s (%s) has no system channel for the approval notice", guild.name, guild.id)
            return
        if not self.access.claim_notice(str(guild.id)):
            log.info(
                "server %s (%s) is still waiting for approval (notice already posted)", guild.name, guild.id
            )
            return
        try:
            await channel.send(PENDING_NOTICE.format(guild_id=guild.id), allowed_mentions=QUIET)
        except discord.HTTPException as exc:
            self.access.release_notice(str(guild.id))
            log.warning("could not post the approval notice in %s (%s): %s", guild.name, guild.id, exc)

    def _check_role(self, guild_id: int) -> None:
        guild = self.bot.get_guild(guild_id)
        running = self._role_checks.get(guild_id)
        if guild is not None and (running is None or running.done()):
            self._role_checks[guild_id] = asyncio.create_task(ensure_access_role(guild))

    def _on_event(self, event: object) -> None:
        if isinstance(event, GuildAccessChanged):
            self._run(self.apply(int(event.guild_id)))
        elif isinstance(event, ServerStatus) and event.state == "healthy":
            for guild_id in sorted(self._waiting):
                self._run(self.apply(guild_id, recompute=True))
        elif isinstance(event, ProjectLinksChanged) and self.access.allowed(event.guild_id):
            # The new project's workflows, or fewer; after a sync in progress, under its lock.
            self._run(self.apply(int(event.guild_id), recompute=True))

    def _run(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        for task in [*self._role_checks.values(), *self._tasks]:
            task.cancel()


def _owner(guild: discord.Guild) -> str | None:
    return str(guild.owner_id) if guild.owner_id else None
