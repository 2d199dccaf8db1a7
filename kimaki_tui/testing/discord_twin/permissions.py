"""Discord permission bits and the resolution algorithm (roles, then channel overwrites)."""

from __future__ import annotations

from enum import IntFlag
from typing import TYPE_CHECKING

from .model import Channel, ChannelType, Member

if TYPE_CHECKING:
    from .guild import Guild


class Perm(IntFlag):
    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    CHANGE_NICKNAME = 1 << 26
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38
    SEND_VOICE_MESSAGES = 1 << 46


ALL_PERMISSIONS = (1 << 51) - 1

# What a new guild's @everyone gets on real Discord (roughly): talk, read, react, thread, use commands.
DEFAULT_EVERYONE = (
    Perm.CREATE_INSTANT_INVITE
    | Perm.ADD_REACTIONS
    | Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.MENTION_EVERYONE
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.CONNECT
    | Perm.SPEAK
    | Perm.CHANGE_NICKNAME
    | Perm.USE_APPLICATION_COMMANDS
    | Perm.CREATE_PUBLIC_THREADS
    | Perm.CREATE_PRIVATE_THREADS
    | Perm.SEND_MESSAGES_IN_THREADS
    | Perm.SEND_VOICE_MESSAGES
)

# What kimaki's invite link asks for: everything it uses, not Administrator.
DEFAULT_BOT = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.SEND_MESSAGES_IN_THREADS
    | Perm.CREATE_PUBLIC_THREADS
    | Perm.MANAGE_THREADS
    | Perm.MANAGE_CHANNELS
    | Perm.MANAGE_ROLES
    | Perm.MANAGE_MESSAGES
    | Perm.ATTACH_FILES
    | Perm.EMBED_LINKS
    | Perm.READ_MESSAGE_HISTORY
    | Perm.ADD_REACTIONS
    | Perm.USE_EXTERNAL_EMOJIS
)

# Channel-scoped bits that vanish when a member cannot see the channel.
_THREAD_ONLY_SENDING = Perm.SEND_TTS_MESSAGES | Perm.MENTION_EVERYONE | Perm.EMBED_LINKS | Perm.ATTACH_FILES


def base_permissions(guild: Guild, member: Member) -> int:
    """Guild-level permissions: @everyone OR the member's roles; owner and Administrator get all."""
    if member.user.id == guild.owner_id:
        return ALL_PERMISSIONS
    perms = guild.everyone.permissions
    for role_id in member.role_ids:
        role = guild.roles.get(role_id)
        if role is not None:
            perms |= role.permissions
    if perms & Perm.ADMINISTRATOR:
        return ALL_PERMISSIONS
    return perms


def _apply_overwrites(guild: Guild, member: Member, channel: Channel, perms: int) -> int:
    by_id = {ow.id: ow for ow in channel.overwrites}
    everyone = by_id.get(guild.id)
    if everyone is not None:
        perms = (perms & ~everyone.deny) | everyone.allow
    allow = deny = 0
    for role_id in member.role_ids:
        ow = by_id.get(role_id)
        if ow is not None and ow.type == 0:
            allow |= ow.allow
            deny |= ow.deny
    perms = (perms & ~deny) | allow
    own = by_id.get(member.user.id)
    if own is not None and own.type == 1:
        perms = (perms & ~own.deny) | own.allow
    return perms


def channel_permissions(guild: Guild, member: Member, channel: Channel) -> int:
    """Permissions in a channel; threads inherit their parent's, private threads need membership."""
    base = base_permissions(guild, member)
    if base == ALL_PERMISSIONS:
        return ALL_PERMISSIONS
    target = channel
    if channel.is_thread and channel.parent_id is not None:
        target = guild.world.channels[channel.parent_id]
    perms = _apply_overwrites(guild, member, target, base)
    if not perms & Perm.VIEW_CHANNEL:
        return 0
    if channel.is_thread:
        if not perms & Perm.SEND_MESSAGES_IN_THREADS:
            perms &= ~_THREAD_ONLY_SENDING
        private = channel.type == ChannelType.PRIVATE_THREAD
        if private and member.user.id not in channel.thread_members and not perms & Perm.MANAGE_THREADS:
            return 0
    elif not perms & Perm.SEND_MESSAGES:
        perms &= ~_THREAD_ONLY_SENDING
    return perms


def missing(perms: int, needed: int) -> list[str]:
    """Names of the bits in `needed` that `perms` lacks."""
    return [p.name or str(p.value) for p in Perm if needed & p and not perms & p]
