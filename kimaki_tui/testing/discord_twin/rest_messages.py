"""REST: channel messages (send, list, get, edit, delete), typing and reactions."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from . import messaging, serialize
from .errors import ApiError, invalid_form, missing_permissions
from .model import JSON, Channel, ChannelType, Message
from .permissions import Perm
from .rest_app import API, json_response, no_content, path_id, read_draft, world_of
from .world import World

routes = web.RouteTableDef()
MESSAGES = f"{API}/channels/{{channel_id}}/messages"
ONE = f"{MESSAGES}/{{message_id}}"


def _send_permission(channel: Channel) -> int:
    return Perm.SEND_MESSAGES_IN_THREADS if channel.is_thread else Perm.SEND_MESSAGES


def _text_channel(world: World, request: web.Request) -> Channel:
    channel = world.channel(path_id(request, "channel_id"))
    if channel.type == ChannelType.CATEGORY:
        raise ApiError(400, 50008, "Cannot send messages in a non-text channel", kind="limit")
    return channel


@routes.post(MESSAGES)
async def create_message(request: web.Request) -> web.Response:
    world = world_of(request)
    channel = _text_channel(world, request)
    draft = await read_draft(request)
    needed = Perm.VIEW_CHANNEL | _send_permission(channel)
    if draft.uploads:
        needed |= Perm.ATTACH_FILES
    reference = _reference(world, channel, draft.fields.get("message_reference"))
    if reference is not None:
        needed |= Perm.READ_MESSAGE_HISTORY
    world.require_bot(channel, needed, "send message")
    if channel.locked and not world.bot_perms(channel) & Perm.MANAGE_THREADS:
        raise missing_permissions("thread is locked")
    msg = messaging.create(
        world, channel, world.bot_user, draft, type=19 if reference else 0, reference=reference
    )
    return json_response(serialize.message_json(world, msg))


def _reference(world: World, channel: Channel, ref: Any) -> JSON | None:
    if not ref:
        return None
    target = world.messages.get(int(ref.get("message_id") or 0))
    same_channel = target is not None and target.channel_id == channel.id and not target.deleted
    if not same_channel:
        if ref.get("fail_if_not_exists", True):
            raise invalid_form([("message_reference", "REPLIES_UNKNOWN_MESSAGE", "Unknown message")])
        return None
    assert target is not None
    return {
        "type": 0,
        "message_id": str(target.id),
        "channel_id": str(channel.id),
        "guild_id": str(channel.guild_id),
    }


@routes.get(MESSAGES)
async def list_messages(request: web.Request) -> web.Response:
    world = world_of(request)
    channel = world.channel(path_id(request, "channel_id"))
    world.require_bot(channel, Perm.VIEW_CHANNEL, "read history")
    if not world.bot_perms(channel) & Perm.READ_MESSAGE_HISTORY:
        return json_response([])  # what Discord answers without Read Message History
    limit = int(request.query.get("limit", "50"))
    if not 1 <= limit <= 100:
        raise invalid_form([("limit", "NUMBER_TYPE_MAX", "Must be between 1 and 100.")])
    visible = [m for m in world.channel_log(channel.id) if not m.deleted and m.visible_to is None]
    payloads = [_visible_json(world, m) for m in visible]
    starter = _thread_starter(world, channel)
    if starter is not None:
        payloads.insert(0, starter)
    return json_response(_page(payloads, request.query, limit))


def _visible_json(world: World, msg: Message) -> JSON:
    from .intents import blank_content

    data = serialize.message_json(world, msg)
    return data if world.message_content_enabled else blank_content(data, world.bot_user.id)


def _page(payloads: list[JSON], query: Any, limit: int) -> list[JSON]:
    """Discord's paging: oldest-first selection for `after`, newest-first output always."""
    ordered = sorted(payloads, key=lambda m: int(m["id"]))
    if "after" in query:
        after = int(query["after"])
        chosen = [m for m in ordered if int(m["id"]) > after][:limit]
    elif "around" in query:
        around = int(query["around"])
        older = [m for m in ordered if int(m["id"]) < around][-(limit // 2) :] if limit > 1 else []
        rest = [m for m in ordered if int(m["id"]) >= around]
        chosen = older + rest[: limit - len(older)]
    else:
        before = int(query.get("before", 1 << 63))
        chosen = [m for m in ordered if int(m["id"]) < before][-limit:]
    return list(reversed(chosen))


def _thread_starter(world: World, channel: Channel) -> JSON | None:
    """A thread started from a message opens with a type-21 message pointing at it, as on Discord."""
    if not channel.is_thread:
        return None
    starter = world.messages.get(channel.id)
    if starter is None or starter.channel_id != channel.parent_id:
        return None
    data = serialize.message_json(world, starter)
    return data | {
        "channel_id": str(channel.id),
        "type": 21,
        "content": "",
        "embeds": [],
        "attachments": [],
        "components": [],
        "message_reference": {
            "channel_id": str(starter.channel_id),
            "message_id": str(starter.id),
            "guild_id": str(channel.guild_id),
            "type": 0,
        },
        "referenced_message": None if starter.deleted else data,
    }


@routes.get(ONE)
async def get_message(request: web.Request) -> web.Response:
    world = world_of(request)
    channel = world.channel(path_id(request, "channel_id"))
    world.require_bot(channel, Perm.VIEW_CHANNEL | Perm.READ_MESSAGE_HISTORY, "fetch message")
    msg = world.message(channel, path_id(request, "message_id", "Message"))
    return json_response(_visible_json(world, msg))


@routes.patch(ONE)
async def edit_message(request: web.Request) -> web.Response:
    world = world_of(request)
    channel = world.channel(path_id(request, "channel_id"))
    msg = world.message(channel, path_id(request, "message_id", "Message"))
    draft = await read_draft(request)
    world.require_bot(channel, Perm.VIEW_CHANNEL, "edit message")
    if msg.author.id != world.bot_user.id:
        raise ApiError(403, 50005, "Cannot edit a message authored by another user", kind="permission")
    messaging.edit(world, msg, draft)
    return json_response(serialize.message_json(world, msg))


@routes.delete(ONE)
async def delete_message(request: web.Request) -> web.Response:
    world = world_of(request)
    channel = world.channel(path_id(request, "channel_id"))
    msg = world.message(channel, path_id(request, "message_id", "Message"))
    needed = Perm.VIEW_CHANNEL
    if msg.author.id != world.bot_user.id:
        needed |= Perm.MANAGE_MESSAGES
    world.require_bot(channel, needed, "delete message")
    messaging.delete(world, msg)
    return no_content()


@routes.post(f"{API}/channels/{{channel_id}}/typing")
async def trigger_typing(request: web.Request) -> web.Response:
    world = world_of(request)
    channel = _text_channel(world, request)
    world.require_bot(channel, Perm.VIEW_CHANNEL | _send_permission(channel), "typing")
    messaging.typing(world, channel, world.bot_user, asyncio.get_running_loop().time())
    return no_content()


def _reaction_target(world: World, request: web.Request) -> tuple[Channel, Message, str]:
    channel = world.channel(path_id(request, "channel_id"))
    msg = world.message(channel, path_id(request, "message_id", "Message"))
    return channel, msg, unquote(request.match_info.get("emoji", ""))


@routes.put(f"{ONE}/reactions/{{emoji}}/@me")
async def add_reaction(request: web.Request) -> web.Response:
    world = world_of(request)
    channel, msg, emoji = _reaction_target(world, request)
    needed = Perm.VIEW_CHANNEL | Perm.READ_MESSAGE_HISTORY
    if not msg.reactions.get(messaging.emoji_key(emoji)):
        needed |= Perm.ADD_REACTIONS
    world.require_bot(channel, needed, "add reaction")
    messaging.react(world, msg, world.bot_user, emoji, add=True)
    return no_content()


@routes.delete(f"{ONE}/reactions/{{emoji}}/{{user}}")
async def remove_reaction(request: web.Request) -> web.Response:
    world = world_of(request)
    channel, msg, emoji = _reaction_target(world, request)
    who = request.match_info["user"]
    user = world.bot_user if who == "@me" else world.users.get(path_id(request, "user", "User"))
    if user is None:
        raise ApiError(404, 10013, "Unknown User")
    needed = Perm.VIEW_CHANNEL | (0 if user is world.bot_user else Perm.MANAGE_MESSAGES)
    world.require_bot(channel, needed, "remove reaction")
    messaging.react(world, msg, user, emoji, add=False)
    return no_content()


@routes.get(f"{ONE}/reactions/{{emoji}}")
async def list_reactors(request: web.Request) -> web.Response:
    world = world_of(request)
    channel, msg, emoji = _reaction_target(world, request)
    world.require_bot(channel, Perm.VIEW_CHANNEL | Perm.READ_MESSAGE_HISTORY, "list reactions")
    users = msg.reactions.get(messaging.emoji_key(emoji), [])
    return json_response([serialize.user_json(world.users[u]) for u in users])


@routes.delete(f"{ONE}/reactions")
async def clear_reactions(request: web.Request) -> web.Response:
    world = world_of(request)
    channel, msg, _ = _reaction_target(world, request)
    world.require_bot(channel, Perm.VIEW_CHANNEL | Perm.MANAGE_MESSAGES, "clear reactions")
    msg.reactions.clear()
    data = {"channel_id": str(channel.id), "message_id": str(msg.id), "guild_id": str(channel.guild_id)}
    world.emit("MESSAGE_REACTION_REMOVE_ALL", data, guild_id=channel.guild_id, channel_id=channel.id)
    return no_content()
