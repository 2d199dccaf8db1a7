"""The twin's whole state: users, guilds, channels, messages, commands, plus records for assertions.

Every mutation goes through here or a Guild method, which emits the gateway event and wakes waiters.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

from . import serialize
from .errors import RequestRecord, UnexpectedRequest, Violation, missing_access, missing_permissions, unknown
from .model import JSON, Attachment, Channel, Command, Member, Message, Team, TypingEvent, User
from .permissions import ALL_PERMISSIONS, Perm, channel_permissions, missing
from .renames import RenameLimit
from .snowflake import SnowflakeGen
from .waiters import Changes

if TYPE_CHECKING:
    from .guild import Guild
    from .interactions import Interaction

log = logging.getLogger(__name__)


class EventSink(Protocol):
    def dispatch(self, event: str, data: JSON, *, guild_id: int | None, channel_id: int | None) -> None: ...

    def has_session(self) -> bool: ...


def as_user(obj: Any) -> User:
    """Accept a User, an Actor or a Member wherever a user is meant."""
    if isinstance(obj, User):
        return obj
    inner = getattr(obj, "user", None)
    if isinstance(inner, User):
        return inner
    raise TypeError(f"not a user: {obj!r}")


class World:
    def __init__(self, *, bot_token: str, bot_name: str, app_id: int | None) -> None:
        self.ids = SnowflakeGen()
        self.token = bot_token
        self.bot_user = User(id=app_id or self.ids.next(), name=bot_name, bot=True)
        self.app_id = self.bot_user.id
        self.app_owner = User(id=self.ids.next(), name="app-owner")
        self.app_team: Team | None = None  # a team-owned application (set_application_team)
        self.bot_public = True  # Discord's default: anyone with the invite link can add the bot
        self.users: dict[int, User] = {self.bot_user.id: self.bot_user, self.app_owner.id: self.app_owner}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.channel_messages: dict[int, list[Message]] = {}
        self.nonces: dict[tuple[int, int, str], Message] = {}  # (channel, author, nonce) -> message
        self.attachments: dict[int, Attachment] = {}
        self.commands: dict[int | None, list[Command]] = {}
        self.interactions: dict[int, Interaction] = {}
        self.typing: list[TypingEvent] = []
        self.violations: list[Violation] = []
        self.unexpected: list[UnexpectedRequest] = []
        self.errors: list[str] = []
        self.requests: list[RequestRecord] = []
        self.thread_renames = RenameLimit()
        self.presence: JSON | None = None
        self.changes = Changes()
        self.sink: EventSink | None = None
        self.base_url = ""  # http://127.0.0.1:PORT once the server listens
        self.upload_limit = 25 * 1024 * 1024
        self.message_content_enabled = True  # the Developer Portal toggles for privileged intents
        self.members_intent_enabled = True
        self.interaction_timeout = 3.0

    # -- events -------------------------------------------------------------------------------

    def emit(
        self, event: str, data: JSON, *, guild_id: int | None = None, channel_id: int | None = None
    ) -> None:
        if self.sink is not None:
            self.sink.dispatch(event, serialize.strip(data), guild_id=guild_id, channel_id=channel_id)
        self.changes.notify()

    def record_error(self, text: str) -> None:
        log.error("Discord twin internal error: %s", text)
        self.errors.append(text)
        self.changes.notify()

    # -- lookups ------------------------------------------------------------------------------

    def channel(self, channel_id: int | None) -> Channel:
        channel = self.channels.get(channel_id or 0)
        if channel is None or channel.deleted:
            raise unknown("Channel")
        return channel

    def guild(self, guild_id: int | None) -> Guild:
        guild = self.guilds.get(guild_id or 0)
        if guild is None:
            raise unknown("Guild")
        return guild

    def guild_of(self, channel: Channel) -> Guild:
        return self.guilds[channel.guild_id]

    def message(self, channel: Channel, message_id: int | None) -> Message:
        msg = self.messages.get(message_id or 0)
        if msg is None or msg.deleted or msg.channel_id != channel.id or msg.visible_to is not None:
            raise unknown("Message")
        return msg

    def channel_log(self, channel_id: int) -> list[Message]:
        return self.channel_messages.setdefault(channel_id, [])

    def commands_for(self, guild_id: int | None) -> list[Command]:
        return self.commands.setdefault(guild_id, [])

    # -- permissions --------------------------------------------------------------------------

    def member_perms(self, user_id: int, channel: Channel) -> int:
        guild = self.guild_of(channel)
        member = guild.members.get(user_id)
        return 0 if member is None else channel_permissions(guild, member, channel)

    def bot_perms(self, channel: Channel) -> int:
        return self.member_perms(self.bot_user.id, channel)

    def require_bot(self, channel: Channel, needed: int, action: str) -> None:
        """403 like Discord when the bot lacks a permission: 50001 if it cannot see the channel at all."""
        perms = self.bot_perms(channel)
        if perms == ALL_PERMISSIONS:
            return
        if not perms & Perm.VIEW_CHANNEL:
            raise missing_access(f"{action}: VIEW_CHANNEL in #{channel.name}")
        lacking = missing(perms, needed)
        if lacking:
            raise missing_permissions(f"{action}: {', '.join(lacking)} in #{channel.name}")

    def bot_member(self, guild: Guild) -> Member:
        return guild.members[self.bot_user.id]
