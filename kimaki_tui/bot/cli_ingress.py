"""The running bot's half of `kimaki send`: its own messages that carry the CLI marker are prompts.

The marker becomes a send request that `sends` acts on: in a project channel the marked message
starts a thread and a session, in a thread it is the session's next prompt. A prompt too long for
a message arrives as the attachment the marker names; other attachments are `--file`s, prepared
like any Discord attachment for the session. Places this instance does not own are left
to the machine that does. (The in-process scheduler skips this round trip: see `scheduled`.)
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from kimaki_tui.bot import attachments, sends
from kimaki_tui.bot.cli_marker import Marker, marker_from_embeds, prompt_from_content, request_from_marker

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)


async def handle(bot: KimakiBot, message: discord.Message) -> None:
    """A message the bot wrote: act on it if it carries the CLI marker, else ignore it."""
    marker = marker_from_embeds([embed.to_dict() for embed in message.embeds])
    if marker is None:
        return
    channel = message.channel
    if isinstance(channel, discord.Thread) and not marker.start:
        if bot.core.conversations.get(str(channel.id)) is not None or adopt(bot, channel):
            prompt = await _read_prompt(message, marker)
            if prompt is not None:
                request = request_from_marker(marker, str(channel.id), prompt)
                prepared = await _prepare(bot, message, marker, prompt, str(channel.id))
                await sends.submit(
                    bot,
                    message,
                    str(channel.id),
                    request,
                    remember=False,
                    text=prepared.text,
                    files=tuple(prepared.files),
                )
    elif isinstance(channel, discord.TextChannel) and marker.start:
        directory = bot.core.projects.directory_of(str(channel.id))
        if directory is None:
            return
        prompt = await _read_prompt(message, marker)
        if prompt is None:
            return
        # The thread started from the message has the message's id.
        prepared = await _prepare(bot, message, marker, prompt, str(message.id))
        request = request_from_marker(marker, str(channel.id), prompt)
        try:
            await sends.start_thread(
                bot, message, channel, directory, request, text=prepared.text, files=tuple(prepared.files)
            )
        except sends.SendFailed as exc:
            log.warning("CLI message %s in #%s: %s", message.id, channel.name, exc)


def adopt(bot: KimakiBot, thread: discord.Thread) -> bool:
    """A thread the bot started in one of this instance's project channels gets a runtime (a
    notify-only thread whose first reply comes after a restart, for instance)."""
    if bot.user is None or thread.owner_id != bot.user.id or thread.parent_id is None:
        return False
    directory = bot.core.projects.directory_of(str(thread.parent_id))
    if directory is None:
        return False
    bot.core.conversations.open(str(thread.id), str(thread.parent_id), directory)
    return True


async def _prepare(
    bot: KimakiBot, message: discord.Message, marker: Marker, prompt: str, thread_id: str
) -> attachments.Prepared:
    """The prompt with the message's `--file`s: text inlined, images and PDFs as file parts.
    Files that cannot be used are named in a reply to the message."""
    settings = bot.settings
    prepared = await attachments.prepare(
        message,
        prompt,
        save_dir=settings.attachments_dir / thread_id,
        max_inline=settings.discord.max_inline_text,
        max_size=settings.discord.max_attachment,
        exclude=marker.prompt_file,
    )
    if prepared.problems:
        try:
            await message.reply(prepared.left_out(), mention_author=False)
        except discord.HTTPException as exc:
            log.warning("could not reply to CLI message %s: %s", message.id, exc)
    return prepared


async def _read_prompt(message: discord.Message, marker: Marker) -> str | None:
    if not marker.prompt_file:
        return prompt_from_content(message.content, marker)
    attachment = next((a for a in message.attachments if a.filename == marker.prompt_file), None)
    if attachment is None:
        log.warning("CLI message %s names %s but has no such attachment", message.id, marker.prompt_file)
        return None
    try:
        return (await attachment.read()).decode("utf-8")
    except (discord.HTTPException, UnicodeDecodeError) as exc:
        log.warning("could not read %s of CLI message %s: %s", marker.prompt_file, message.id, exc)
        return None
