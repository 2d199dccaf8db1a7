"""Creating, editing, deleting and reacting to messages, and typing: shared by REST routes, interactions
and actors."""

from __future__ import annotations

import copy
import datetime as dt
import mimetypes
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from . import serialize
from .errors import ApiError, invalid_form
from .limits import check_message
from .model import JSON, Attachment, Channel, Message, MessageFlag, TypingEvent, Upload, User
from .snowflake import now_iso, snowflake_time

# How long Discord remembers a nonce for `enforce_nonce` ("a few minutes").
NONCE_WINDOW = dt.timedelta(minutes=3)

if TYPE_CHECKING:
    from .world import World

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
# Flags a sender may set; the rest are Discord's to set.
_SETTABLE_FLAGS = (
    (1 << 2) | MessageFlag.EPHEMERAL | MessageFlag.SUPPRESS_NOTIFICATIONS | MessageFlag.IS_COMPONENTS_V2
)


@dataclass
class Draft:
    """A message body as the bot sent it (JSON or multipart payload_json) plus its uploaded files."""

    fields: JSON
    uploads: list[Upload] = field(default_factory=list)


def store_upload(world: World, channel_id: int, value: Any) -> Attachment:
    """Keep file bytes under a CDN url the twin serves. `value`: an Upload or (name, bytes[, type])."""
    if isinstance(value, Upload):
        name, data, ctype = value.filename, value.data, value.content_type
    else:
        name, data, *rest = value
        ctype = rest[0] if rest else None
    if ctype in (None, "application/octet-stream"):
        # Discord derives the type from the file name; discord.py always uploads octet-stream.
        ctype = mimetypes.guess_type(name)[0] or ctype
    att_id = world.ids.next()
    url = f"{world.base_url}/attachments/{channel_id}/{att_id}/{quote(name)}"
    att = Attachment(
        id=att_id, channel_id=channel_id, filename=name, data=bytes(data), content_type=ctype, url=url
    )
    world.attachments[att_id] = att
    return att


def validate(world: World, draft: Draft) -> None:
    errors = check_message(draft.fields, len(draft.uploads))
    if errors:
        raise invalid_form(errors)
    for upload in draft.uploads:
        if len(upload.data) > world.upload_limit:
            raise ApiError(413, 40005, f"Request entity too large: {upload.filename}", kind="limit")


def number_components(components: list[JSON], start: int = 1) -> int:
    """Discord gives every component a numeric `id` when the sender did not."""
    next_id = start
    for comp in components:
        if "id" not in comp:
            comp["id"] = next_id
        next_id = max(next_id, int(comp["id"])) + 1
        next_id = number_components(comp.get("components") or [], next_id)
        accessory = comp.get("accessory")
        if isinstance(accessory, dict):
            next_id = number_components([accessory], next_id)
    return next_id


def apply_draft(world: World, msg: Message, draft: Draft, *, creating: bool) -> None:
    """Apply a validated draft to a message (a new one, or an edit that only touches given fields)."""
    fields = draft.fields
    if "content" in fields:
        msg.content = fields["content"] or ""
    if "embeds" in fields:
        msg.embeds = list(fields["embeds"] or [])
    if "components" in fields:
        msg.components = serialize.strip(fields["components"] or [])
        number_components(msg.components)
    if fields.get("flags") is not None:
        keep = msg.flags & ~_SETTABLE_FLAGS
        wanted = int(fields["flags"]) & _SETTABLE_FLAGS
        if not creating:
            wanted = (wanted & ~MessageFlag.EPHEMERAL) | (msg.flags & MessageFlag.EPHEMERAL)
        msg.flags = keep | wanted
    _apply_attachments(world, msg, draft, creating)
    if not msg.content and not msg.embeds and not msg.attachments and not msg.components:
        raise ApiError(400, 50006, "Cannot send an empty message", kind="limit")
    if creating or "allowed_mentions" in fields:
        msg.allowed_mentions = serialize.strip(fields.get("allowed_mentions"))
    parse_mentions(world, msg)
    if creating:  # an edit never notifies anyone
        msg.pinged = pinged_users(world, msg)


