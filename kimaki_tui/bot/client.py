"""KimakiBot: the discord.py client with the core's API injected. Wires the cogs, persistent views, the
one error handler and the output router; the GuildKeeper syncs commands to allowed servers only.
The caller runs it with `async with bot: await bot.start(token)` (never `Client.run()`, which owns
the loop and logging).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from kimaki_tui.bot import errors
from kimaki_tui.bot.agent_requests import DYNAMIC_TOOL_ITEMS, AgentRequests
from kimaki_tui.bot.external_sync import ExternalSync
from kimaki_tui.bot.global_limit import install_global_limit_guard
from kimaki_tui.bot.global_pace import GlobalPace, pace_trace
from kimaki_tui.bot.guilds import GuildKeeper, install_gate
from kimaki_tui.bot.opening import OpeningThreads
from kimaki_tui.bot.outgoing import install_outgoing_filter, use_masking_webhooks

if TYPE_CHECKING:
    from kimaki_tui.bot.output import OutputRouter
    from kimaki_tui.core.api import CoreApi
    from kimaki_tui.secrets import SecretStore
    from kimaki_tui.settings import DiscordSettings, Settings

log = logging.getLogger(__name__)


def make_intents(options: DiscordSettings) -> discord.Intents:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    # Typing in a session thread starts resuming its paused sandbox before the message (activity.py).
    intents.guild_typing = True
    intents.message_content = True
    intents.members = options.members_intent
    return intents


class KimakiBot(commands.Bot):
    """`settings` is the run's whole tree (the bot reads `discord`, `voice` and the paths); `secrets`
    the run's one SecretStore (a Gemini key set from Discord goes there); `app_id` this bot's
    application (from its token); `pace` keeps its REST requests under Discord's global limit."""

    def __init__(
        self,
        core: CoreApi,
        *,
        settings: Settings,
        secrets: SecretStore,
        app_id: str | None = None,
        pace: GlobalPace | None = None,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=make_intents(settings.discord),
            help_command=None,
            guild_ready_timeout=settings.discord.guild_ready_timeout,
            # No bot message may ping anyone (a prompt or an echo can contain <@id>); a send or an
            # edit that passes allowed_mentions itself must pass AllowedMentions.none() too.
            allowed_mentions=discord.AllowedMentions.none(),
            # No message cache: edits and deletions come from the raw events, and discord.py's
            # default keeps the last 1,000 messages (several MB) that kimaki never reads again.
            max_messages=None,
            http_trace=pace_trace(pace or GlobalPace()),
        )
        self.core = core
        self.settings = settings
        self.secrets = secrets
        self.app_id = app_id
        self.output: OutputRouter | None = None
        self.opening_threads = OpeningThreads()
        self.guild_keeper = GuildKeeper(self)
        self.agent_requests = AgentRequests(self)  # what the agent's Discord tools wait for
        self.external_sync = ExternalSync(self)  # threads for sessions started outside kimaki
        install_gate(self._connection, core.guilds.allowed)
        install_outgoing_filter(self)
        install_global_limit_guard(self.http)

    async def setup_hook(self) -> None:
        from kimaki_tui.bot import commands as slash_commands
        from kimaki_tui.bot.activity import ActivityCog
        from kimaki_tui.bot.ingress import IngressCog
        from kimaki_tui.bot.output import OutputRouter
        from kimaki_tui.bot.presence import show_bot_status
        from kimaki_tui.bot.queued_edits import QueuedEditsCog
        from kimaki_tui.bot.views import DYNAMIC_ITEMS

        await show_bot_status(self)  # before connecting: IDENTIFY carries it

        use_masking_webhooks()  # interaction replies: see bot/outgoing.py
        await slash_commands.register(self)
        ingress = IngressCog(self)
        await self.add_cog(ingress)
        await self.add_cog(QueuedEditsCog(self, ingress.order))  # in the threads' arrival order
        await self.add_cog(ActivityCog(self))
        self.add_dynamic_items(*DYNAMIC_ITEMS, *DYNAMIC_TOOL_ITEMS)
        self.tree.error(errors.on_app_command_error)
        self.output = OutputRouter(self)
        await self.output.start()
        self.external_sync.start()
        await self.guild_keeper.start(self.application or await self.application_info())

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: the ingress cog handles every message (and "@Kimaki fix this" must not
        be parsed as a command named "fix")."""

    async def sync_commands(self, guild: discord.abc.Snowflake) -> bool:
        """Publish the command tree to one guild (guild commands update at once, global ones don't),
        with the OpenCode workflows of its projects, unless it already has exactly these. False,
        and nothing sent, while OpenCode cannot say what its workflows are: sending without them
        would delete the server's workflow commands. Only for allowed servers: the GuildKeeper
        decides where."""
        from kimaki_tui.bot.command_sync import sync_guild
        from kimaki_tui.bot.commands.workflows import install

        if await install(self, guild.id) is None:
            return False
        await sync_guild(self, guild)
        return True

    async def on_thread_create(self, thread: discord.Thread) -> None:
        # Discord announces the thread at once; the request that created it may still be held
        # by discord.py, which sleeps out an exhausted rate-limit bucket before returning.
        self.opening_threads.finish(str(thread.id), created=True)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.guild_keeper.guild_ready(guild)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        # A guild joined while connected may arrive as "available" rather than "join" (discord.py
        # tells them apart by an optional field), so both paths evaluate it.
        await self.guild_keeper.guild_ready(guild)

    async def on_guild_update(self, before: discord.Guild, after: discord.Guild) -> None:
        if before.owner_id != after.owner_id or before.name != after.name:
            await self.guild_keeper.guild_ready(after)

    async def close(self) -> None:
        if self.output is not None:
            await self.output.close()
        await self.external_sync.close()
        self.guild_keeper.close()
        await super().close()
