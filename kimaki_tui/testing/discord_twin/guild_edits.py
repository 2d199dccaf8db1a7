"""Validation and permission rules for the bot's guild changes: channels, overwrites and roles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ApiError, invalid_form, missing_permissions
from .limits import check_length
from .model import JSON, Channel, ChannelType, Overwrite, Role
from .permissions import ALL_PERMISSIONS, Perm, base_permissions
from .snowflake import parse_id

if TYPE_CHECKING:
    from .guild import Guild
    from .world import World

CREATABLE_TYPES = (ChannelType.TEXT, ChannelType.VOICE, ChannelType.CATEGORY, ChannelType.NEWS)
ROLES_MAX = 250


def check_channel_fields(world: World, guild: Guild, body: JSON, *, creating: bool) -> None:
    errors = check_length("name", body.get("name"), 100, minimum=1)
    if creating and not body.get("name"):
        errors.append(("name", "BASE_TYPE_REQUIRED", "This field is required"))
    errors += check_length("topic", body.get("topic"), 1024)
    if creating and int(body.get("type") or 0) not in CREATABLE_TYPES:
        errors.append(
            ("type", "BASE_TYPE_CHOICES", f"Value must be one of {[int(t) for t in CREATABLE_TYPES]}.")
        )
    parent_id = parse_id(body.get("parent_id"))
    if parent_id is not None:
        parent = world.channels.get(parent_id)
        if (
            parent is None
            or parent.deleted
            or parent.guild_id != guild.id
            or parent.type != ChannelType.CATEGORY
        ):
            errors.append(("parent_id", "CHANNEL_PARENT_INVALID", "Not a category"))
    if errors:
        raise invalid_form(errors)


def guild_perms(world: World, guild: Guild) -> int:
    return base_permissions(guild, guild.bot_member)


def parse_overwrites(world: World, guild: Guild, raw: Any) -> list[Overwrite]:
    """Overwrites need Manage Roles, and a bot may only allow or deny bits it holds itself."""
    if not raw:
        return []
    perms = guild_perms(world, guild)
    if not perms & Perm.MANAGE_ROLES:
        raise missing_permissions("permission_overwrites need MANAGE_ROLES")
    result: list[Overwrite] = []
    for i, item in enumerate(raw):
        target = parse_id(item.get("id"))
        kind = int(item.get("type", -1))
        valid = (kind == 0 and target in guild.roles) or (kind == 1 and target in guild.members)
        if target is None or not valid:
            raise invalid_form(
                [(f"permission_overwrites.{i}.id", "UNKNOWN_OVERWRITE_TARGET", "Unknown role or member")]
            )
        allow, deny = int(item.get("allow") or 0), int(item.get("deny") or 0)
        if perms != ALL_PERMISSIONS and (allow | deny) & ~perms:
            raise missing_permissions("overwrite grants or denies a permission the bot lacks")
        result.append(Overwrite(target, kind, allow, deny))
    return result


def apply_channel_edit(world: World, channel: Channel, body: JSON) -> None:
    guild = world.guild_of(channel)
    check_channel_fields(world, guild, body, creating=False)
    if "permission_overwrites" in body:
        channel.overwrites = parse_overwrites(world, guild, body["permission_overwrites"])
    if body.get("name") is not None:
        name = str(body["name"])
        channel.name = "-".join(name.lower().split()) if channel.type == ChannelType.TEXT else name
    if "topic" in body:
        channel.topic = body["topic"]
    if "parent_id" in body:
        channel.parent_id = parse_id(body["parent_id"])
    for key in ("position", "rate_limit_per_user"):
        if body.get(key) is not None:
            setattr(channel, key, int(body[key]))
    if "nsfw" in body:
        channel.nsfw = bool(body["nsfw"])
    guild.emit_channel("CHANNEL_UPDATE", channel)


def check_role_fields(world: World, guild: Guild, body: JSON, *, creating: bool) -> int:
    """Validate a role body; returns the permissions it asks for (a bot cannot grant bits it lacks)."""
    errors = check_length("name", body.get("name"), 100)
    if errors:
        raise invalid_form(errors)
    if creating and len(guild.roles) >= ROLES_MAX:
        raise ApiError(400, 30005, "Maximum number of guild roles reached (250)", kind="limit")
    perms = guild_perms(world, guild)
    if not perms & Perm.MANAGE_ROLES:
        raise missing_permissions("MANAGE_ROLES")
    asked = int(body.get("permissions") or 0)
    if perms != ALL_PERMISSIONS and asked & ~perms:
        raise missing_permissions("role grants a permission the bot lacks")
    return asked


def top_position(guild: Guild) -> int:
    return max(guild.roles[r].position for r in guild.bot_member.role_ids if r in guild.roles)


def check_manageable(world: World, guild: Guild, role: Role) -> None:
    """A bot can only manage roles below its highest role, and never managed (integration) roles."""
    if not guild_perms(world, guild) & Perm.MANAGE_ROLES:
        raise missing_permissions("MANAGE_ROLES")
    if guild_perms(world, guild) == ALL_PERMISSIONS and guild.owner_id == world.bot_user.id:
        return
    if role.managed or role.position >= top_position(guild):
        raise missing_permissions(f"role {role.name!r} is above the bot's highest role or managed")
