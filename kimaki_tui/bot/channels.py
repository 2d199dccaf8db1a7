"""Project channels through discord.py: carries out `setup.channel_plan` (the "Kimaki" category
and one text channel per project directory), the same rule the wizard follows over REST.

The channel ↔ directory mapping is the core's (`core.projects.link`); the XML topic is only
informative, for people and for other tools that read it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import discord

from kimaki_tui.core.projects import system_directory_problem
from kimaki_tui.errors import KimakiError

# The rule is shared with the setup wizard, which may not import the bot.
from kimaki_tui.setup.channel_plan import (
    CATEGORY_NAME,
    CATEGORY_REASON,
    ChannelPlan,
    ExistingChannel,
    channel_topic,
    plan_project_channel,
)

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)


class ProjectChannelError(KimakiError):
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


def existing_channels(guild: discord.Guild) -> list[ExistingChannel]:
    """The guild's channels as the plan reads them."""
    return [
        ExistingChannel(str(c.id), c.name, isinstance(c, discord.CategoryChannel)) for c in guild.channels
    ]


async def _category(guild: discord.Guild, plan: ChannelPlan) -> discord.CategoryChannel:
    """The plan's category, created when the plan says there is none."""
    found = guild.get_channel(int(plan.category_id)) if plan.category_id else None
    if isinstance(found, discord.CategoryChannel):
        return found
    try:
        return await guild.create_category(CATEGORY_NAME, reason=CATEGORY_REASON)
    except discord.Forbidden as exc:
        raise ProjectChannelError(
            f"I am not allowed to create the `{CATEGORY_NAME}` category (I need the Manage Channels "
            "permission)."
        ) from exc


def linked_channel(bot: KimakiBot, guild: discord.Guild, directory: str) -> discord.TextChannel | None:
    """The live channel already linked to `directory` in this guild; stale links are dropped."""
    projects = bot.core.projects
    for link in projects.links_for(directory):
        if link.guild_id != str(guild.id):
            continue
        channel = guild.get_channel(int(link.channel_id))
        if isinstance(channel, discord.TextChannel):
            return channel
        log.info("dropping link of deleted channel %s to %s", link.channel_id, directory)
        projects.unlink(link.channel_id)
    return None


def unlinked_channel(bot: KimakiBot, guild: discord.Guild, directory: str) -> discord.TextChannel | None:
    """A channel of this bot made for `directory` (its topic says so) that is linked to nothing."""
    wanted = channel_topic(directory, bot.app_id)
    if wanted is None:
        return None
    linked = {link.channel_id for link in bot.core.projects.links(str(guild.id))}
    return next(
        (c for c in guild.text_channels if c.topic == wanted and str(c.id) not in linked),
        None,
    )


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
    app_id = bot.app_id
    earlier = unlinked_channel(bot, guild, resolved)
    if earlier is not None:  # unlinked once, added again: the channel and its threads come back
        bot.core.projects.link(str(earlier.id), str(guild.id), resolved, str(app_id) if app_id else None)
        log.info("relinked #%s (%s) to %s", earlier.name, earlier.id, resolved)
        return earlier
    plan = plan_project_channel(existing_channels(guild), resolved, app_id)
    category = await _category(guild, plan)
    try:
        channel = await guild.create_text_channel(
            plan.name, category=category, topic=plan.topic or discord.utils.MISSING, reason=plan.reason
        )
    except discord.Forbidden as exc:
        raise ProjectChannelError(
            "I am not allowed to create channels here (I need the Manage Channels permission)."
        ) from exc
    bot.core.projects.link(str(channel.id), str(guild.id), resolved, str(app_id) if app_id else None)
    log.info("created #%s (%s) for %s", channel.name, channel.id, resolved)
    return channel
