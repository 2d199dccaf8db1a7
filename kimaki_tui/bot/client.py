"""KimakiBot: the discord.py client with the core injected. Wires the cogs, persistent views, the
one error handler and the output router, and syncs guild commands. The caller runs it with
`async with bot: await bot.start(token)` (never `Client.run()`, which owns the loop and logging).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from kimaki_tui.bot import errors
from kimaki_tui.bot.access import ensure_access_role
from kimaki_tui.bot.options import BotOptions
from kimaki_tui.bot.views import QuestionDrafts

if TYPE_CHECKING:
    from kimaki_tui.bot.output import OutputRouter
    from kimaki_tui.core.service import Core

log = logging.getLogger(__name__)


def make_intents(options: BotOptions) -> discord.Intents:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.message_content = True
    intents.members = options.members_intent
    return intents


class KimakiBot(commands.Bot):
    def __init__(self, core: Core, *, options: BotOptions) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=make_intents(options),
            help_command=None,
            guild_ready_timeout=options.guild_ready_timeout,
            allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=True),
        )
        self.core = core
        self.options = options
        self.output: OutputRouter | None = None
        self.question_drafts = QuestionDrafts()
        self._synced_guilds: set[int] = set()
        self._role_checks: dict[int, asyncio.Task[object]] = {}

    async def setup_hook(self) -> None:
        from kimaki_tui.bot import commands as slash_commands
        from kimaki_tui.bot.ingress import IngressCog
        from kimaki_tui.bot.output import OutputRouter
        from kimaki_tui.bot.views import DYNAMIC_ITEMS

        await slash_commands.register(self)
        await self.add_cog(IngressCog(self))
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        self.tree.error(errors.on_app_command_error)
        self.output = OutputRouter(self)
        self.output.start()
        async for guild in self.fetch_guilds(limit=None):
            await self.sync_commands(guild)

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: the ingress cog handles every message (and "@Kimaki fix this" must not
        be parsed as a command named "fix")."""

    async def sync_commands(self, guild: discord.abc.Snowflake) -> None:
        """Publish the command tree to one guild (guild commands update at once, global ones don't)."""
        self.tree.copy_global_to(guild=guild)
        synced = await self.tree.sync(guild=guild)
        self._synced_guilds.add(guild.id)
        log.info("synced %d command(s) to guild %s", len(synced), guild.id)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self._guild_ready(guild)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        # A guild joined while connected may arrive as "available" rather than "join" (discord.py
        # tells them apart by an optional field), so both paths sync what was not synced yet.
        await self._guild_ready(guild)

    async def _guild_ready(self, guild: discord.Guild) -> None:
        self._check_role(guild)
        if guild.id not in self._synced_guilds:
            await self.sync_commands(guild)

    def _check_role(self, guild: discord.Guild) -> None:
        running = self._role_checks.get(guild.id)
        if running is None or running.done():
            self._role_checks[guild.id] = asyncio.create_task(ensure_access_role(guild))

    async def close(self) -> None:
        if self.output is not None:
            await self.output.close()
        for task in self._role_checks.values():
            task.cancel()
        await super().close()
