"""The twin's CDN: serves the bytes of uploaded attachments at the URLs messages carry."""

from __future__ import annotations

from aiohttp import web

from .rest_app import world_of

routes = web.RouteTableDef()


@routes.get("/attachments/{channel_id}/{attachment_id}/{filename}")
async def get_attachment(request: web.Request) -> web.Response:
    world = world_of(request)
    att_id = request.match_info["attachment_id"]
    att = world.attachments.get(int(att_id)) if att_id.isdigit() else None
    if att is None or str(att.channel_id) != request.match_info["channel_id"]:
        return web.Response(status=404, text="asset not found")
    return web.Response(body=att.data, content_type=att.content_type or "application/octet-stream")
