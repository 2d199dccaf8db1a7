"""Project channels: the "Kimaki" category and one text channel per project directory.

The channel ↔ directory mapping lives in the database (`core.link_channel`); the XML topic is only
informative, for people and for other tools that read it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import discord

from kimaki_tui.core.projects import system_directory_problem

# The naming rules are shared with the setup wizard, which may not import the bot.
from kimaki_tui.setup.channels import channel_topic, sanitize_channel_name

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

CATEGORY_NAME = "Kimaki"


class ProjectChannelError(Exception):
    """A project channel could not be made; the message is meant for the user as is."""


def resolve_project_dir(text: str) -> str:
    """Check a path typed by a user: absolute, no `..`, an existing directory. Returns it resolved."""
    raw = text.strip()
    if not raw:
        raise ProjectChannelError("Give the absolute path of a project directory.")
    path = Path(raw).expanduser()
    if not path.is_absolute():
        raise ProjectChannelError(f"`{raw}` is not an absolute path; give the full path (starting with `/`).")
    if ".." in path.parts:
        raise ProjectChannelError(f"`{raw}` contains `..`; give the directory's real path without `..`.")
    resolved = path.resolve()
    if not resolved.exists():
        raise ProjectChannelError(f"`{raw}` does not exist.")
    if not resolved.is_dir():
        raise ProjectChannelError(f"`{raw}` is not a directory.")
    problem = system_directory_problem(resolved)
    if problem is not None:
        raise ProjectChannelError(problem)
    return str(resolved)


async def ensure_category(guild: discord.Guild, name: str = CATEGORY_NAME) -> discord.CategoryChannel:
    """The guild's category of that name (case-insensitive), created when missing."""
    for category in guild.categories:
        if category.name.lower() == name.lower():
            return category
    try:
        return await guild.create_category(name, reason="Kimaki project channels")
    except discord.Forbidden as exc:
        raise ProjectChannelError(
            f"I am not allowed to create the `{name}` category (I need the Manage Channels permission)."
        ) from exc


def linked_channel(bot: KimakiBot, guild: discord.Guild, directory: str) -> discord.TextChannel | None:
    """The live channel already linked to `directory` in this guild; stale links are dropped."""
    store = bot.core.store
    for link in store.channels_for(directory):
        if link.guild_id != str(guild.id):
            continue
        channel = guild.get_channel(int(link.channel_id))
        if isinstance(channel, discord.TextChannel):
            return channel
        log.info("dropping link of deleted channel %s to %s", link.channel_id, directory)
        store.unlink_channel(link.channel_id)
    return None


def _existing_dir(directory: str) -> str:
    path = Path(directory).expanduser()
    if not path.is_dir():
        what = "is not a directory" if path.exists() else "does not exist"
        raise ProjectChannelError(f"`{directory}` {what}.")
    problem = system_directory_problem(path.resolve())
    if problem is not None:
        raise ProjectChannelError(problem)
    return str(path.resolve())


async def create_project_channel(bot: KimakiBot, guild: discord.Guild, directory: str) -> discord.TextChannel:
    """The project's text channel in this guild: the existing one, or a new one under "Kimaki"."""
    resolved = _existing_dir(directory)
    existing = linked_channel(bot, guild, resolved)
    if existing is not None:
        log.info("%s is already linked to #%s in guild %s", resolved, existing.name, guild.id)
        return existing
    category = await ensure_category(guild)
    app_id = bot.options.app_id
    try:
        channel = await guild.create_text_channel(
            sanitize_channel_name(Path(resolved).name),
            category=category,
            topic=channel_topic(resolved, app_id) or discord.utils.MISSING,
            reason=f"Kimaki project {resolved}",
        )
    except discord.Forbidden as exc:
        raise ProjectChannelError(
            "I am not allowed to create channels here (I need the Manage Channels permission)."
        ) from exc
    bot.core.link_channel(str(channel.id), str(guild.id), resolved, str(app_id) if app_id else None)
    log.info("created #%s (%s) for %s", channel.name, channel.id, resolved)
    return channel