def _apply_attachments(world: World, msg: Message, draft: Draft, creating: bool) -> None:
    listed = draft.fields.get("attachments")
    uploads = {u.index: u for u in draft.uploads}
    if listed is None:
        msg.attachments = [*(msg.attachments if not creating else []), *_stored(world, msg, draft.uploads)]
        return
    kept: list[Attachment] = []
    existing = {a.id: a for a in msg.attachments}
    for i, meta in enumerate(listed):
        ref = int(meta.get("id", -1))
        if ref in uploads:
            att = _stored(world, msg, [uploads.pop(ref)])[0]
            att.description = meta.get("description")
            kept.append(att)
        elif ref in existing:
            kept.append(existing[ref])
        else:
            raise invalid_form([(f"attachments.{i}.id", "ATTACHMENT_NOT_FOUND", "Unknown attachment")])
    msg.attachments = kept + _stored(world, msg, list(uploads.values()))


def _stored(world: World, msg: Message, uploads: list[Upload]) -> list[Attachment]:
    return [store_upload(world, msg.channel_id, u) for u in uploads]


def parse_mentions(world: World, msg: Message) -> None:
    msg.mentions = [int(m) for m in _USER_MENTION.findall(msg.content) if int(m) in world.users]
    if msg.guild_id is not None:
        roles = world.guilds[msg.guild_id].roles
        msg.mention_roles = [int(r) for r in _ROLE_MENTION.findall(msg.content) if int(r) in roles]
    msg.mention_everyone = "@everyone" in msg.content or "@here" in msg.content


def pinged_users(world: World, msg: Message) -> list[int]:
    """Who Discord notifies, by `allowed_mentions`: without it everyone mentioned and a replied-to
    author; with it only users allowed by `parse: ["users"]` or listed in `users`, and a replied-to
    author only with `replied_user: true`."""
    allowed = msg.allowed_mentions
    if allowed is None:
        users, reply_pings = list(msg.mentions), True
    else:
        listed = {int(u) for u in allowed.get("users") or []}
        everyone = "users" in (allowed.get("parse") or [])
        users = [uid for uid in msg.mentions if everyone or uid in listed]
        reply_pings = bool(allowed.get("replied_user"))
    replied = world.messages.get(int((msg.reference or {}).get("message_id", 0) or 0))
    if reply_pings and replied is not None and replied.author.id not in users:
        users.append(replied.author.id)
    return users


def new_message(world: World, channel: Channel, author: User, **values: Any) -> Message:
    return Message(
        id=world.ids.next(),
        channel_id=channel.id,
        guild_id=channel.guild_id,
        author=author,
        timestamp=now_iso(),
        **values,
    )


def post(world: World, channel: Channel, msg: Message) -> Message:
    """Add a message to its channel and tell the gateway (ephemeral messages stay off the gateway)."""
    world.messages[msg.id] = msg
    world.channel_log(channel.id).append(msg)
    if msg.visible_to is None:
        channel.last_message_id = msg.id
        if channel.is_thread:
            channel.message_count += 1
            channel.total_message_sent += 1
            _unarchive(world, channel)
        data = serialize.message_json(world, msg, with_member=True)
        world.emit("MESSAGE_CREATE", data, guild_id=msg.guild_id, channel_id=channel.id)
    else:
        world.changes.notify()
    return msg


def typing(world: World, channel: Channel, user: User, now: float) -> None:
    """`user` started typing in `channel` (the bot's typing call, or a person in the client)."""
    world.typing.append(TypingEvent(channel.id, user.id, now))
    guild = world.guild_of(channel)
    data = {
        "channel_id": str(channel.id),
        "guild_id": str(guild.id),
        "user_id": str(user.id),
        "timestamp": int(now),
        "member": serialize.member_json(guild.members[user.id]),
    }
    world.emit("TYPING_START", data, guild_id=guild.id, channel_id=channel.id)


