"""The twin's HTTP application: strict middleware (auth, unknown routes, injected 429s and faults,
error bodies)
and the request helpers every REST area uses.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import logging
import math
import traceback
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from .errors import ApiError, RequestRecord, UnexpectedRequest, Violation
from .faults import ConnectionDropped, RestFaults, drop_connection
from .messaging import Draft
from .model import JSON, Upload
from .rate_limits import RateLimits
from .snowflake import parse_id
from .world import World

log = logging.getLogger(__name__)
API = "/api/v10"
WORLD = web.AppKey("world", World)
_NO_AUTH = (f"{API}/webhooks/", f"{API}/interactions/")


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON with Content-Type exactly `application/json`: discord.py treats anything else as text."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(status=status, body=json.dumps(data).encode(), headers=all_headers)


def no_content() -> web.Response:
    return web.Response(status=204)


def world_of(request: web.Request) -> World:
    return request.app[WORLD]


def path_id(request: web.Request, name: str, kind: str = "Channel") -> int:
    value = parse_id(request.match_info[name])
    if value is None:
        raise ApiError(404, 0, f"Unknown {kind}")
    return value


async def read_json(request: web.Request) -> Any:
    if not request.can_read_body:
        return {}
    if request.content_type != "application/json":
        raise ApiError(400, 50109, f"Expected application/json, got {request.content_type}", kind="protocol")
    try:
        return json.loads(await request.text())
    except ValueError:
        raise ApiError(400, 50109, "The request body contains invalid JSON.", kind="protocol") from None


async def read_draft(request: web.Request) -> Draft:
    """A message body: JSON, or multipart with `payload_json` and `files[n]` parts."""
    if request.content_type != "multipart/form-data":
        body = await read_json(request)
        if not isinstance(body, dict):
            raise ApiError(400, 50109, "Expected a JSON object", kind="protocol")
        return Draft(fields=body)
    fields: JSON = {}
    uploads: list[Upload] = []
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader):
            raise ApiError(400, 50035, "Nested multipart is not supported", kind="protocol")
        name = part.name or ""
        if name == "payload_json":
            fields = json.loads(await part.text())
        elif name.startswith("files[") and name.endswith("]"):
            data = bytes(await part.read())
            filename = part.filename or name
            ctype = part.headers.get("Content-Type")
            uploads.append(Upload(int(name[6:-1]), filename, data, ctype))
        else:
            raise ApiError(400, 50035, f"Unknown multipart field {name!r}", kind="protocol")
    return Draft(fields=fields, uploads=uploads)


@dataclass
class _RateLimitRule:
    pattern: str
    remaining: int
    retry_after: float
    is_global: bool


class RateLimitInjector:
    """Answers matching requests with 429s shaped so discord.py waits and retries."""

    def __init__(self) -> None:
        self.rules: list[_RateLimitRule] = []
        self.hits: list[str] = []

    def add(self, pattern: str, count: int, retry_after: float, is_global: bool) -> None:
        self.rules.append(_RateLimitRule(pattern, count, retry_after, is_global))

    def check(self, method: str, api_path: str) -> web.Response | None:
        target = f"{method} {api_path}"
        for rule in self.rules:
            if rule.remaining > 0 and fnmatch.fnmatchcase(target, rule.pattern):
                rule.remaining -= 1
                self.hits.append(target)
                body = {
                    "message": "You are being rate limited.",
                    "retry_after": rule.retry_after,
                    "global": rule.is_global,
                    "code": 0,
                }
                headers = {
                    "Via": "1.1 google",
                    "Retry-After": str(max(1, round(rule.retry_after))),
                    "X-RateLimit-Scope": "global" if rule.is_global else "user",
                }
                return json_response(body, 429, headers)
        return None


LIMITER = web.AppKey("limiter", RateLimitInjector)
FAULTS = web.AppKey("faults", RestFaults)


@dataclass
class ResponseDelays:
    """Late answers for matching requests: the twin applies the request at once (its events go
    out), only the response waits, like a slow network between the bot and Discord."""

    rules: list[tuple[str, float]] = field(default_factory=list)
    holds: list[tuple[str, asyncio.Event]] = field(default_factory=list)
    answer_holds: list[tuple[str, asyncio.Event]] = field(default_factory=list)

    async def held(self, method: str, api_path: str) -> None:
        """Wait while a hold matches the request (it is applied only when released)."""
        target = f"{method} {api_path}"
        for pattern, released in self.holds:
            if fnmatch.fnmatchcase(target, pattern):
                await released.wait()

    async def answer_held(self, method: str, api_path: str) -> None:
        """Wait while an answer hold matches the request (applied already, answered when released)."""
        target = f"{method} {api_path}"
        for pattern, released in self.answer_holds:
            if fnmatch.fnmatchcase(target, pattern):
                await released.wait()

    def seconds(self, method: str, api_path: str) -> float:
        target = f"{method} {api_path}"
        matching = (delay for pattern, delay in self.rules if fnmatch.fnmatchcase(target, pattern))
        return max(matching, default=0.0)


DELAYS = web.AppKey("delays", ResponseDelays)
DISCORD_LIMITS = web.AppKey("discord_limits", RateLimits)


def _discord_limits(request: web.Request, api_path: str) -> tuple[dict[str, str], web.Response | None]:
    """Discord's own limits, when the twin models them: the headers for the response, or a 429."""
    limits = request.app.get(DISCORD_LIMITS)
    if limits is None:
        return {}, None
    headers, retry_after, is_global = limits.check(request.method, api_path)
    if retry_after is None:
        return headers, None
    body = {"message": "You are being rate limited.", "retry_after": round(retry_after, 3)}
    body["global"] = is_global
    extra = {"Via": "1.1 google", "Retry-After": str(max(1, math.ceil(retry_after)))}
    extra["X-RateLimit-Scope"] = "global" if is_global else "user"
    if is_global:
        extra["X-RateLimit-Global"] = "true"
    return {}, json_response({**body, "code": 0}, 429, {**headers, **extra})


