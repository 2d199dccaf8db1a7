"""Edits and deletions of a thread's messages while they wait in its queue: the queued prompt
follows the message, and the message's "Queued" notice is reworded to say so. Read from the raw
events, since the bot keeps no message cache (an edit after a restart counts too); handled in the
thread's arrival order, shared with bot/ingress.py.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from kimaki_tui.core.ordering import ArrivalOrder

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

QUEUED_EDIT_TEXT = "✏️ Queued, edited — its new text is sent when the turns before it end."
QUEUED_DELETE_TEXT = "🗑️ The queued message was deleted: it was removed from the queue."


def queued_key(message_id: str) -> str:
    """The key of the "Queued" notice answering a thread message, for rewording it later."""
    return f"queued:{message_id}"


def text_edited(payload: discord.RawMessageUpdateEvent) -> bool:
    """Whether the update changed the text: an embed or pin change also sends MESSAGE_UPDATE, and
    only a person's edit stamps `edited_timestamp`."""
    before = payload.cached_message
    if before is not None:
        return before.content != payload.message.content
    return payload.message.edited_at is not None


class QueuedEditsCog(commands.Cog):
    def __init__(self, bot: KimakiBot, order: ArrivalOrder) -> None:
        self.bot = bot
        self.core = bot.core
        self.order = order

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """A queued message edited: the queued prompt follows. One already sent: logged only."""
        thread_id, message_id = str(payload.channel_id), str(payload.message_id)
        if self.core.conversations.get(thread_id) is None or not text_edited(payload):
            return
        text = payload.message.clean_content
        async with self.order.hold(thread_id):
            edited = self.core.conversations.edit_queued_message(thread_id, message_id, text)
        if edited and self.bot.output is not None:
            self.bot.output.reword(thread_id, queued_key(message_id), QUEUED_EDIT_TEXT)
        else:
            log.info("message %s in thread %s edited after it was sent: ignored", message_id, thread_id)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        thread_id, message_id = str(payload.channel_id), str(payload.message_id)
        if self.core.conversations.get(thread_id) is None:
            return
        async with self.order.hold(thread_id):
            removed = self.core.conversations.remove_queued_message(thread_id, message_id)
        if removed and self.bot.output is not None:
            self.bot.output.reword(thread_id, queued_key(message_id), QUEUED_DELETE_TEXT)
