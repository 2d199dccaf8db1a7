"""REST: application commands, global and per guild (bulk overwrite, list, create, get, edit, delete)."""

from __future__ import annotations

from aiohttp import web

from . import serialize
from .commands import check_command, check_commands
from .errors import ApiError, invalid_form, unknown
from .model import JSON, Command
from .rest_app import API, json_response, no_content, path_id, read_json, world_of
from .world import World

routes = web.RouteTableDef()
GLOBAL = f"{API}/applications/{{app_id}}/commands"
GUILD = f"{API}/applications/{{app_id}}/guilds/{{guild_id}}/commands"


def _scope(world: World, request: web.Request) -> int | None:
    if path_id(request, "app_id", "Application") != world.app_id:
        raise ApiError(403, 50001, "Missing Access (not this application)", kind="permission")
    if "guild_id" not in request.match_info:
        return None
    return world.guild(path_id(request, "guild_id", "Guild")).id


def _make(world: World, scope: int | None, schema: JSON, old: Command | None) -> Command:
    return Command(
        id=old.id if old is not None else world.ids.next(),
        application_id=world.app_id,
        guild_id=scope,
        schema=serialize.strip(schema),
        version=world.ids.next(),
    )


def _find(world: World, scope: int | None, request: web.Request) -> Command:
    wanted = path_id(request, "command_id", "Application Command")
    for cmd in world.commands_for(scope):
        if cmd.id == wanted:
            return cmd
    raise unknown("Application Command")


async def bulk_overwrite(request: web.Request) -> web.Response:
    world = world_of(request)
    scope = _scope(world, request)
    body = await read_json(request)
    if not isinstance(body, list):
        raise invalid_form([("_", "BASE_TYPE_ARRAY", "Must be an array.")])
    errors = check_commands(body)
    if errors:
        raise invalid_form(errors)
    existing = {(c.name, c.type): c for c in world.commands_for(scope)}
    world.commands[scope] = [
        _make(world, scope, item, existing.get((item["name"], int(item.get("type", 1))))) for item in body
    ]
    world.changes.notify()
    return json_response([serialize.command_json(c) for c in world.commands[scope]])


async def list_commands(request: web.Request) -> web.Response:
    world = world_of(request)
    scope = _scope(world, request)
    return json_response([serialize.command_json(c) for c in world.commands_for(scope)])


async def create_command(request: web.Request) -> web.Response:
    world = world_of(request)
    scope = _scope(world, request)
    body = await read_json(request)
    current = world.commands_for(scope)
    key = (body.get("name"), int(body.get("type", 1)))
    old = next((c for c in current if (c.name, c.type) == key), None)
    others = [c.schema for c in current if c is not old]
    errors = check_commands([*others, body])
    if errors:
        raise invalid_form(errors)
    cmd = _make(world, scope, body, old)
    world.commands[scope] = [c for c in current if c is not old] + [cmd]
    world.changes.notify()
    return json_response(serialize.command_json(cmd), 200 if old else 201)


async def get_command(request: web.Request) -> web.Response:
    world = world_of(request)
    return json_response(serialize.command_json(_find(world, _scope(world, request), request)))


async def edit_command(request: web.Request) -> web.Response:
    world = world_of(request)
    scope = _scope(world, request)
    cmd = _find(world, scope, request)
    body = await read_json(request)
    schema = cmd.schema | body
    errors = check_command("_", schema)
    if errors:
        raise invalid_form(errors)
    cmd.schema, cmd.version = serialize.strip(schema), world.ids.next()
    world.changes.notify()
    return json_response(serialize.command_json(cmd))


async def delete_command(request: web.Request) -> web.Response:
    world = world_of(request)
    scope = _scope(world, request)
    cmd = _find(world, scope, request)
    world.commands[scope] = [c for c in world.commands_for(scope) if c is not cmd]
    world.changes.notify()
    return no_content()


for _base in (GLOBAL, GUILD):
    routes.put(_base)(bulk_overwrite)
    routes.get(_base)(list_commands)
    routes.post(_base)(create_command)
    routes.get(f"{_base}/{{command_id}}")(get_command)
    routes.patch(f"{_base}/{{command_id}}")(edit_command)
    routes.delete(f"{_base}/{{command_id}}")(delete_command)
