"""/worktrees: the project's kimaki worktrees with their state, each with a Delete button.

Delete goes through core.worktree_admin, which refuses a worktree with uncommitted changes or
unmerged commits; the clicker is told what happened either way, and the list is redrawn.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from kimaki_tui.bot.commands.common import bot_of, enter, locate, permitted, say
from kimaki_tui.core.worktree_admin import WorktreeState, delete_worktree, list_worktrees
from kimaki_tui.core.worktrees import WorktreeError

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

SHOWN_MAX = 20  # 4 rows of 5 buttons stay within Discord's 5 action rows
QUIET = discord.AllowedMentions.none()


def describe(state: WorktreeState) -> str:
    if state.dirty:
        files = len(state.changed)
        status = f"✏️ {files} uncommitted file{'s' if files != 1 else ''}"
    else:
        status = "clean"
    if state.unmerged:
        status += f", {state.unmerged} unmerged commit{'s' if state.unmerged != 1 else ''}"
    return f"- `{state.name}` — branch `{state.branch}`, {status}"


def listing(states: list[WorktreeState]) -> tuple[str, discord.ui.View | None]:
    if not states:
        return "No kimaki worktrees in this project (make one with /new-worktree).", None
    lines = [f"🌳 **Worktrees** ({len(states)})", *(describe(s) for s in states[:SHOWN_MAX])]
    if len(states) > SHOWN_MAX:
        lines.append(f"-# and {len(states) - SHOWN_MAX} more")
    view = discord.ui.View(timeout=None)
    for state in states[:SHOWN_MAX]:
        view.add_item(DeleteWorktreeButton(state.name))
    return "\n".join(lines), view


class DeleteWorktreeButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"kimaki:wtdel:(?P<name>[a-z0-9-]{1,60})"
):
    def __init__(self, name: str) -> None:
        label = f"Delete {name}"[:80]
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label, style=discord.ButtonStyle.danger, custom_id=f"kimaki:wtdel:{name}"
        )
        super().__init__(button)
        self.name = name

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> DeleteWorktreeButton:
        return cls(match["name"])

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = bot_of(interaction)
        place = locate(bot, interaction.channel)
        refusal = permitted(bot, interaction.user)
        if refusal is not None or place is None:
            await interaction.response.send_message(refusal or "I cannot find this project.", ephemeral=True)
            return
        project = bot.core.projects.directory_of(place.channel_id) or place.directory
        try:
            deleted = await delete_worktree(project, self.name)
        except WorktreeError as exc:
            await interaction.response.send_message(f"⚠️ {exc}", ephemeral=True)
            return
        text = f"🗑️ Deleted worktree `{deleted.name}` (`{deleted.path}`) and its branch `{deleted.branch}`."
        await interaction.response.send_message(text, ephemeral=True)
        if interaction.message is not None:
            content, view = listing(await list_worktrees(project))
            await interaction.message.edit(content=content, view=view)


class WorktreeListCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="worktrees", description="List this project's worktrees, with a Delete button each"
    )
    @app_commands.guild_only()
    async def worktrees(self, interaction: discord.Interaction) -> None:
        entered = await enter(interaction)
        if entered is None:
            return
        bot, place = entered
        project = bot.core.projects.directory_of(place.channel_id)
        if project is None:
            await say(interaction, "I cannot find this project's channel.")
            return
        try:
            states = await list_worktrees(project)
        except WorktreeError as exc:
            await say(interaction, str(exc))
            return
        content, view = listing(states)
        if view is None:
            await interaction.response.send_message(content, allowed_mentions=QUIET)
        else:
            await interaction.response.send_message(content, view=view, allowed_mentions=QUIET)


async def setup(bot: KimakiBot) -> None:
    await bot.add_cog(WorktreeListCog(bot))
    bot.add_dynamic_items(DeleteWorktreeButton)
