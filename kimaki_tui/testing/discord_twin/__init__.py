"""A strict local Discord (REST v10 + Gateway) that the real discord.py client connects to, for tests
and `kimaki demo`. Nothing starts at import: create a DiscordTwin and `await twin.start()`.
"""

from .actors import Actor
from .errors import UnexpectedRequest, Violation
from .gateway import ConnectionRecord
from .guild import Guild
from .interactions import Interaction, InteractionResponse
from .model import (
    Attachment,
    Channel,
    ChannelType,
    Command,
    Member,
    Message,
    Overwrite,
    Role,
    TypingEvent,
    User,
)
from .patch import point_discord_at
from .permissions import DEFAULT_BOT, DEFAULT_EVERYONE, Perm
from .twin import DiscordTwin

__all__ = [
    "DEFAULT_BOT",
    "DEFAULT_EVERYONE",
    "Actor",
    "Attachment",
    "Channel",
    "ChannelType",
    "Command",
    "ConnectionRecord",
    "DiscordTwin",
    "Guild",
    "Interaction",
    "InteractionResponse",
    "Member",
    "Message",
    "Overwrite",
    "Perm",
    "Role",
    "TypingEvent",
    "UnexpectedRequest",
    "User",
    "Violation",
    "point_discord_at",
]
