"""/add-project and /remove-project: link a directory to a new channel under "Kimaki", or unlink
a project channel and delete it (the directory on disk is never touched)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from kimaki_tui.bot.channels import (
    ProjectChannelError,
    create_project_channel,
    linked_channel,
    resolve_project_dir,
)
from kimaki_tui.bot.commands.common import bot_of, enter, permitted, say
from kimaki_tui.opencode.errors import OpenCodeError

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

CHOICES_MAX = 25
CHOICE_LEN = 100


def project_choices(candidates: list[str], typed: str, linked: set[str]) -> list[str]:
    """Directories to offer: existing, not linked here yet, matching what was typed, ≤ 25 and
    short enough for a choice value (a longer path can still be typed in full)."""
    needle = typed.strip().lower()
    seen: set[str] = set()
    chosen: list[str] = []
    for path in candidates:
        if (
            path in seen
            or path in linked
            or len(path) > CHOICE_LEN
            or (needle and needle not in path.lower())
        ):
            continue
        seen.add(path)
        chosen.append(path)
    return chosen[:CHOICES_MAX]


async def known_directories(bot: KimakiBot, typed: str) -> list[str]:
    """OpenCode's project worktrees, plus the typed path when it is an existing absolute directory."""
    try:
        projects = await bot.core.projects.opencode_projects()
    except OpenCodeError as exc:
        log.warning("listing OpenCode projects for /add-project failed: %s", exc)
        projects = []
    worktrees = sorted((p for p in projects if p.worktree), key=lambda p: -p.updated)
    # "/" is OpenCode's global project (sessions outside any repository), not a real project.
    paths = [p.worktree for p in worktrees if p.worktree != "/"]
    return _existing_dirs([typed.strip(), *paths])


def _existing_dirs(paths: list[str]) -> list[str]:
    """The absolute paths (without `..`) that are directories, resolved."""
    found: list[str] = []
    for text in paths:
        path = Path(text).expanduser()
        if text and path.is_absolute() and ".." not in path.parts and path.is_dir():
            found.append(str(path.resolve()))
    return found


class ProjectsCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="add-project", description="Create a channel for a project directory on this machine"
    )
    @app_commands.describe(project="Absolute path of the project directory")
    @app_commands.guild_only()
    async def add_project(self, interaction: discord.Interaction, project: str) -> None:
        bot = bot_of(interaction)
        refusal = permitted(bot, interaction.user)
        guild = interaction.guild
        if refusal is not None or guild is None:
            await say(interaction, refusal or "Use /add-project in a server.")
            return
        try:
            directory = resolve_project_dir(project)
        except ProjectChannelError as exc:
            await say(interaction, str(exc))
            return
        existing = linked_channel(bot, guild, directory)
        if existing is not None:
            await say(interaction, f"`{directory}` already has its channel here: {existing.mention}.")
            return
        await interaction.response.defer(thinking=True)
        try:
            channel = await create_project_channel(bot, guild, directory)
        except ProjectChannelError as exc:
            await say(interaction, str(exc))
            return
        await say(interaction, f"Created {channel.mention} for `{directory}`.", ephemeral=False)

    @add_project.autocomplete("project")
    async def project_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        bot = bot_of(interaction)
        if interaction.guild is None or permitted(bot, interaction.user) is not None:
            return []
        guild_id = str(interaction.guild.id)
        linked = {link.directory for link in bot.core.projects.links(guild_id)}
        paths = project_choices(await known_directories(bot, current), current, linked)
        return [app_commands.Choice(name=path, value=path) for path in paths]

    @app_commands.command(
        name="remove-project", description="Unlink this project channel and delete it (files stay)"
    )
    @app_commands.guild_only()
    async def remove_project(self, interaction: discord.Interaction) -> None:
        entered = await enter(interaction)
        if entered is None:
            return
        bot, place = entered
        if place.thread is not None or place.channel is None:
            await say(interaction, "Run /remove-project in the project channel itself, not in a thread.")
            return
        bot.core.projects.unlink(place.channel_id)
        log.info("unlinked #%s from %s", place.channel.name, place.directory)
        await say(
            interaction,
            f"Removed the project `{place.directory}` from kimaki; deleting this channel. "
            "The directory on disk stays.",
            ephemeral=False,
        )
        try:
            await place.channel.delete(reason=f"kimaki /remove-project by {interaction.user}")
        except discord.HTTPException as exc:
            log.warning("could not delete #%s: %s", place.channel.name, exc)
            await say(
                interaction,
                "The project mapping was removed, but I could not delete this channel "
                f"({exc.text or exc.status}); delete it by hand.",
                ephemeral=False,
            )


async def setup(bot: KimakiBot) -> None:
    await bot.add_cog(ProjectsCog(bot))
