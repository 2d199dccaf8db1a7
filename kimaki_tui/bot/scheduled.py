"""The scheduler's `TaskSubmitter` inside a running kimaki: the bot sends a due task itself.

It posts the task's starter message (the text `kimaki send` would post, without the CLI marker,
since nothing has to find it again) through discord.py, then starts the thread and session or
prompts the thread exactly as a marked message would (`sends`). Failures raise `SendFailed`,
whose text the scheduler records on the task.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING

import discord

from kimaki_tui.bot.cli_ingress import adopt
from kimaki_tui.bot.cli_marker import build_starter
from kimaki_tui.bot.sends import SendFailed, start_thread, submit
from kimaki_tui.scheduling.request import PostedStarter, SendRequest

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

QUIET = discord.AllowedMentions.none()  # a prompt may contain mentions: nobody is pinged


class BotTaskSubmitter:
    """Submits due tasks through the bot `current_bot()` returns (None while Discord is down)."""

    def __init__(self, current_bot: Callable[[], KimakiBot | None]) -> None:
        self._current_bot = current_bot

    async def submit_task(self, request: SendRequest) -> PostedStarter:
        bot = self._current_bot()
        if bot is None or not bot.is_ready():
            raise SendFailed("Discord is not connected")
        if request.target == "channel":
            return await _new_thread(bot, request)
        return await _in_thread(bot, request)


async def _new_thread(bot: KimakiBot, request: SendRequest) -> PostedStarter:
    channel = await _channel(bot, request.target_id)
    if not isinstance(channel, discord.TextChannel):
        raise SendFailed(f"{request.target_id} is not a text channel")
    directory = bot.core.projects.directory_of(str(channel.id))
    if directory is None:
        raise SendFailed(f"#{channel.name} is not a project channel of this kimaki")
    starter = await _post(channel, request)
    thread_id = await start_thread(bot, starter, channel, directory, request)
    return PostedStarter(str(channel.id), str(starter.id), thread_id, str(channel.guild.id))


async def _in_thread(bot: KimakiBot, request: SendRequest) -> PostedStarter:
    thread = await _channel(bot, request.target_id)
    if not isinstance(thread, discord.Thread):
        raise SendFailed(f"{request.target_id} is not a thread")
    if bot.core.conversations.get(str(thread.id)) is None and not adopt(bot, thread):
        raise SendFailed(f"thread {thread.name} is not one of this kimaki's sessions")
    starter = await _post(thread, request)
    await submit(bot, starter, str(thread.id), request, remember=False)
    return PostedStarter(str(thread.id), str(starter.id), str(thread.id), str(thread.guild.id))


async def _channel(bot: KimakiBot, channel_id: str) -> object:
    channel = bot.get_channel(int(channel_id))
    if channel is not None:
        return channel
    try:
        return await bot.fetch_channel(int(channel_id))
    except discord.NotFound:
        raise SendFailed(f"channel {channel_id} does not exist (any more)") from None
    except discord.HTTPException as exc:
        raise SendFailed(f"cannot read channel {channel_id}: {exc.text or exc}") from None


async def _post(channel: discord.TextChannel | discord.Thread, request: SendRequest) -> discord.Message:
    """The starter message: the prompt (in prompt.md when too long for a message)."""
    starter = build_starter(request)
    files = [discord.File(io.BytesIO(data), filename=name) for name, data in starter.files]
    try:
        return await channel.send(starter.content, files=files, allowed_mentions=QUIET)
    except discord.HTTPException as exc:
        raise SendFailed(f"cannot post in {channel.name}: {exc.text or exc}") from None
