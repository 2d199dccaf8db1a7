"""JSON payloads for the twin's objects, shaped like Discord API v10 (snowflakes as strings)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .model import JSON, Attachment, Channel, ChannelType, Command, Member, Message, Role, Team, User

if TYPE_CHECKING:
    from .guild import Guild
    from .world import World


def sid(value: int | None) -> str | None:
    return None if value is None else str(value)


def user_json(user: User) -> JSON:
    return {
        "id": str(user.id),
        "username": user.name,
        "discriminator": "0",
        "global_name": user.global_name,
        "avatar": None,
        "bot": user.bot,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
    }


def team_user_json(team: Team) -> JSON:
    """The pseudo-user Discord puts in an application's `owner` when a team owns it."""
    flags = 1 << 10  # TEAM_PSEUDO_USER
    return {
        "id": str(team.id),
        "username": f"team{team.id}",
        "discriminator": "0000",
        "global_name": None,
        "avatar": None,
        "public_flags": flags,
        "flags": flags,
    }


def team_json(team: Team) -> JSON:
    def member(user: User, state: int) -> JSON:
        role = "admin" if user is team.owner else "developer"
        return {"membership_state": state, "team_id": str(team.id), "user": user_json(user), "role": role,
                "permissions": ["*"]}  # fmt: skip

    accepted, invited = 2, 1
    return {
        "id": str(team.id),
        "name": team.name,
        "icon": None,
        "owner_user_id": str(team.owner.id),
        "members": [member(u, accepted) for u in [team.owner, *team.members]]
        + [member(u, invited) for u in team.invited],
    }


def member_json(member: Member, *, with_user: bool = True, permissions: int | None = None) -> JSON:
    data: JSON = {
        "roles": [str(r) for r in member.role_ids],
        "joined_at": member.joined_at,
        "nick": member.nick,
        "avatar": None,
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "communication_disabled_until": None,
    }
    if with_user:
        data["user"] = user_json(member.user)
    if permissions is not None:
        data["permissions"] = str(permissions)
    return data


def role_json(role: Role) -> JSON:
    data: JSON = {
        "id": str(role.id),
        "name": role.name,
        "permissions": str(role.permissions),
        "position": role.position,
        "color": role.color,
        "colors": {"primary_color": role.color, "secondary_color": None, "tertiary_color": None},
        "hoist": role.hoist,
        "managed": role.managed,
        "mentionable": role.mentionable,
        "icon": None,
        "unicode_emoji": None,
        "flags": 0,
    }
    if role.bot_id is not None:
        data["tags"] = {"bot_id": str(role.bot_id)}
    return data


