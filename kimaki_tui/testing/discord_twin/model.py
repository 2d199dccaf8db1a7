"""The twin's in-memory Discord objects (plain data; the world and the routes change them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

JSON = dict[str, Any]


class ChannelType(IntEnum):
    TEXT = 0
    VOICE = 2
    CATEGORY = 4
    NEWS = 5
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12


THREAD_TYPES = (ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD)


class MessageFlag:
    EPHEMERAL = 1 << 6
    LOADING = 1 << 7
    SUPPRESS_NOTIFICATIONS = 1 << 12
    IS_VOICE_MESSAGE = 1 << 13
    IS_COMPONENTS_V2 = 1 << 15


@dataclass(eq=False)
class User:
    id: int
    name: str
    bot: bool = False
    global_name: str | None = None

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass(eq=False)
class Team:
    """A Developer Portal team owning the application; `members` accepted, `invited` not yet."""

    id: int
    name: str
    owner: User
    members: list[User] = field(default_factory=list)
    invited: list[User] = field(default_factory=list)


@dataclass(eq=False)
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int
    position: int
    managed: bool = False
    bot_id: int | None = None
    color: int = 0
    hoist: bool = False
    mentionable: bool = False

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"


@dataclass(eq=False)
class Member:
    user: User
    role_ids: list[int]
    joined_at: str
    nick: str | None = None


@dataclass
class Overwrite:
    id: int
    type: int  # 0 = role, 1 = member
    allow: int = 0
    deny: int = 0


@dataclass(eq=False)
class Channel:
    """A guild channel, category or thread (threads use the thread_* fields)."""

    id: int
    guild_id: int
    type: int
    name: str
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    nsfw: bool = False
    last_message_id: int | None = None
    rate_limit_per_user: int = 0
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    auto_archive_duration: int = 1440
    archive_timestamp: str = ""
    created_at: str = ""
    message_count: int = 0
    total_message_sent: int = 0
    thread_members: dict[int, str] = field(default_factory=dict)  # user id -> join timestamp
    deleted: bool = False

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"


@dataclass(eq=False)
class Attachment:
    id: int
    channel_id: int
    filename: str
    data: bytes
    content_type: str | None
    url: str
    description: str | None = None
    duration_secs: float | None = None
    waveform: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(eq=False)
class Message:
    id: int
    channel_id: int
    guild_id: int | None
    author: User
    content: str = ""
    type: int = 0
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    flags: int = 0
    timestamp: str = ""
    edited_timestamp: str | None = None
    mentions: list[int] = field(default_factory=list)
    mention_roles: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    # What the sender asked for (None: not given, Discord then pings everyone mentioned) on the
    # last create or edit, and the users Discord notified when the message was created.
    allowed_mentions: JSON | None = None
    pinged: list[int] = field(default_factory=list)
    reference: JSON | None = None
    snapshots: list[JSON] = field(default_factory=list)  # message_snapshots: what a forward carries
    poll: JSON | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_metadata: JSON | None = None
    reactions: dict[str, list[int]] = field(default_factory=dict)  # emoji key -> user ids, in order
    thread_id: int | None = None
    visible_to: int | None = None  # ephemeral: the only user who sees it
    nonce: str | int | None = None
    tts: bool = False
    pinned: bool = False
    deleted: bool = False
    edit_count: int = 0

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & MessageFlag.EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & MessageFlag.LOADING)


@dataclass(eq=False)
class Command:
    """An application command as synced by the bot (global when guild_id is None)."""

    id: int
    application_id: int
    guild_id: int | None
    schema: JSON
    version: int

    @property
    def name(self) -> str:
        return str(self.schema["name"])

    @property
    def type(self) -> int:
        return int(self.schema.get("type", 1))


@dataclass
class TypingEvent:
    channel_id: int
    user_id: int
    timestamp: float


@dataclass
class Upload:
    """A file part from a multipart request, before it becomes an Attachment."""

    index: int
    filename: str
    data: bytes
    content_type: str | None
