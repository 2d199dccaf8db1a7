"""/mention-mode on|off|default: the project channel's own mention mode, kept by the core (in a
thread it sets the thread's channel). On: only messages that mention the bot or start with `!`
start a thread there; "default" forgets the channel's choice (`--mention-mode` applies)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from kimaki_tui.bot.commands.common import enter, say

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

MentionChoice = Literal["on", "off", "default"]


def mention_mode_text(on: bool, *, own: bool) -> str:
    source = "" if own else " (the global default)"
    if on:
        return (
            f"Mention mode is **on** here{source}: only messages that mention me or start with `!` "
            "start a thread."
        )
    return f"Mention mode is **off** here{source}: every message starts a thread."


class ChannelSettingsCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="mention-mode",
        description="Start threads here only for messages that mention me or start with !",
    )
    @app_commands.describe(mode="on, off, or default (the global --mention-mode)")
    @app_commands.guild_only()
    async def mention_mode(self, interaction: discord.Interaction, mode: MentionChoice) -> None:
        entered = await enter(interaction)
        if entered is None:
            return
        bot, place = entered
        preferences = bot.core.preferences
        preferences.set_mention_mode(place.channel_id, None if mode == "default" else mode == "on")
        on = preferences.mention_mode(place.channel_id, default=bot.settings.discord.mention_mode)
        await say(interaction, mention_mode_text(on, own=mode != "default"), ephemeral=False)


async def setup(bot: KimakiBot) -> None:
    await bot.add_cog(ChannelSettingsCog(bot))
