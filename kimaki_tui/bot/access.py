"""Adapt discord.py members to the core's access policy, and make sure the "Kimaki" role exists."""

from __future__ import annotations

import logging

import discord

from kimaki_tui.core.access import ACCESS_ROLE, Decision, RoleInfo, Subject, decide, has_role

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
    )


def check(
    user: discord.User | discord.Member, me: discord.abc.User | None, *, allow_all_users: bool
) -> Decision:
    return decide(subject_of(user, me), allow_all_users=allow_all_users)


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
