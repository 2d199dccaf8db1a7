"""What turn routing reads of a Discord message in a session thread, and whether that message is
context for the session rather than a prompt (the rules are the core's: core/routing.py)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord

from kimaki_tui.core.routing import ThreadMessage, is_context, needs_answer

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

_MENTION = re.compile(r"<@[!&]?(\d+)>")


def thread_message(message: discord.Message, me: discord.ClientUser | None) -> ThreadMessage:
    """What turn routing reads of a message: is the bot (or its role) mentioned, does the message
    start by addressing someone else, and its words without the mentions."""
    my_id = me.id if me is not None else None
    own_role = message.guild.self_role if message.guild is not None else None
    mentions_bot = any(u.id == my_id for u in message.mentions) or (
        own_role is not None and own_role in message.role_mentions
    )
    first = _MENTION.match(message.content.lstrip())
    others = {str(my_id)} | ({str(own_role.id)} if own_role is not None else set())
    addressed_elsewhere = first is not None and first.group(1) not in others
    return ThreadMessage(
        _MENTION.sub("", message.content),
        mentions_bot,
        addressed_elsewhere,
        author=message.author.display_name,
        shown=message.clean_content,
    )


async def is_context_for(bot: KimakiBot, read: ThreadMessage, thread_id: str) -> bool:
    """Context for the session rather than a prompt: by the channel's turn routing, or in mention
    mode a message addressed to someone else."""
    settings = bot.settings.discord
    view = bot.core.conversations.get(thread_id)
    if view is None:  # not started yet: only the flags apply
        return settings.turn_routing != "off" and not needs_answer(read)
    # The question goes to the project's folder: a thread's own worktree or sandbox may be asleep.
    directory = bot.core.projects.directory_of(view.channel_id) or view.directory
    routing = bot.core.routing
    if not await routing.needs_answer(
        read, channel_id=view.channel_id, directory=directory, default=settings.turn_routing
    ):
        return True
    mention_mode = bot.core.preferences.mention_mode(view.channel_id, default=settings.mention_mode)
    return is_context(read, mention_mode=mention_mode)
