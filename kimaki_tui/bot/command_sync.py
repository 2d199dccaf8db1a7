"""Publishing the slash commands to a guild without re-sending them when nothing changed.

Discord's bulk overwrite (PUT) rewrites every command of the guild and counts against a daily
limit of command creations; a restart with the same commands should cost one GET. The guild's
current commands are read and compared with what the tree would send, both reduced to what
Discord keeps (ids, versions and defaults such as `required: false` or `integration_types: [0]` left out).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from discord.ext.commands import Bot

log = logging.getLogger(__name__)

_SERVER_FIELDS = frozenset({"id", "application_id", "version", "guild_id"})
# Values Discord fills in when a command leaves them out (or ignores for guild commands).
_DEFAULTS: dict[str, Any] = {"integration_types": [0], "dm_permission": True}


def canonical(value: Any) -> Any:
    """A command's JSON without server-assigned fields and empty/default values, keys sorted."""
    if isinstance(value, dict):
        return {
            key: canonical(item)
            for key, item in sorted(value.items())
            if key not in _SERVER_FIELDS and not _unset(item) and _DEFAULTS.get(key, _unset) != item
        }
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def _unset(value: Any) -> bool:
    """None, False and empty text or containers: what Discord treats as not given (0 counts)."""
    return value is None or value is False or (isinstance(value, str | list | dict) and not value)


def _by_name(commands: list[Any]) -> list[Any]:
    return sorted((canonical(c) for c in commands), key=lambda c: (c.get("type", 1), c.get("name", "")))


async def sync_guild(bot: Bot, guild: discord.abc.Snowflake) -> bool:
    """Make the guild's commands the tree's; True when they had to be sent (a PUT)."""
    tree = bot.tree
    tree.copy_global_to(guild=guild)
    wanted = [command.to_dict(tree) for command in tree.get_commands(guild=guild)]
    app_id = bot.application_id
    if app_id is not None:
        current = await bot.http.get_guild_commands(app_id, guild.id)
        if _by_name(list(current)) == _by_name(wanted):
            log.info("the %d command(s) of guild %s are up to date", len(wanted), guild.id)
            return False
    synced = await tree.sync(guild=guild)
    log.info("synced %d command(s) to guild %s", len(synced), guild.id)
    return True
