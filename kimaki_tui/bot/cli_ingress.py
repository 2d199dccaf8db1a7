"""The running bot's half of `kimaki send`: its own messages that carry the CLI marker are prompts.

In a project channel the marked message starts a thread (named from the prompt or `--name`, in a
new git worktree with `--worktree`) and a session with the marker's agent and model; with
`--notify-only` only the thread is made, and the first reply there starts the session. In a
thread the marked message is the next prompt of that thread's session. A prompt too long for a
message arrives as the attachment the marker names. Places this instance does not own are left
to the machine that does.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from kimaki_tui.bot.cli_marker import Marker, marker_from_embeds, prompt_from_content
from kimaki_tui.bot.errors import explain
from kimaki_tui.bot.threads import thread_name
from kimaki_tui.core.prompts import PromptInput
from kimaki_tui.opencode.errors import OpenCodeError
from kimaki_tui.store.records import UNSET

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

CLI_AUTHOR = "kimaki-cli"


async def handle(bot: KimakiBot, message: discord.Message) -> None:
    """A message the bot wrote: act on it if it carries the CLI marker, else ignore it."""
    marker = marker_from_embeds([embed.to_dict() for embed in message.embeds])
    if marker is None:
        return
    channel = message.channel
    if isinstance(channel, discord.Thread) and not marker.start:
        if bot.core.has_thread(str(channel.id)) or adopt(bot, channel):
            await _prompt_thread(bot, message, channel, marker)
    elif isinstance(channel, discord.TextChannel) and marker.start:
        directory = bot.core.channel_directory(str(channel.id))
        if directory is not None:
            await _start_thread(bot, message, channel, directory, marker)


def adopt(bot: KimakiBot, thread: discord.Thread) -> bool:
    """A thread the bot started in one of this instance's project channels gets a runtime (a
    notify-only thread whose first reply comes after a restart, for instance)."""
    if bot.user is None or thread.owner_id != bot.user.id or thread.parent_id is None:
        return False
    directory = bot.core.channel_directory(str(thread.parent_id))
    if directory is None:
        return False
    bot.core.open_thread(str(thread.id), str(thread.parent_id), directory)
    return True


async def _start_thread(
    bot: KimakiBot, message: discord.Message, channel: discord.TextChannel, directory: str, marker: Marker
) -> None:
    prompt = await _read_prompt(message, marker)
    if prompt is None:
        return
    name = thread_name(marker.name or prompt)
    if marker.worktree:
        worked = await _worktree(bot, message, directory, marker.worktree)
        if worked is None:
            return
        directory, name = worked[0], thread_name(worked[1] + name)
    try:
        thread = await message.create_thread(name=name, auto_archive_duration=1440)
    except discord.HTTPException as exc:
        log.warning("could not start a thread for a CLI message in #%s: %s", channel.name, exc)
        return
    thread_id = str(thread.id)
    bot.core.open_thread(thread_id, str(channel.id), directory)
    if marker.user_id:
        await _add_member(thread, marker.user_id)
    if marker.notify_only:
        return
    await _submit(bot, message, thread_id, prompt, marker, remember=True)


async def _prompt_thread(
    bot: KimakiBot, message: discord.Message, thread: discord.Thread, marker: Marker
) -> None:
    prompt = await _read_prompt(message, marker)
    if prompt is not None:
        await _submit(bot, message, str(thread.id), prompt, marker, remember=False)


async def _worktree(
    bot: KimakiBot, message: discord.Message, directory: str, name: str
) -> tuple[str, str] | None:
    """(worktree directory, thread name mark), or None after saying why it failed."""
    from kimaki_tui.bot.commands.worktrees import WORKTREE_MARK
    from kimaki_tui.core.worktrees import WorktreeError, create_worktree

    try:
        worktree = await create_worktree(directory, name, bot.options.data_dir)
    except WorktreeError as exc:
        await message.reply(f"⚠️ {exc}"[:2000], mention_author=False)
        return None
    return str(worktree.path), WORKTREE_MARK


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


async def _submit(
    bot: KimakiBot, message: discord.Message, thread_id: str, text: str, marker: Marker, *, remember: bool
) -> None:
    from kimaki_tui.bot.ingress import submit_notice

    author = await _author_name(message.guild, marker.user_id)
    prompt = PromptInput(
        text,
        author_id=marker.user_id or str(message.author.id),
        author_name=author,
        # "discord": the prompt is already visible there (the marked message), no » echo needed.
        source="discord",
        agent=marker.agent,
        model=marker.model,
        discord_message_id=str(message.id),
    )
    try:
        result = await bot.core.submit(thread_id, prompt)
    except OpenCodeError as exc:
        _say(bot, thread_id, explain(exc) or str(exc))
        return
    session_id = bot.core.runtime(thread_id).session_id
    if remember and session_id and (marker.agent or marker.model):
        # The session keeps the CLI's choice for the replies that follow.
        bot.core.store.set_session_pref(session_id, model=marker.model or UNSET, agent=marker.agent or UNSET)
    notice = submit_notice(result)
    if notice:
        _say(bot, thread_id, notice)


async def _author_name(guild: discord.Guild | None, user_id: str | None) -> str:
    if guild is None or not user_id:
        return CLI_AUTHOR
    member = guild.get_member(int(user_id))
    if member is None:
        try:
            member = await guild.fetch_member(int(user_id))
        except discord.HTTPException:
            return CLI_AUTHOR
    return member.display_name or member.name


async def _add_member(thread: discord.Thread, user_id: str) -> None:
    try:
        await thread.add_user(discord.Object(int(user_id)))
    except discord.HTTPException as exc:
        log.warning("could not add user %s to thread %s: %s", user_id, thread.id, exc)


def _say(bot: KimakiBot, thread_id: str, text: str) -> None:
    if bot.output is not None:
        bot.output.say(thread_id, text[:2000])
