"""REST: interaction callbacks and the interaction webhook (followups, @original)."""

from __future__ import annotations

from aiohttp import web

from . import messaging, responses, serialize
from .errors import invalid_form, unknown
from .interactions import Interaction, find_by_token
from .messaging import Draft
from .rest_app import API, json_response, no_content, path_id, read_draft, world_of
from .world import World

routes = web.RouteTableDef()
WEBHOOK = f"{API}/webhooks/{{app_id}}/{{token}}"


@routes.post(f"{API}/interactions/{{interaction_id}}/{{token}}/callback")
async def interaction_callback(request: web.Request) -> web.Response:
    world = world_of(request)
    inter = world.interactions.get(path_id(request, "interaction_id", "Interaction"))
    if inter is None or inter.token != request.match_info["token"]:
        raise unknown("Interaction")
    raw = await read_draft(request)
    kind = raw.fields.get("type")
    if not isinstance(kind, int):
        raise invalid_form([("type", "BASE_TYPE_REQUIRED", "This field is required")])
    draft = Draft(fields=dict(raw.fields.get("data") or {}), uploads=raw.uploads)
    body = responses.callback(world, inter, kind, draft)
    if request.query.get("with_response") in ("1", "true", "True"):
        return json_response(body)
    return no_content()


def _interaction(world: World, request: web.Request) -> Interaction:
    if path_id(request, "app_id", "Webhook") != world.app_id:
        raise unknown("Webhook")
    inter = find_by_token(world, request.match_info["token"])
    if inter is None:
        raise unknown("Webhook")
    return inter


@routes.post(WEBHOOK)
async def send_followup(request: web.Request) -> web.Response:
    world = world_of(request)
    inter = _interaction(world, request)
    draft = await read_draft(request)
    msg = responses.followup(world, inter, draft)
    if request.query.get("wait") in ("1", "true", "True"):
        return json_response(serialize.message_json(world, msg))
    return no_content()


@routes.get(f"{WEBHOOK}/messages/{{message_id}}")
async def get_webhook_message(request: web.Request) -> web.Response:
    world = world_of(request)
    inter = _interaction(world, request)
    msg = responses.webhook_message(inter, request.match_info["message_id"])
    return json_response(serialize.message_json(world, msg))


@routes.patch(f"{WEBHOOK}/messages/{{message_id}}")
async def edit_webhook_message(request: web.Request) -> web.Response:
    world = world_of(request)
    inter = _interaction(world, request)
    draft = await read_draft(request)
    if request.match_info["message_id"] == "@original":
        msg = responses.edit_original(world, inter, draft)
    else:
        msg = messaging.edit(world, responses.webhook_message(inter, request.match_info["message_id"]), draft)
    return json_response(serialize.message_json(world, msg))


@routes.delete(f"{WEBHOOK}/messages/{{message_id}}")
async def delete_webhook_message(request: web.Request) -> web.Response:
    world = world_of(request)
    inter = _interaction(world, request)
    messaging.delete(world, responses.webhook_message(inter, request.match_info["message_id"]))
    return no_content()
