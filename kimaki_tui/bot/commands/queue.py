"""/queue and /clear-queue: explicit queueing behind the running answer, and the persistent
"Remove from queue" button (custom_id `kimaki:queue:remove:<item id>`, valid across restarts).
The button goes once its prompt leaves the queue (sent, cleared or removed elsewhere); after a
restart a stale one answers "already sent or removed".
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from kimaki_tui.bot.access import display_name
from kimaki_tui.bot.commands.common import bot_of, enter_session_thread, locate, permitted, say
from kimaki_tui.core.events import QueueChanged, QueuedItem
from kimaki_tui.core.prompts import PromptInput

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot
    from kimaki_tui.core.api import ConversationView

log = logging.getLogger(__name__)
QUIET = discord.AllowedMentions.none()
LINE_MAX = 150
LIST_MAX = 1900


def dispatched_line(author: str, text: str) -> str:
    """The `» **user:** message` line shown when a prompt goes to OpenCode."""
    prompt = " ".join(text.split())
    prompt = prompt if len(prompt) <= LINE_MAX else prompt[: LINE_MAX - 1] + "…"
    return f"» **{discord.utils.escape_markdown(author)}:** {prompt}"


def queued_text(position: int) -> str:
    return f"Queued (position {position})"


def cleared_text(items: Sequence[tuple[int, QueuedItem]], limit: int = LIST_MAX) -> str:
    """`Cleared N queued message(s):` and one line per item (position, author, prompt), capped."""
    head = f"Cleared {len(items)} queued message{'s' if len(items) != 1 else ''}:"
    lines = [head]
    size = len(head)
    for shown, (position, item) in enumerate(items):
        line = f"{position}. " + dispatched_line(item.author or item.origin, item.prompt)[2:]
        rest = f"… and {len(items) - shown} more"
        if size + 1 + len(line) + 1 + len(rest) > limit:
            lines.append(rest)
            break
        lines.append(line)
        size += 1 + len(line)
    return "\n".join(lines)


class RemoveQueuedButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"kimaki:queue:remove:(?P<item_id>[0-9]+)"
):
    def __init__(self, item_id: int) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label="Remove from queue",
            style=discord.ButtonStyle.secondary,
            custom_id=f"kimaki:queue:remove:{item_id}",
        )
        super().__init__(button)
        self.item_id = item_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RemoveQueuedButton:
        return cls(int(match["item_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = bot_of(interaction)
        place = locate(bot, interaction.channel)
        thread_id = place.thread_id if place else None
        if thread_id is None or bot.core.conversations.get(thread_id) is None:
            return  # not this instance's thread: another machine may answer
        refusal = permitted(bot, interaction.user)
        if refusal is not None:
            await interaction.response.send_message(refusal, ephemeral=True)
            return
        original = interaction.message.content if interaction.message else ""
        if bot.core.conversations.remove_queued(thread_id, self.item_id):
            text = (
                f"~~{original}~~ — removed by {discord.utils.escape_markdown(display_name(interaction.user))}"
            )
        else:
            text = f"{original} — already sent or removed"
        await interaction.response.edit_message(content=text[:2000], view=None, allowed_mentions=QUIET)


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (RemoveQueuedButton,)


def remove_view(item_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RemoveQueuedButton(item_id))
    return view


def _new_item(items: Sequence[QueuedItem], position: int, prompt: PromptInput) -> QueuedItem | None:
    """The item just queued at `position` (checked against its text, in case the queue moved)."""
    if 0 < position <= len(items) and items[position - 1].prompt == prompt.text:
        return items[position - 1]
    return next(
        (i for i in reversed(items) if i.prompt == prompt.text and i.author == prompt.author_name), None
    )


async def send_or_queue(
    interaction: discord.Interaction, bot: KimakiBot, view: ConversationView, prompt: PromptInput
) -> tuple[int, discord.WebhookMessage] | None:
    """Send the prompt when the thread is idle with nothing queued, else queue it behind the
    running answer (never interrupting it); the reply is the » line or the queue position.
    Returns the queued item and the reply carrying its "Remove" button, if there is one."""
    conversations = bot.core.conversations
    # Sending may wait for OpenCode longer than the 3 s Discord gives an answer.
    if not interaction.response.is_done():
        await interaction.response.defer(thinking=True)
    if not view.busy and not view.queued:
        # `submit`, not `enqueue`: a prompt sent from the queue gets its own » line in the thread,
        # and this reply already is that line.
        result = await conversations.submit(view.thread_id, prompt)
        if result.outcome in ("sent", "failed"):
            await say(interaction, dispatched_line(prompt.author_name, prompt.text), ephemeral=False)
            return None
    else:
        result = await conversations.enqueue(view.thread_id, prompt)
    item = _new_item(conversations.queue(view.thread_id), result.position, prompt)
    text = queued_text(result.position)
    if item is None:
        await interaction.followup.send(text, allowed_mentions=QUIET)
        return None
    sent = await interaction.followup.send(
        text, view=remove_view(item.item_id), allowed_mentions=QUIET, wait=True
    )
    return item.item_id, sent


class QueueCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot
        # item id → (thread id, channel id, message id) of the "Queued" message with its button
        self._buttons: dict[int, tuple[str, int, int]] = {}
        self._edits: set[asyncio.Task[None]] = set()
        self._unsubscribe: Callable[[], None] | None = None

    async def cog_load(self) -> None:
        self._unsubscribe = self.bot.core.subscribe(self._on_event)

    async def cog_unload(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def _on_event(self, event: object) -> None:
        if not isinstance(event, QueueChanged) or not self._buttons:
            return
        still = {item.item_id for item in event.items}
        mine = [i for i, (thread, _, _) in self._buttons.items() if thread == event.thread_id]
        gone = [i for i in mine if i not in still]
        for item_id in gone:
            _, channel_id, message_id = self._buttons.pop(item_id)
            task = asyncio.create_task(self._drop_button(channel_id, message_id))
            self._edits.add(task)
            task.add_done_callback(self._edits.discard)

    async def _drop_button(self, channel_id: int, message_id: int) -> None:
        """The prompt left the queue: its "Remove from queue" button would only refuse now."""
        message = self.bot.get_partial_messageable(channel_id).get_partial_message(message_id)
        try:
            await message.edit(view=None)
        except discord.HTTPException as exc:  # deleted meanwhile, or no access: nothing to fix
            log.info("could not drop the queue button of message %s: %s", message_id, exc)

    @app_commands.command(name="queue", description="Queue a message to send when the current answer ends")
    @app_commands.describe(message="The message to queue")
    @app_commands.guild_only()
    async def queue(
        self, interaction: discord.Interaction, message: app_commands.Range[str, 1, 6000]
    ) -> None:
        # No session yet (the thread's first message is still creating it): queued, held by the core.
        entered = await enter_session_thread(interaction)
        if entered is None:
            return
        bot, view = entered
        user = interaction.user
        author = display_name(user)
        prompt = PromptInput(message, author_id=str(user.id), author_name=author, origin="discord")
        shown = await send_or_queue(interaction, bot, view, prompt)
        if shown is not None:
            item_id, sent = shown
            if any(queued.item_id == item_id for queued in bot.core.conversations.queue(view.thread_id)):
                self._buttons[item_id] = (view.thread_id, sent.channel.id, sent.id)
            else:  # it left the queue while the reply was on its way
                await self._drop_button(sent.channel.id, sent.id)

    @app_commands.command(name="clear-queue", description="Clear this thread's queued messages, or only one")
    @app_commands.describe(position="Only clear the message at this position (1 = next)")
    @app_commands.guild_only()
    async def clear_queue(
        self, interaction: discord.Interaction, position: app_commands.Range[int, 1, 1000] | None = None
    ) -> None:
        entered = await enter_session_thread(interaction)
        if entered is None:
            return
        bot, view = entered
        conversations = bot.core.conversations
        items = list(enumerate(conversations.queue(view.thread_id), start=1))
        if not items:
            await say(interaction, "The queue is empty.")
            return
        if position is None:
            conversations.clear_queue(view.thread_id)
            cleared = items
        elif position > len(items):
            await say(
                interaction,
                f"There is no queued message at position {position} (the queue has {len(items)}).",
            )
            return
        else:
            cleared = [items[position - 1]]
            conversations.remove_queued(view.thread_id, cleared[0][1].item_id)
        await say(interaction, cleared_text(cleared), ephemeral=False)


async def setup(bot: KimakiBot) -> None:
    await bot.add_cog(QueueCog(bot))
