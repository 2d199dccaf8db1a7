"""What every slash command needs: which project/thread an interaction is in, whether this
instance owns that place, the access check, and short ephemeral replies.

Interactions in channels this instance does not know are left unanswered (another machine
sharing the server may own them, and an interaction can be answered only once).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import discord

from kimaki_tui.bot.access import OUT_OF_SCOPE_TEXT, check, in_scope
from kimaki_tui.presentation.split import MESSAGE_LIMIT

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot
    from kimaki_tui.core.api import ConversationView

log = logging.getLogger(__name__)

# Commands answered anywhere in the guild, whoever owns the channel.
UNOWNED_OK = frozenset({"add-project", "create-new-project"})
REFUSED_TEXT = "You cannot use kimaki here."
NEEDS_THREAD_TEXT = "Use this command inside a kimaki session thread."
NO_SESSION_TEXT = "No session in this thread yet — send a message instead."


@dataclass(frozen=True, slots=True)
class Place:
    """Where an interaction happened: the project channel and, inside a thread, the thread."""

    channel_id: str
    directory: str
    thread: discord.Thread | None = None
    channel: discord.TextChannel | None = None

    @property
    def thread_id(self) -> str | None:
        return str(self.thread.id) if self.thread is not None else None


def bot_of(interaction: discord.Interaction) -> KimakiBot:
    return cast("KimakiBot", interaction.client)


def locate(bot: KimakiBot, channel: object) -> Place | None:
    """The project place of a channel or thread, or None when this instance does not own it."""
    core = bot.core
    if isinstance(channel, discord.Thread):
        view = core.conversations.get(str(channel.id))
        if view is not None:
            return Place(view.channel_id, view.directory, channel, _text(channel.parent))
        parent_id = str(channel.parent_id)
        directory = core.projects.directory_of(parent_id)
        return None if directory is None else Place(parent_id, directory, channel, _text(channel.parent))
    if isinstance(channel, discord.TextChannel):
        directory = core.projects.directory_of(str(channel.id))
        return None if directory is None else Place(str(channel.id), directory, None, channel)
    return None


def _text(channel: object) -> discord.TextChannel | None:
    return channel if isinstance(channel, discord.TextChannel) else None


async def owns_interaction(bot: KimakiBot, interaction: discord.Interaction) -> bool:
    """The command tree's gate: False (and no answer at all) outside this instance's channels; a
    channel the operator's allow-list leaves out gets a short ephemeral answer."""
    if not in_scope(interaction.channel, bot.settings.discord):
        if interaction.type is not discord.InteractionType.autocomplete:
            await interaction.response.send_message(OUT_OF_SCOPE_TEXT, ephemeral=True)
        return False
    name = cast("dict[str, Any]", interaction.data or {}).get("name")
    if name in UNOWNED_OK:
        return True
    return locate(bot, interaction.channel) is not None


def permitted(bot: KimakiBot, user: discord.User | discord.Member) -> str | None:
    """None when the user may use kimaki, else the refusal to show them."""
    decision = check(user, bot.user, bot.settings.discord)
    return None if decision.allowed else decision.reply or REFUSED_TEXT


async def say(interaction: discord.Interaction, text: str, *, ephemeral: bool = True) -> None:
    """Answer, or follow up when the interaction was already answered (deferred)."""
    text = text[:MESSAGE_LIMIT]
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=ephemeral)
    else:
        await interaction.response.send_message(text, ephemeral=ephemeral)


async def enter(interaction: discord.Interaction) -> tuple[KimakiBot, Place] | None:
    """Access check and place of a command; refusals are answered here, ephemerally."""
    bot = bot_of(interaction)
    place = locate(bot, interaction.channel)
    if place is None:
        # The tree's gate already filtered these; stay silent if one slips through.
        return None
    refusal = permitted(bot, interaction.user)
    if refusal is not None:
        await say(interaction, refusal)
        return None
    return bot, place


async def enter_session_thread(
    interaction: discord.Interaction, *, need_session: bool = False
) -> tuple[KimakiBot, ConversationView] | None:
    """Like `enter`, for commands that act on a thread's conversation."""
    entered = await enter(interaction)
    if entered is None:
        return None
    bot, place = entered
    if place.thread_id is None:
        await say(interaction, NEEDS_THREAD_TEXT)
        return None
    view = bot.core.conversations.get(place.thread_id)
    if view is None or (need_session and view.session_id is None):
        await say(interaction, NO_SESSION_TEXT)
        return None
    return bot, view