def _unarchive(world: World, thread: Channel) -> None:
    if thread.archived:
        thread.archived = False
        thread.archive_timestamp = now_iso()
        world.guild_of(thread).emit_channel("THREAD_UPDATE", thread)


def edited(world: World, msg: Message) -> None:
    msg.edited_timestamp = now_iso()
    msg.edit_count += 1
    if msg.visible_to is None:
        data = serialize.message_json(world, msg, with_member=True)
        world.emit("MESSAGE_UPDATE", data, guild_id=msg.guild_id, channel_id=msg.channel_id)
    else:
        world.changes.notify()


def delete(world: World, msg: Message) -> None:
    msg.deleted = True
    if msg.visible_to is None:
        data = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
        if msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
        world.emit("MESSAGE_DELETE", data, guild_id=msg.guild_id, channel_id=msg.channel_id)
    else:
        world.changes.notify()


def emoji_key(raw: str) -> str:
    """`name:id` for custom emoji (the URL form), the character itself for unicode emoji."""
    name, _, emoji_id = raw.partition(":")
    return f"{name}:{emoji_id}" if emoji_id else name


def react(world: World, msg: Message, user: User, raw_emoji: str, *, add: bool) -> None:
    key = emoji_key(raw_emoji)
    users = msg.reactions.setdefault(key, [])
    if add == (user.id in users):
        return
    if add:
        users.append(user.id)
    else:
        users.remove(user.id)
    data: JSON = {
        "user_id": str(user.id),
        "channel_id": str(msg.channel_id),
        "message_id": str(msg.id),
        "emoji": serialize.emoji_json(key),
        "burst": False,
        "type": 0,
    }
    if msg.guild_id is not None:
        data["guild_id"] = str(msg.guild_id)
        member = world.guilds[msg.guild_id].members.get(user.id)
        if add and member is not None:
            data["member"] = serialize.member_json(member)
    if add:
        data["message_author_id"] = str(msg.author.id)
    event = "MESSAGE_REACTION_ADD" if add else "MESSAGE_REACTION_REMOVE"
    world.emit(event, data, guild_id=msg.guild_id, channel_id=msg.channel_id)


def create(world: World, channel: Channel, author: User, draft: Draft, **values: Any) -> Message:
    """Validate a draft and post it as a new message by `author`. With `enforce_nonce`, a nonce
    this author used in the channel in the last few minutes returns that message instead."""
    validate(world, draft)
    nonce = draft.fields.get("nonce")
    if nonce is not None and draft.fields.get("enforce_nonce"):
        earlier = _same_nonce(world, channel, author, str(nonce))
        if earlier is not None:
            return earlier
    msg = new_message(world, channel, author, **values)
    apply_draft(world, msg, draft, creating=True)
    if nonce is not None:
        msg.nonce = nonce
        world.nonces[(channel.id, author.id, str(nonce))] = msg
    msg.tts = bool(draft.fields.get("tts", False))
    return post(world, channel, msg)


def _same_nonce(world: World, channel: Channel, author: User, nonce: str) -> Message | None:
    """The message this author sent in the channel with `nonce` within the window (an index, so
    a long channel costs nothing per post)."""
    msg = world.nonces.get((channel.id, author.id, nonce))
    if msg is None or msg.deleted or snowflake_time(msg.id) < dt.datetime.now(dt.UTC) - NONCE_WINDOW:
        return None
    return msg


def edit(world: World, msg: Message, draft: Draft) -> Message:
    """Validate and apply an edit atomically: a rejected edit leaves the message as it was."""
    validate(world, draft)
    candidate = copy.copy(msg)
    apply_draft(world, candidate, draft, creating=False)
    msg.__dict__.update(candidate.__dict__)
    edited(world, msg)
    return msg
