"""REST: one channel or thread (get, edit, delete), starting threads and thread membership."""

from __future__ import annotations

from aiohttp import web

from . import serialize, threads
from .errors import ApiError, Violation, invalid_form, unknown
from .guild_edits import apply_channel_edit
from .model import JSON, Channel, ChannelType
from .permissions import Perm
from .rest_app import API, json_response, no_content, path_id, read_json, world_of
from .snowflake import now_iso
from .world import World

routes = web.RouteTableDef()
CHANNEL = f"{API}/channels/{{channel_id}}"
THREAD_MEMBERS = f"{CHANNEL}/thread-members"


@routes.get(CHANNEL)
async def get_channel(request: web.Request) -> web.Response:
    world = world_of(request)
    channel = world.channel(path_id(request, "channel_id"))
    world.require_bot(channel, Perm.VIEW_CHANNEL, "get channel")
    return json_response(serialize.channel_json(channel))


@routes.patch(CHANNEL)
async def edit_channel(request: web.Request) -> web.Response:
    world = world_of(request)
    channel = world.channel(path_id(request, "channel_id"))
    body = await read_json(request)
    if channel.is_thread:
        if "name" in body and body["name"] != channel.name:
            wait = world.thread_renames.take(channel.id)
            if wait is not None:
                return _rename_limited(world, request.path, wait)
        _edit_thread(world, channel, body)
    else:
        world.require_bot(channel, Perm.VIEW_CHANNEL | Perm.MANAGE_CHANNELS, "edit channel")
        apply_channel_edit(world, channel, body)
    return json_response(serialize.channel_json(channel))


def _rename_limited(world: World, path: str, wait: float) -> web.Response:
    violation = Violation("PATCH", path, 429, 0, "thread renamed more than twice in 10 minutes", [], "limit")
    world.violations.append(violation)
    world.changes.notify()
    body = {"message": "You are being rate limited.", "retry_after": round(wait, 3), "global": False}
    headers = {"Retry-After": str(max(1, round(wait))), "X-RateLimit-Scope": "shared"}
    return json_response(body, 429, headers)


def _edit_thread(world: World, thread: Channel, body: JSON) -> None:
    perms = world.bot_perms(thread)
    owner_only = set(body) <= {"name", "archived", "auto_archive_duration"}
    is_owner = thread.owner_id == world.bot_user.id and not thread.locked
    if not perms & Perm.MANAGE_THREADS and not (owner_only and is_owner):
        world.require_bot(thread, Perm.VIEW_CHANNEL | Perm.MANAGE_THREADS, "edit thread")
    if "name" in body:
        threads.check_thread_fields({"name": body["name"]})
        thread.name = str(body["name"])
    if "auto_archive_duration" in body:
        threads.check_thread_fields(
            {"name": thread.name, "auto_archive_duration": body["auto_archive_duration"]}
        )
        thread.auto_archive_duration = int(body["auto_archive_duration"])
    for key in ("archived", "locked", "invitable"):
        if key in body:
            setattr(thread, key, bool(body[key]))
    if "archived" in body:
        thread.archive_timestamp = now_iso()
    world.guild_of(thread).emit_channel("THREAD_UPDATE", thread)


@routes.delete(CHANNEL)
async def delete_channel(request: web.Request) -> web.Response:
    world = world_of(request)
    channel = world.channel(path_id(request, "channel_id"))
    guild = world.guild_of(channel)
    needed = Perm.MANAGE_THREADS if channel.is_thread else Perm.MANAGE_CHANNELS
    world.require_bot(channel, Perm.VIEW_CHANNEL | needed, "delete channel")
    channel.deleted = True
    if channel.is_thread:
        data = {
            "id": str(channel.id),
            "guild_id": str(guild.id),
            "parent_id": str(channel.parent_id),
            "type": channel.type,
        }
        world.emit("THREAD_DELETE", data, guild_id=guild.id)
    else:
        world.emit("CHANNEL_DELETE", serialize.channel_json(channel), guild_id=guild.id)
        for child in world.channels.values():
            if child.parent_id == channel.id and not child.deleted:
                if child.is_thread:
                    child.deleted = True
                else:
                    child.parent_id = None
                    guild.emit_channel("CHANNEL_UPDATE", child)
    return json_response(serialize.channel_json(channel))


