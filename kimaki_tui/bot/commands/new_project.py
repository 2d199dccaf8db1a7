"""/create-new-project name: a new folder under the projects directory (`git init`ed), its channel,
and a first session greeting the user in a thread. Works from any channel of the server, like
/add-project. Paths (`../x`, `/abs`) and existing folders are refused.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from kimaki_tui.bot.access import display_name
from kimaki_tui.bot.channels import ProjectChannelError, create_project_channel
from kimaki_tui.bot.commands.common import bot_of, permitted, say
from kimaki_tui.bot.threads import thread_name
from kimaki_tui.core.projects import ProjectNameError, project_slug
from kimaki_tui.core.prompts import PromptInput

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

QUIET = discord.AllowedMentions.none()
INIT_PROMPT = "The project was just initialized. Say hi and ask what the user wants to build."


class NewProjectCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="create-new-project", description="Create a project folder (git init), its channel and a session"
    )
    @app_commands.describe(name="Folder name: lowercase letters, digits and dashes")
    @app_commands.guild_only()
    async def create_new_project(
        self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 64]
    ) -> None:
        bot = bot_of(interaction)
        refusal = permitted(bot, interaction.user)
        guild = interaction.guild
        if refusal is not None or guild is None:
            await say(interaction, refusal or "Use /create-new-project in a server.")
            return
        try:
            project_slug(name)  # refuse paths before anything is created or deferred
        except ProjectNameError as exc:
            await say(interaction, str(exc))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            directory = await bot.core.projects.create(bot.settings.projects_path, name)
            channel = await create_project_channel(bot, guild, str(directory))
        except (ProjectNameError, ProjectChannelError) as exc:
            await say(interaction, str(exc))
            return
        thread = await self._first_session(bot, interaction, channel, str(directory))
        await say(interaction, f"Created `{directory}`, its channel {channel.mention} and {thread.mention}.")

    async def _first_session(
        self, bot: KimakiBot, interaction: discord.Interaction, channel: discord.TextChannel, directory: str
    ) -> discord.Thread:
        text = f"🚀 **New project initialized** — `{directory}`"
        starter = await channel.send(text, allowed_mentions=QUIET)
        thread = await starter.create_thread(
            name=thread_name(f"Init: {channel.name}"), auto_archive_duration=1440
        )
        await thread.add_user(interaction.user)
        thread_id = str(thread.id)
        bot.core.conversations.open(thread_id, str(channel.id), directory)
        user = interaction.user
        prompt = PromptInput(INIT_PROMPT, str(user.id), display_name(user), origin="discord")
        await bot.core.conversations.submit(thread_id, prompt)
        return thread


async def setup(bot: KimakiBot) -> None:
    await bot.add_cog(NewProjectCog(bot))
