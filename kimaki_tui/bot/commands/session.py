"""/session prompt: start a new thread and session from a command, as a channel message would."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from kimaki_tui.bot.access import display_name
from kimaki_tui.bot.commands.common import Place, enter, say
from kimaki_tui.bot.threads import thread_name
from kimaki_tui.core.prompts import PromptInput

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

QUIET = discord.AllowedMentions.none()
EXCERPT_MAX = 1500


def starter_text(prompt: str, user_mention: str) -> str:
    """The channel message a /session thread hangs from: who started it and (the start of) the prompt."""
    excerpt = prompt.strip()
    if len(excerpt) > EXCERPT_MAX:
        excerpt = excerpt[: EXCERPT_MAX - 1].rstrip() + "…"
    quoted = "\n".join(f"> {line}" for line in excerpt.splitlines() or [""])
    return f"**Starting OpenCode session** — {user_mention}\n{quoted}"


class SessionCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="session", description="Start a new OpenCode session (in a new thread) with a prompt"
    )
    @app_commands.describe(prompt="What to ask OpenCode")
    @app_commands.guild_only()
    async def session(
        self, interaction: discord.Interaction, prompt: app_commands.Range[str, 1, 6000]
    ) -> None:
        entered = await enter(interaction)
        if entered is None:
            return
        bot, place = entered
        thread = await open_thread(interaction, bot, place, prompt)
        if thread is None:
            return
        user = interaction.user
        await bot.core.conversations.submit(
            str(thread.id),
            PromptInput(prompt, author_id=str(user.id), author_name=display_name(user), origin="discord"),
        )
        await say(interaction, f"Started {thread.mention}.")


async def open_thread(
    interaction: discord.Interaction, bot: KimakiBot, place: Place, prompt: str
) -> discord.Thread | None:
    """A new thread in the project channel, hanging from a message quoting `prompt`, with its
    conversation opened (the interaction is deferred if it was not); None (said) without the channel."""
    channel = place.channel or bot.get_channel(int(place.channel_id))
    if not isinstance(channel, discord.TextChannel):
        await say(interaction, "I cannot find this project's channel.")
        return None
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)
    starter = await channel.send(
        starter_text(prompt, interaction.user.mention), allowed_mentions=QUIET, silent=True
    )
    thread = await starter.create_thread(name=thread_name(prompt), auto_archive_duration=1440)
    bot.core.conversations.open(str(thread.id), place.channel_id, place.directory)
    if bot.output is not None:
        bot.output.titles.follow(str(thread.id))  # named from the prompt: the session's title wins
    return thread


async def setup(bot: KimakiBot) -> None:
    await bot.add_cog(SessionCog(bot))
