"""REST: who the bot is (users/@me, the application) and user lookups."""

from __future__ import annotations

from aiohttp import web

from . import permissions, serialize
from .errors import ApiError, unknown
from .rest_app import API, json_response, path_id, world_of

routes = web.RouteTableDef()


@routes.get(f"{API}/users/@me")
async def get_me(request: web.Request) -> web.Response:
    world = world_of(request)
    user = serialize.user_json(world.bot_user) | {"verified": True, "mfa_enabled": False, "email": None}
    return json_response(user)


@routes.get(f"{API}/users/@me/guilds")
async def my_guilds(request: web.Request) -> web.Response:
    """Partial guilds the bot is in, by id; `limit` (1-200, default 200), `before`/`after` page them."""
    world = world_of(request)
    query = request.query
    limit = int(query.get("limit", "200"))
    if not 1 <= limit <= 200:
        raise ApiError(400, 50035, "Invalid Form Body: limit must be between 1 and 200", kind="protocol")
    guilds = sorted(world.guilds.values(), key=lambda g: g.id)
    if "after" in query:
        guilds = [g for g in guilds if g.id > int(query["after"])]
    if "before" in query:
        guilds = [g for g in guilds if g.id < int(query["before"])][-limit:]
    bot = world.bot_user.id
    return json_response(
        [
            {
                "id": str(g.id),
                "name": g.name,
                "icon": None,
                "banner": None,
                "owner": g.owner_id == bot,
                "permissions": str(permissions.base_permissions(g, g.members[bot])),
                "features": [],
                "approximate_member_count": len(g.members),
                "approximate_presence_count": 0,
            }
            for g in guilds[:limit]
        ]
    )


@routes.get(f"{API}/oauth2/applications/@me")
async def get_application(request: web.Request) -> web.Response:
    """Like Discord: `owner` is the owning user, or for a team-owned application a pseudo-user
    standing for the team (flags 1024) with the people in `team.members`."""
    world = world_of(request)
    team = world.app_team
    return json_response(
        {
            "id": str(world.app_id),
            "name": world.bot_user.name,
            "description": "",
            "icon": None,
            "bot_public": world.bot_public,
            "bot_require_code_grant": False,
            "owner": serialize.user_json(world.app_owner) if team is None else serialize.team_user_json(team),
            "verify_key": "0" * 64,
            "team": None if team is None else serialize.team_json(team),
            "flags": (1 << 18 if world.message_content_enabled else 0)
            | (1 << 14 if world.members_intent_enabled else 0),
            "interactions_endpoint_url": None,
            "bot": serialize.user_json(world.bot_user),
        }
    )


@routes.get(f"{API}/users/{{user_id}}")
async def get_user(request: web.Request) -> web.Response:
    world = world_of(request)
    user = world.users.get(path_id(request, "user_id", "User"))
    if user is None:
        raise unknown("User")
    return json_response(serialize.user_json(user))