def channel_json(channel: Channel) -> JSON:
    if channel.is_thread:
        return thread_json(channel)
    data: JSON = {
        "id": str(channel.id),
        "type": channel.type,
        "guild_id": str(channel.guild_id),
        "name": channel.name,
        "position": channel.position,
        "parent_id": sid(channel.parent_id),
        "nsfw": channel.nsfw,
        "flags": 0,
        "permission_overwrites": [
            {"id": str(o.id), "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}
            for o in channel.overwrites
        ],
    }
    if channel.type in (ChannelType.TEXT, ChannelType.NEWS):
        data.update(
            topic=channel.topic,
            last_message_id=sid(channel.last_message_id),
            rate_limit_per_user=channel.rate_limit_per_user,
            default_auto_archive_duration=1440,
        )
    elif channel.type == ChannelType.VOICE:
        data.update(
            bitrate=64000, user_limit=0, rtc_region=None, last_message_id=sid(channel.last_message_id)
        )
    return data


def thread_json(thread: Channel) -> JSON:
    return {
        "id": str(thread.id),
        "type": thread.type,
        "guild_id": str(thread.guild_id),
        "parent_id": sid(thread.parent_id),
        "owner_id": sid(thread.owner_id),
        "name": thread.name,
        "last_message_id": sid(thread.last_message_id),
        "rate_limit_per_user": thread.rate_limit_per_user,
        "message_count": thread.message_count,
        "member_count": min(len(thread.thread_members), 50),
        "total_message_sent": thread.total_message_sent,
        "flags": 0,
        "thread_metadata": {
            "archived": thread.archived,
            "auto_archive_duration": thread.auto_archive_duration,
            "archive_timestamp": thread.archive_timestamp,
            "locked": thread.locked,
            "invitable": thread.invitable,
            "create_timestamp": thread.created_at,
        },
    }


def thread_member_json(thread: Channel, user_id: int) -> JSON:
    return {
        "id": str(thread.id),
        "user_id": str(user_id),
        "join_timestamp": thread.thread_members[user_id],
        "flags": 0,
    }


def attachment_json(att: Attachment) -> JSON:
    data: JSON = {
        "id": str(att.id),
        "filename": att.filename,
        "size": att.size,
        "url": att.url,
        "proxy_url": att.url,
        "content_type": att.content_type,
        "flags": 0,
    }
    if att.description is not None:
        data["description"] = att.description
    if att.duration_secs is not None:
        data["duration_secs"] = att.duration_secs
        data["waveform"] = att.waveform
    return data


def emoji_json(key: str) -> JSON:
    name, _, emoji_id = key.partition(":")
    return {"id": emoji_id or None, "name": name}


def reactions_json(message: Message, viewer_id: int) -> list[JSON]:
    return [
        {
            "emoji": emoji_json(key),
            "count": len(users),
            "count_details": {"burst": 0, "normal": len(users)},
            "me": viewer_id in users,
            "me_burst": False,
            "burst_colors": [],
        }
        for key, users in message.reactions.items()
        if users
    ]


def message_json(world: World, msg: Message, *, with_member: bool = False, nested: bool = True) -> JSON:
    """A message as REST returns it; `with_member` adds the gateway's partial member objects."""
    data: JSON = {
        "id": str(msg.id),
        "channel_id": str(msg.channel_id),
        "author": user_json(msg.author),
        "content": msg.content,
        "timestamp": msg.timestamp,
        "edited_timestamp": msg.edited_timestamp,
        "tts": msg.tts,
        "mention_everyone": msg.mention_everyone,
        "mentions": [
            _mention_json(world, msg, uid, with_member) for uid in msg.mentions if uid in world.users
        ],
        "mention_roles": [str(r) for r in msg.mention_roles],
        "attachments": [attachment_json(a) for a in msg.attachments],
        "embeds": msg.embeds,
        "components": msg.components,
        "reactions": reactions_json(msg, world.bot_user.id),
        "pinned": msg.pinned,
        "type": msg.type,
        "flags": msg.flags,
    }
    if msg.guild_id is not None:
        data["guild_id"] = str(msg.guild_id)
        member = world.guilds[msg.guild_id].members.get(msg.author.id)
        if with_member and member is not None and msg.webhook_id is None:
            data["member"] = member_json(member, with_user=False)
    _add_optional(world, msg, data, nested)
    return data


def _add_optional(world: World, msg: Message, data: JSON, nested: bool) -> None:
    if msg.nonce is not None:
        data["nonce"] = msg.nonce
    if msg.webhook_id is not None:
        data["webhook_id"] = str(msg.webhook_id)
    if msg.application_id is not None:
        data["application_id"] = str(msg.application_id)
    if msg.interaction_metadata is not None:
        data["interaction_metadata"] = msg.interaction_metadata
    if msg.reference is not None:
        data["message_reference"] = msg.reference
        ref_id = int(msg.reference.get("message_id", 0) or 0)
        ref = world.messages.get(ref_id)
        if nested and msg.type == 19:
            data["referenced_message"] = (
                message_json(world, ref, nested=False) if ref is not None and not ref.deleted else None
            )
    if msg.snapshots:
        data["message_snapshots"] = msg.snapshots
    if msg.poll is not None:
        data["poll"] = msg.poll
    if msg.thread_id is not None and msg.thread_id in world.channels:
        data["thread"] = thread_json(world.channels[msg.thread_id])


def _mention_json(world: World, msg: Message, user_id: int, with_member: bool) -> JSON:
    data = user_json(world.users[user_id])
    if with_member and msg.guild_id is not None:
        member = world.guilds[msg.guild_id].members.get(user_id)
        if member is not None:
            data["member"] = member_json(member, with_user=False)
    return data


def guild_json(guild: Guild) -> JSON:
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(guild.owner_id),
        "roles": [role_json(r) for r in guild.roles.values()],
        "emojis": [],
        "stickers": [],
        "features": [],
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "system_channel_id": sid(guild.system_channel_id),
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "afk_channel_id": None,
        "afk_timeout": 300,
        "vanity_url_code": None,
        "max_members": 500000,
        "premium_progress_bar_enabled": False,
    }


def guild_create_json(guild: Guild, *, all_members: bool) -> JSON:
    """GUILD_CREATE: the guild with channels, active threads and (with the members intent) members."""
    members = list(guild.members.values()) if all_members else [guild.bot_member]
    data: JSON = guild_json(guild)
    data.update(
        joined_at=guild.bot_member.joined_at,
        large=False,
        unavailable=False,
        member_count=len(guild.members),
        members=[member_json(m) for m in members],
        channels=[channel_json(c) for c in guild.channels],
        threads=[thread_json(t) for t in guild.threads if not t.archived],
        voice_states=[],
        presences=[],
        stage_instances=[],
        guild_scheduled_events=[],
        soundboard_sounds=[],
    )
    return data


def command_json(cmd: Command) -> JSON:
    schema = cmd.schema
    data: JSON = {
        "id": str(cmd.id),
        "application_id": str(cmd.application_id),
        "version": str(cmd.version),
        "type": cmd.type,
        "name": cmd.name,
        "description": schema.get("description", ""),
        "options": schema.get("options", []),
        "default_member_permissions": schema.get("default_member_permissions"),
        "nsfw": bool(schema.get("nsfw", False)),
        "contexts": schema.get("contexts"),
        "integration_types": schema.get("integration_types", [0]),
        "name_localizations": schema.get("name_localizations"),
        "description_localizations": schema.get("description_localizations"),
    }
    if cmd.guild_id is not None:
        data["guild_id"] = str(cmd.guild_id)
    else:
        data["dm_permission"] = schema.get("dm_permission", True)
    return data


def strip(data: Any) -> Any:
    """A deep copy through JSON-compatible containers, so later mutations do not leak into sent events."""
    if isinstance(data, dict):
        return {k: strip(v) for k, v in data.items()}
    if isinstance(data, list):
        return [strip(v) for v in data]
    return data