def _check_auth(request: web.Request, world: World) -> web.Response | None:
    path = request.path
    if not path.startswith(API + "/") or path.startswith(_NO_AUTH):
        return None
    if request.headers.get("Authorization") != f"Bot {world.token}":
        return json_response({"message": "401: Unauthorized", "code": 0}, 401)
    return None


def _error_response(request: web.Request, world: World, err: ApiError) -> web.Response:
    if err.kind != "resource":
        violation = Violation(
            request.method,
            request.path,
            err.status,
            err.code,
            err.message,
            [f[0] for f in err.fields],
            err.kind,
        )
        log.warning("Discord twin refused: %s", violation)
        world.violations.append(violation)
        world.changes.notify()
    return json_response(err.body(), err.status)


@web.middleware
async def strict_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    world = request.app[WORLD]
    if request.match_info.http_exception is not None:
        reason = f"no such route in the twin ({request.match_info.http_exception.status})"
        log.error("Discord twin: unexpected request %s %s", request.method, request.path)
        world.unexpected.append(UnexpectedRequest(request.method, request.path, reason))
        world.changes.notify()
        return json_response({"message": "404: Not Found", "code": 0}, 404)
    try:
        response = await _faulty(request, handler, world)
    except ConnectionDropped:
        response = drop_connection(request)
    world.requests.append(RequestRecord(request.method, request.path, response.status))
    return response


async def _faulty(request: web.Request, handler: Any, world: World) -> web.StreamResponse:
    early = _check_auth(request, world)
    if early is not None:
        return early
    if not request.path.startswith(API):
        failed = request.app[FAULTS].download_status(request.path)
        if failed is not None:
            return web.Response(status=failed, text="injected CDN error")
        return await _run(request, handler, world)
    api_path = request.path[len(API) :]
    faults = request.app[FAULTS]
    status = faults.before(request.method, api_path)
    if status is not None:
        return json_response({"message": f"{status}: injected server error", "code": 0}, status)
    early = request.app[LIMITER].check(request.method, api_path)
    if early is not None:
        return early
    limit_headers, early = _discord_limits(request, api_path)
    if early is not None:
        return early
    await request.app[DELAYS].held(request.method, api_path)
    response = await _run(request, handler, world)
    response.headers.update(limit_headers)
    if response.status < 300:
        faults.after(request.method, api_path)
    if delay := request.app[DELAYS].seconds(request.method, api_path):
        await asyncio.sleep(delay)
    await request.app[DELAYS].answer_held(request.method, api_path)
    return response


async def _run(request: web.Request, handler: Any, world: World) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except ApiError as err:
        return _error_response(request, world, err)
    except web.HTTPException:
        raise
    except Exception as exc:
        # Not a 500: discord.py would retry a 500 for 25 s and hide the crash; a 400 fails fast.
        world.record_error(f"{request.method} {request.path}: {exc!r}\n{traceback.format_exc()}")
        body = {"message": f"Discord twin internal error (a twin bug, not the bot's): {exc!r}", "code": 0}
        return json_response(body, 400)


def make_app(
    world: World,
    limiter: RateLimitInjector,
    faults: RestFaults,
    delays: ResponseDelays,
    discord_limits: RateLimits | None = None,
) -> web.Application:
    # Room for several 25 MB files, so the twin can answer 413 itself like Discord.
    app = web.Application(middlewares=[strict_middleware], client_max_size=world.upload_limit * 11)
    app[WORLD] = world
    app[LIMITER] = limiter
    app[FAULTS] = faults
    app[DELAYS] = delays
    if discord_limits is not None:
        app[DISCORD_LIMITS] = discord_limits
    return app
