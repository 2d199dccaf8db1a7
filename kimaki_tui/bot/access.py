"""Adapt discord.py members and channels to the core's access policy and scope, and make sure the
"Kimaki" role exists."""

from __future__ import annotations

import logging

import discord

from kimaki_tui.core.access import ACCESS_ROLE, Decision, RoleInfo, Scope, Subject, decide, has_role
from kimaki_tui.settings import DiscordSettings

log = logging.getLogger(__name__)


def subject_of(user: discord.User | discord.Member, me: discord.abc.User | None) -> Subject:
    """The policy's view of a user; a plain User (no guild context) has no roles or rights."""
    is_self = me is not None and user.id == me.id
    if not isinstance(user, discord.Member):
        return Subject(is_self=is_self, is_bot=user.bot)
    perms = user.guild_permissions
    return Subject(
        is_self=is_self,
        is_bot=user.bot,
        is_owner=user.guild.owner_id == user.id,
        administrator=perms.administrator,
        manage_guild=perms.manage_guild,
        roles=tuple(RoleInfo(role.name, role.managed) for role in user.roles if not role.is_default()),
        role_ids=tuple(str(role.id) for role in user.roles),
    )


OUT_OF_SCOPE_TEXT = "kimaki does not listen in this channel (its operator limited where it answers)."


def check(
    user: discord.User | discord.Member, me: discord.abc.User | None, rules: DiscordSettings
) -> Decision:
    subject = subject_of(user, me)
    return decide(subject, allow_all_users=rules.allow_all_users, required_role=rules.required_role)


def in_scope(channel: object, rules: DiscordSettings) -> bool:
    """Whether the operator's channel allow-list and category let kimaki listen in `channel`."""
    scope = Scope.parse(rules.allowed_channels, rules.category)
    if not scope.channels and scope.category is None:
        return True
    if isinstance(channel, discord.Thread):
        parent = channel.parent
        category = parent.category_id if isinstance(parent, discord.TextChannel) else None
        return scope.covers(str(channel.id), str(channel.parent_id), _id(category))
    if isinstance(channel, discord.TextChannel):
        return scope.covers(str(channel.id), None, _id(channel.category_id))
    return False


def _id(value: int | None) -> str | None:
    return None if value is None else str(value)


def display_name(user: discord.User | discord.Member) -> str:
    return user.display_name or user.name


async def ensure_access_role(guild: discord.Guild) -> discord.Role | None:
    """Create the "Kimaki" role if the guild lacks one; a refusal (no Manage Roles) is only logged."""
    existing = [RoleInfo(r.name, r.managed) for r in guild.roles]
    if has_role(existing, ACCESS_ROLE):
        return next(r for r in guild.roles if r.name.strip().lower() == ACCESS_ROLE and not r.managed)
    try:
        role = await guild.create_role(name="Kimaki", reason="kimaki: members with this role may use the bot")
    except discord.Forbidden:
        log.warning("cannot create the Kimaki role in %s (needs Manage Roles)", guild.name)
        return None
    except discord.HTTPException as exc:
        log.warning("creating the Kimaki role in %s failed: %s", guild.name, exc)
        return None
    log.info("created the Kimaki role in %s", guild.name)
    return role