@routes.post(f"{CHANNEL}/messages/{{message_id}}/threads")
async def thread_from_message(request: web.Request) -> web.Response:
    world = world_of(request)
    parent = world.channel(path_id(request, "channel_id"))
    starter = world.message(parent, path_id(request, "message_id", "Message"))
    body = await read_json(request)
    threads.check_parent(parent)
    threads.check_thread_fields(body)
    world.require_bot(
        parent, Perm.VIEW_CHANNEL | Perm.CREATE_PUBLIC_THREADS | Perm.READ_MESSAGE_HISTORY, "start thread"
    )
    thread = threads.start_thread(
        world, parent, world.bot_user, body, kind=ChannelType.PUBLIC_THREAD, starter=starter
    )
    return json_response(serialize.thread_json(thread))


@routes.post(f"{CHANNEL}/threads")
async def thread_without_message(request: web.Request) -> web.Response:
    world = world_of(request)
    parent = world.channel(path_id(request, "channel_id"))
    body = await read_json(request)
    threads.check_parent(parent)
    threads.check_thread_fields(body)
    kind = int(body.get("type") or ChannelType.PRIVATE_THREAD)
    if kind not in (ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD):
        raise invalid_form([("type", "BASE_TYPE_CHOICES", "Value must be one of (11, 12).")])
    needed = Perm.CREATE_PUBLIC_THREADS if kind == ChannelType.PUBLIC_THREAD else Perm.CREATE_PRIVATE_THREADS
    world.require_bot(parent, Perm.VIEW_CHANNEL | needed, "start thread")
    thread = threads.start_thread(world, parent, world.bot_user, body, kind=kind)
    return json_response(serialize.thread_json(thread))


def _thread(world: World, request: web.Request) -> Channel:
    thread = world.channel(path_id(request, "channel_id"))
    if not thread.is_thread:
        raise ApiError(400, 50024, "Cannot execute action on this channel type", kind="limit")
    return thread


@routes.put(f"{THREAD_MEMBERS}/{{user}}")
async def add_thread_member(request: web.Request) -> web.Response:
    world = world_of(request)
    thread = _thread(world, request)
    who = request.match_info["user"]
    user = world.bot_user if who == "@me" else world.users.get(path_id(request, "user", "User"))
    if user is None or user.id not in world.guild_of(thread).members:
        raise unknown("Member")
    needed = Perm.VIEW_CHANNEL | (0 if who == "@me" else Perm.SEND_MESSAGES_IN_THREADS)
    private = thread.type == ChannelType.PRIVATE_THREAD
    if private and who != "@me" and not thread.invitable:
        needed |= Perm.MANAGE_THREADS
    world.require_bot(thread, needed, "add thread member")
    if thread.archived:
        raise ApiError(400, 50083, "Thread is archived", kind="limit")
    threads.add_member(world, thread, user)
    return no_content()


@routes.delete(f"{THREAD_MEMBERS}/{{user}}")
async def remove_thread_member(request: web.Request) -> web.Response:
    world = world_of(request)
    thread = _thread(world, request)
    who = request.match_info["user"]
    user = world.bot_user if who == "@me" else world.users.get(path_id(request, "user", "User"))
    if user is None:
        raise unknown("Member")
    if who != "@me" and thread.owner_id != world.bot_user.id:
        world.require_bot(thread, Perm.VIEW_CHANNEL | Perm.MANAGE_THREADS, "remove thread member")
    threads.remove_member(world, thread, user)
    return no_content()


@routes.get(THREAD_MEMBERS)
async def list_thread_members(request: web.Request) -> web.Response:
    world = world_of(request)
    thread = _thread(world, request)
    world.require_bot(thread, Perm.VIEW_CHANNEL, "list thread members")
    return json_response([serialize.thread_member_json(thread, uid) for uid in thread.thread_members])


@routes.get(f"{THREAD_MEMBERS}/{{user}}")
async def get_thread_member(request: web.Request) -> web.Response:
    world = world_of(request)
    thread = _thread(world, request)
    world.require_bot(thread, Perm.VIEW_CHANNEL, "get thread member")
    who = request.match_info["user"]
    user_id = world.bot_user.id if who == "@me" else path_id(request, "user", "User")
    if user_id not in thread.thread_members:
        raise unknown("Member")
    return json_response(serialize.thread_member_json(thread, user_id))
