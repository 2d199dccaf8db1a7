"""Gateway intents: which events a session receives, and blanking content without MESSAGE_CONTENT."""

from __future__ import annotations

from .model import JSON

GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
GUILD_MESSAGE_REACTIONS = 1 << 10
GUILD_MESSAGE_TYPING = 1 << 11
MESSAGE_CONTENT = 1 << 15
PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT
ALL_INTENTS = (1 << 26) - 1

_EVENT_INTENT = {
    "GUILD_CREATE": GUILDS,
    "GUILD_UPDATE": GUILDS,
    "GUILD_DELETE": GUILDS,
    "GUILD_ROLE_CREATE": GUILDS,
    "GUILD_ROLE_UPDATE": GUILDS,
    "GUILD_ROLE_DELETE": GUILDS,
    "CHANNEL_CREATE": GUILDS,
    "CHANNEL_UPDATE": GUILDS,
    "CHANNEL_DELETE": GUILDS,
    "THREAD_CREATE": GUILDS,
    "THREAD_UPDATE": GUILDS,
    "THREAD_DELETE": GUILDS,
    "THREAD_MEMBER_UPDATE": GUILDS,
    "THREAD_MEMBERS_UPDATE": GUILDS | GUILD_MEMBERS,
    "GUILD_MEMBER_ADD": GUILD_MEMBERS,
    "GUILD_MEMBER_UPDATE": GUILD_MEMBERS,
    "GUILD_MEMBER_REMOVE": GUILD_MEMBERS,
    "MESSAGE_CREATE": GUILD_MESSAGES,
    "MESSAGE_UPDATE": GUILD_MESSAGES,
    "MESSAGE_DELETE": GUILD_MESSAGES,
    "MESSAGE_REACTION_ADD": GUILD_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE": GUILD_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE_ALL": GUILD_MESSAGE_REACTIONS,
    "TYPING_START": GUILD_MESSAGE_TYPING,
}


def wants(intents: int, event: str) -> bool:
    """Events without an intent (READY, INTERACTION_CREATE...) always go out."""
    needed = _EVENT_INTENT.get(event, 0)
    return needed == 0 or intents & needed == needed


def blank_content(message: JSON, bot_id: int) -> JSON:
    """Without MESSAGE_CONTENT, Discord empties these fields unless the bot wrote or was mentioned in it."""
    author = message.get("author") or {}
    mentioned = any(m.get("id") == str(bot_id) for m in message.get("mentions") or [])
    if author.get("id") == str(bot_id) or mentioned:
        return message
    blanked = dict(message)
    blanked.update(content="", embeds=[], attachments=[], components=[])
    blanked.pop("poll", None)
    blanked.pop("message_snapshots", None)
    return blanked
