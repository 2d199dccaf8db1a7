"""/resume session: reopen an existing OpenCode session of the project in a new thread, replaying
its last answers so the conversation can go on where it stopped."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from kimaki_tui.bot.commands.common import bot_of, enter, locate, permitted, say
from kimaki_tui.bot.threads import thread_name
from kimaki_tui.core.api import ResumePlan
from kimaki_tui.opencode.errors import OpenCodeError, SessionNotFound
from kimaki_tui.opencode.schema import SessionInfo
from kimaki_tui.presentation.markdown import escape_markdown
from kimaki_tui.presentation.split import pack_texts

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

QUIET = discord.AllowedMentions.none()
CHOICES_MAX = 25
CHOICE_LEN = 100
RESUMED_TEXT = "Session resumed — send a message to continue."


def choice_label(info: SessionInfo) -> str:
    label = " ".join((info.title or info.id).split())
    return label if len(label) <= CHOICE_LEN else label[: CHOICE_LEN - 1] + "…"


class ResumeCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="resume", description="Reopen an existing OpenCode session of this project in a new thread"
    )
    @app_commands.describe(session="The session to resume (start typing its title)")
    @app_commands.guild_only()
    async def resume(self, interaction: discord.Interaction, session: str) -> None:
        entered = await enter(interaction)
        if entered is None:
            return
        bot, place = entered
        if place.thread is not None or place.channel is None:
            await say(interaction, "Use /resume in the project channel, not inside a thread.")
            return
        session_id = session.strip()
        resume = bot.core.resume
        bound = resume.bound_thread(session_id)
        if bound is not None:
            await say(interaction, f"That session is already open in <#{bound}>.")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            plan = await resume.load(session_id, place.directory)
        except SessionNotFound:
            await say(interaction, f"There is no OpenCode session `{session_id[:80]}` in this project.")
            return
        thread = await place.channel.create_thread(
            name=thread_name(f"Resume: {plan.info.title or plan.session_id}"),
            type=discord.ChannelType.public_thread,
            auto_archive_duration=1440,
        )
        await thread.add_user(interaction.user)
        await self._replay(bot, thread, plan)
        resume.bind(str(thread.id), place.channel_id, plan, origin="resume")
        await thread.send(RESUMED_TEXT, allowed_mentions=QUIET)
        await say(interaction, f"Resumed in {thread.mention}.")

    async def _replay(self, bot: KimakiBot, thread: discord.Thread, plan: ResumePlan) -> None:
        parts = plan.parts
        title = escape_markdown(plan.info.title or "untitled")[:200]
        shown = f"its last {len(parts)} answer part(s):" if parts else "no earlier answers to show."
        await thread.send(f"**Resuming** {title} (`{plan.session_id}`) — {shown}", allowed_mentions=QUIET)
        posted: dict[str, list[str]] = {}
        for text, part_ids in pack_texts([(part.part_id, part.text) for part in parts]):
            message = await thread.send(text, allowed_mentions=QUIET, suppress_embeds=True, silent=True)
            for part_id in part_ids:
                posted.setdefault(part_id, []).append(str(message.id))
        for part_id, message_ids in posted.items():
            # Recorded like live output, so a part is never posted twice in this thread.
            bot.core.posts.mark_posted(part_id, str(thread.id), plan.session_id, message_ids)

    @resume.autocomplete("session")
    async def session_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        bot = bot_of(interaction)
        place = locate(bot, interaction.channel)
        if place is None or permitted(bot, interaction.user) is not None:
            return []
        try:
            sessions = await bot.core.resume.candidates(place.directory, current, CHOICES_MAX)
        except OpenCodeError as exc:
            log.warning("listing sessions of %s for /resume failed: %s", place.directory, exc)
            return []
        return [app_commands.Choice(name=choice_label(info), value=info.id) for info in sessions]


async def setup(bot: KimakiBot) -> None:
    await bot.add_cog(ResumeCog(bot))
