"""Shows the status chosen with `kimaki bot status` (core.bot_status) as the bot's Discord presence."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from kimaki_tui.core.bot_status import BotStatus, read_bot_status

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

_KINDS = {
    "playing": discord.ActivityType.playing,
    "watching": discord.ActivityType.watching,
    "listening": discord.ActivityType.listening,
    "competing": discord.ActivityType.competing,
}


def activity_of(chosen: BotStatus) -> discord.Activity | discord.CustomActivity:
    if chosen.kind == "custom":
        return discord.CustomActivity(name=chosen.text)
    return discord.Activity(type=_KINDS[chosen.kind], name=chosen.text)


async def show_bot_status(bot: KimakiBot) -> None:
    """Read the chosen status and show it: kept for the next IDENTIFY (a reconnect), and sent at once
    when connected."""
    chosen = read_bot_status(bot.settings.data_dir)
    activity = activity_of(chosen) if chosen is not None else None
    status = discord.Status(chosen.status) if chosen is not None else discord.Status.online
    bot.activity = activity
    bot.status = status
    if bot.is_ready() and not bot.is_closed():
        await bot.change_presence(activity=activity, status=status)
    shown = "cleared" if chosen is None else f"{chosen.kind} {chosen.text!r} ({chosen.status})"
    log.info("bot status: %s", shown)
