"""REST: guilds, their channels, roles, members, active threads and a channel's archived threads."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from . import guild_edits, serialize
from .errors import ApiError, missing_access, missing_permissions, unknown
from .guild import Guild
from .model import ChannelType
from .permissions import Perm
from .rest_app import API, json_response, no_content, path_id, read_json, world_of
from .snowflake import parse_id
from .world import World

routes = web.RouteTableDef()
GUILD = f"{API}/guilds/{{guild_id}}"


def _guild(world: World, request: web.Request) -> Guild:
    return world.guild(path_id(request, "guild_id", "Guild"))


@routes.get(GUILD)
async def get_guild(request: web.Request) -> web.Response:
    world = world_of(request)
    guild = _guild(world, request)
    data = serialize.guild_json(guild)
    if request.query.get("with_counts") in ("true", "1"):
        data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
    return json_response(data)


@routes.get(f"{GUILD}/channels")
async def list_channels(request: web.Request) -> web.Response:
    world = world_of(request)
    guild = _guild(world, request)
    return json_response([serialize.channel_json(c) for c in guild.channels])


@routes.post(f"{GUILD}/channels")
async def create_channel(request: web.Request) -> web.Response:
    world = world_of(request)
    guild = _guild(world, request)
    body = await read_json(request)
    if not guild_edits.guild_perms(world, guild) & Perm.MANAGE_CHANNELS:
        raise missing_permissions("create channel: MANAGE_CHANNELS")
    guild_edits.check_channel_fields(world, guild, body, creating=True)
    overwrites = guild_edits.parse_overwrites(world, guild, body.get("permission_overwrites"))
    channel = guild.create_channel(
        int(body.get("type") or ChannelType.TEXT),
        str(body["name"]),
        parent_id=parse_id(body.get("parent_id")),
        topic=body.get("topic"),
        overwrites=overwrites,
        position=body.get("position"),
    )
    return json_response(serialize.channel_json(channel), 201)


@routes.get(f"{GUILD}/roles")
async def list_roles(request: web.Request) -> web.Response:
    guild = _guild(world_of(request), request)
    return json_response([serialize.role_json(r) for r in guild.roles.values()])


@routes.post(f"{GUILD}/roles")
async def create_role(request: web.Request) -> web.Response:
    world = world_of(request)
    guild = _guild(world, request)
    body = await read_json(request)
    permissions = guild_edits.check_role_fields(world, guild, body, creating=True)
    role = guild.create_role(
        str(body.get("name") or "new role"),
        permissions,
        color=int(body.get("color") or 0),
        hoist=bool(body.get("hoist", False)),
        mentionable=bool(body.get("mentionable", False)),
    )
    return json_response(serialize.role_json(role))


@routes.patch(f"{GUILD}/roles/{{role_id}}")
async def edit_role(request: web.Request) -> web.Response:
    world = world_of(request)
    guild = _guild(world, request)
    role = guild.roles.get(path_id(request, "role_id", "Role"))
    if role is None:
        raise unknown("Role")
    body = await read_json(request)
    guild_edits.check_manageable(world, guild, role)
    permissions = guild_edits.check_role_fields(world, guild, body, creating=False)
    if "name" in body:
        role.name = str(body["name"])
    if "permissions" in body:
        role.permissions = permissions
    for key in ("color", "hoist", "mentionable"):
        if key in body:
            setattr(role, key, type(getattr(role, key))(body[key]))
    guild.set_role_permissions(role, role.permissions)
    return json_response(serialize.role_json(role))


@routes.get(f"{GUILD}/members/{{user_id}}")
async def get_member(request: web.Request) -> web.Response:
    world = world_of(request)
    guild = _guild(world, request)
    member = guild.members.get(path_id(request, "user_id", "Member"))
    if member is None:
        raise unknown("Member")
    return json_response(serialize.member_json(member))


@routes.get(f"{GUILD}/members")
async def list_members(request: web.Request) -> web.Response:
    world = world_of(request)
    guild = _guild(world, request)
    if not world.members_intent_enabled:
        raise missing_access("listing members needs the Server Members intent")
    limit = int(request.query.get("limit", "1"))
    if not 1 <= limit <= 1000:
        raise ApiError(400, 50035, "limit must be between 1 and 1000", kind="limit")
    after = int(request.query.get("after", "0"))
    chosen = sorted((m for m in guild.members.values() if m.user.id > after), key=lambda m: m.user.id)[:limit]
    return json_response([serialize.member_json(m) for m in chosen])


@routes.put(f"{GUILD}/members/{{user_id}}/roles/{{role_id}}")
async def add_member_role(request: web.Request) -> web.Response:
    return _change_member_role(request, add=True)


@routes.delete(f"{GUILD}/members/{{user_id}}/roles/{{role_id}}")
async def remove_member_role(request: web.Request) -> web.Response:
    return _change_member_role(request, add=False)


def _change_member_role(request: web.Request, *, add: bool) -> web.Response:
    world = world_of(request)
    guild = _guild(world, request)
    member = guild.members.get(path_id(request, "user_id", "Member"))
    role = guild.roles.get(path_id(request, "role_id", "Role"))
    if member is None:
        raise unknown("Member")
    if role is None or role.id == guild.id:
        raise unknown("Role")
    guild_edits.check_manageable(world, guild, role)
    has = role.id in member.role_ids
    if add and not has:
        member.role_ids.append(role.id)
    elif not add and has:
        member.role_ids.remove(role.id)
    guild.emit_member_update(member)
    return no_content()


@routes.get(f"{GUILD}/threads/active")
async def active_threads(request: web.Request) -> web.Response:
    world = world_of(request)
    guild = _guild(world, request)
    visible = [t for t in guild.threads if not t.archived and world.bot_perms(t)]
    bot_id = world.bot_user.id
    members = [serialize.thread_member_json(t, bot_id) for t in visible if bot_id in t.thread_members]
    return json_response({"threads": [serialize.thread_json(t) for t in visible], "members": members})


@routes.get(f"{API}/channels/{{channel_id}}/threads/archived/public")
async def archived_public_threads(request: web.Request) -> web.Response:
    """Newest archived first; `before` (ISO timestamp) pages back, `limit` ≤ 100 (Discord's rules)."""
    world = world_of(request)
    channel = world.channel(path_id(request, "channel_id"))
    world.require_bot(channel, Perm.VIEW_CHANNEL | Perm.READ_MESSAGE_HISTORY, "list archived threads")
    limit = min(max(int(request.query.get("limit", "50")), 2), 100)
    before = request.query.get("before")
    archived = [
        t
        for t in world.guild_of(channel).threads
        if t.parent_id == channel.id
        and t.archived
        and t.type == ChannelType.PUBLIC_THREAD
        and (before is None or _moment(t.archive_timestamp) < _moment(before))
    ]
    archived.sort(key=lambda t: _moment(t.archive_timestamp), reverse=True)
    page = archived[:limit]
    bot_id = world.bot_user.id
    return json_response(
        {
            "threads": [serialize.thread_json(t) for t in page],
            "members": [serialize.thread_member_json(t, bot_id) for t in page if bot_id in t.thread_members],
            "has_more": len(archived) > limit,
        }
    )


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text) if text else datetime.min.replace(tzinfo=UTC)
