"""/new-worktree and /merge-worktree: a session on its own git branch and checkout, in a thread
marked ⬦, and merging that branch back into the project (rebase, then fast-forward).

The thread maps to the worktree's directory, so everything the agent does there happens in the
worktree. Run in a thread, /new-worktree forks that thread's session and moves the copy into the
worktree, so the new thread goes on from the conversation. /merge-worktree finds the branch and
the project checkout from the thread's directory.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from kimaki_tui.bot.access import display_name
from kimaki_tui.bot.commands.common import (
    Place,
    bot_of,
    enter,
    enter_session_thread,
    locate,
    permitted,
    say,
)
from kimaki_tui.bot.threads import thread_name
from kimaki_tui.core.api import HistoryError, ResumePlan
from kimaki_tui.core.prompts import PromptInput
from kimaki_tui.core.worktree_admin import delete_worktree
from kimaki_tui.core.worktrees import (
    RebaseConflict,
    Worktree,
    WorktreeError,
    conflict_prompt,
    create_worktree,
    merge_worktree,
    project_branches,
)

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

WORKTREE_MARK = "⬦ "
QUIET = discord.AllowedMentions.none()
CHOICES_MAX = 25  # Discord's limit on autocomplete choices
SANDBOXED_CHANNEL = (
    "This channel's threads run in sandboxes, each already on a git worktree of its own (branch "
    "`kimaki/sandbox-<thread id>`), and a /new-worktree thread would run outside one. Start a thread "
    "with a message instead, or set `/sandbox none` for this channel first."
)


def unmarked(name: str) -> str:
    """The thread name without the ⬦ worktree mark (shown once the branch is merged)."""
    return name[len(WORKTREE_MARK) :] if name.startswith(WORKTREE_MARK) else name


async def auto_worktree(directory: str, name: str, thread_id: str, data_dir: Path) -> tuple[str, str]:
    """A new thread's own worktree (--use-worktrees, /auto-worktrees): (its directory, the thread's
    name with the ⬦ mark). The branch is named after the thread, plus the end of its id to stay unique."""
    worktree = await create_worktree(directory, f"{name[:30]} {thread_id[-6:]}", data_dir)
    return str(worktree.path), thread_name(WORKTREE_MARK + name)


def _forked_thread(bot: KimakiBot, place: Place) -> str | None:
    """In a thread whose session exists: that thread (its session is forked into the worktree)."""
    view = bot.core.conversations.get(place.thread_id) if place.thread_id else None
    return place.thread_id if view is not None and view.session_id else None


async def _drop_new_worktree(worktree: Worktree) -> None:
    """Remove a worktree made for a fork that failed (kept if it holds commits the project lacks,
    as one made from another base branch does)."""
    try:
        await delete_worktree(worktree.project, worktree.name)
    except WorktreeError as exc:
        log.info("kept worktree %s after a failed fork: %s", worktree.path, exc)


async def _worktree_thread(
    bot: KimakiBot,
    channel: discord.TextChannel,
    worktree: Worktree,
    plan: ResumePlan | None,
    user: discord.User | discord.Member,
) -> discord.Thread:
    """The worktree's ⬦ thread, showing the forked session `plan` or a new one in the worktree."""
    thread = await channel.create_thread(
        name=thread_name(f"{WORKTREE_MARK}worktree: {worktree.name}"),
        type=discord.ChannelType.public_thread,
        auto_archive_duration=1440,
    )
    await thread.add_user(user)
    thread_id, channel_id = str(thread.id), str(channel.id)
    if plan is not None:
        bot.core.resume.bind(thread_id, channel_id, plan, origin="fork")
    else:
        bot.core.conversations.open(thread_id, channel_id, str(worktree.path))
    if bot.output is not None:
        bot.output.titles.follow(thread_id)  # "⬦ worktree: …" until the session has a title
    return thread


class WorktreesCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="new-worktree", description="Start a session in a new git worktree (own branch) in a new thread"
    )
    @app_commands.describe(
        name="Name of the worktree and its branch (kimaki/<name>)",
        prompt="First message",
        base_branch="The branch to start from (default: the project's checked-out branch)",
    )
    @app_commands.rename(base_branch="base-branch")
    @app_commands.guild_only()
    async def new_worktree(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, 60],
        prompt: app_commands.Range[str, 1, 6000] | None = None,
        base_branch: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        entered = await enter(interaction)
        if entered is None:
            return
        bot, place = entered
        project = bot.core.projects.directory_of(place.channel_id)
        if place.channel is None or project is None:
            await say(interaction, "I cannot find this project's channel.")
            return
        if bot.core.sandboxes.available and bot.core.sandboxes.mode(place.channel_id) != "none":
            # Its thread would run on the shared server, outside any sandbox.
            await say(interaction, SANDBOXED_CHANNEL)
            return
        source = _forked_thread(bot, place)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            worktree = await create_worktree(project, name, bot.settings.data_dir, base_branch)
        except WorktreeError as exc:
            await say(interaction, str(exc))
            return
        try:
            plan = await bot.core.history.fork_into(source, str(worktree.path)) if source else None
        except HistoryError as exc:
            await _drop_new_worktree(worktree)
            await say(interaction, str(exc))
            return
        thread = await _worktree_thread(bot, place.channel, worktree, plan, interaction.user)
        thread_id = str(thread.id)
        based = f" (from `{base_branch}`)" if base_branch else ""
        forked = f"\nForked from <#{source}>: the session goes on from its conversation." if source else ""
        await thread.send(
            f"🌳 **Worktree ready** — branch `{worktree.branch}`{based} in `{worktree.path}`.{forked}\n"
            "Messages in this thread run there. /merge-worktree merges the branch into the project.",
            allowed_mentions=QUIET,
        )
        if prompt:
            user = interaction.user
            await bot.core.conversations.submit(
                thread_id, PromptInput(prompt, str(user.id), display_name(user), origin="discord")
            )
        await say(interaction, f"Created {thread.mention} on branch `{worktree.branch}`.")

    @new_worktree.autocomplete("base_branch")
    async def base_branch_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        bot = bot_of(interaction)
        place = locate(bot, interaction.channel)
        if place is None or permitted(bot, interaction.user) is not None:
            return []
        project = bot.core.projects.directory_of(place.channel_id) or place.directory
        typed = current.strip().lower()
        matching = [b for b in await project_branches(project) if typed in b.lower()]
        return [app_commands.Choice(name=b[:100], value=b) for b in matching[:CHOICES_MAX]]

    @app_commands.command(
        name="merge-worktree",
        description="Merge this worktree's branch into the project (rebase, then fast-forward)",
    )
    @app_commands.guild_only()
    async def merge_worktree(self, interaction: discord.Interaction) -> None:
        entered = await enter_session_thread(interaction)
        if entered is None:
            return
        bot, view = entered
        if view.busy:
            await say(interaction, "The agent is still working; wait for it (or /abort), then merge.")
            return
        await interaction.response.defer(thinking=True)
        try:
            merged = await merge_worktree(view.directory)
        except RebaseConflict as exc:
            who = interaction.user
            await say(interaction, f"⚠️ {exc}", ephemeral=False)
            prompt = PromptInput(conflict_prompt(exc), str(who.id), display_name(who), origin="discord")
            await bot.core.conversations.submit(view.thread_id, prompt)
            return
        except WorktreeError as exc:
            await say(interaction, f"⚠️ {exc}", ephemeral=False)
            return
        thread = interaction.channel
        if isinstance(thread, discord.Thread) and thread.name.startswith(WORKTREE_MARK):
            await thread.edit(name=unmarked(thread.name))
        commits = f"{merged.commits} commit{'s' if merged.commits != 1 else ''}"
        await say(
            interaction,
            f"✅ Merged `{merged.branch}` into `{merged.target}` ({commits}) in `{merged.project}`.",
            ephemeral=False,
        )


async def setup(bot: KimakiBot) -> None:
    from kimaki_tui.bot.commands import worktree_list

    await bot.add_cog(WorktreesCog(bot))
    await worktree_list.setup(bot)
