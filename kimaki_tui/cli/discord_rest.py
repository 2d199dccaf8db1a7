"""Discord REST for the CLI and the task scheduler: read a channel, post a message (with files), post a
marked starter message. Only a bot token is needed (no gateway), so `kimaki send` works in CI.

`KIMAKI_DISCORD_API_URL` points it at another Discord (the twin in tests), like the bot. Errors
are `DiscordApiError`s carrying Discord's message, never the token.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from kimaki_tui.setup.discord_api import USER_AGENT, DiscordApiError, api_url_from

if TYPE_CHECKING:
    import httpx

    from kimaki_tui.scheduling.request import PostedStarter, SendRequest
    from kimaki_tui.scheduling.scheduler import TaskScheduler

JSON = dict[str, Any]
THREAD_TYPES = frozenset({10, 11, 12})  # announcement, public and private threads
MAX_FILES = 10
MAX_FILE_SIZE = 25 * 1024 * 1024
_RATE_LIMIT_WAIT = 10.0


class DiscordRest:
    """A bot-token REST client; `async with DiscordRest(token) as rest:`."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        env: Mapping[str, str] = os.environ,
        timeout: float = 30.0,
    ) -> None:
        import httpx

        self.base_url = (base_url or api_url_from(env)).rstrip("/")
        self._http = httpx.AsyncClient(
            timeout=timeout, headers={"Authorization": f"Bot {token}", "User-Agent": USER_AGENT}
        )

    async def __aenter__(self) -> DiscordRest:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._http.aclose()

    async def channel(self, channel_id: str) -> JSON:
        result: JSON = await self._request("GET", f"/channels/{channel_id}")
        return result

    async def guilds(self) -> list[JSON]:
        return list(await self._request("GET", "/users/@me/guilds"))

    async def send_message(
        self, channel_id: str, payload: JSON, files: Sequence[tuple[str, bytes]] = ()
    ) -> JSON:
        """Post a message; with files, one multipart request (Discord shows them together)."""
        path = f"/channels/{channel_id}/messages"
        if not files:
            result: JSON = await self._request("POST", path, json=payload)
            return result
        parts = [
            (f"files[{i}]", (name, data, "application/octet-stream")) for i, (name, data) in enumerate(files)
        ]
        result = await self._request("POST", path, data={"payload_json": json.dumps(payload)}, files=parts)
        return result

    async def add_thread_member(self, thread_id: str, user_id: str) -> None:
        await self._request("PUT", f"/channels/{thread_id}/thread-members/{user_id}")

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        for _attempt in range(3):
            try:
                response = await self._http.request(method, self.base_url + path, **kwargs)
            except httpx.HTTPError as exc:
                raise DiscordApiError(
                    f"cannot reach Discord at {self.base_url} ({type(exc).__name__})"
                ) from None
            if response.status_code == 429:
                await asyncio.sleep(min(_retry_after(response), _RATE_LIMIT_WAIT))
                continue
            return _decode(response, method, path)
        raise DiscordApiError(f"Discord kept rate-limiting {method} {path}", 429)


def _retry_after(response: httpx.Response) -> float:
    try:
        return float(response.json().get("retry_after", 1.0))
    except (ValueError, AttributeError):
        return 1.0


def _decode(response: httpx.Response, method: str, path: str) -> Any:
    try:
        data = response.json() if response.content else None
    except ValueError:
        data = None
    if response.is_success:
        return data
    detail = data.get("message") if isinstance(data, dict) else None
    code = data.get("code", 0) if isinstance(data, dict) else 0
    text = detail or response.reason_phrase or "error"
    raise DiscordApiError(f"{method} {path}: HTTP {response.status_code} {text}", response.status_code, code)


def message_url(guild_id: str | None, channel_id: str, message_id: str | None = None) -> str:
    tail = f"/{message_id}" if message_id else ""
    return f"https://discord.com/channels/{guild_id or '@me'}/{channel_id}{tail}"


async def post_starter(rest: DiscordRest, request: SendRequest, task_id: int | None = None) -> PostedStarter:
    """Post the marked starter message of `request` (the running bot takes it from there)."""
    from kimaki_tui.bot.cli_marker import build_starter
    from kimaki_tui.scheduling.request import PostedStarter

    starter = build_starter(request, task_id)
    message = await rest.send_message(request.target_id, starter.payload(), starter.files)
    message_id = str(message["id"])
    # A thread started from a message has the message's id.
    thread_id = message_id if request.target == "channel" else request.target_id
    guild = message.get("guild_id")
    return PostedStarter(request.target_id, message_id, thread_id, str(guild) if guild else None)


def check_upload(paths: Sequence[Path], *, limit: int = MAX_FILE_SIZE) -> list[tuple[str, bytes]]:
    """Read files for one message; ValueError names the first file that cannot go."""
    if not paths:
        raise ValueError("give at least one file")
    if len(paths) > MAX_FILES:
        raise ValueError(f"Discord takes at most {MAX_FILES} files per message, got {len(paths)}")
    for path in paths:
        if not path.is_file():
            raise ValueError(f"{path} is not a file" if path.exists() else f"{path} does not exist")
        size = path.stat().st_size
        if size > limit:
            mb = size / 1024 / 1024
            raise ValueError(f"{path} is {mb:.1f} MB; Discord takes files up to {limit // (1024 * 1024)} MB")
    return [(path.name, path.read_bytes()) for path in paths]


class StarterPoster:
    """The scheduler's "post a starter message" callable: a short-lived REST client per post."""

    def __init__(self, token: Callable[[], str | None], *, base_url: str | None = None) -> None:
        self._token = token
        self._base_url = base_url

    async def __call__(self, request: SendRequest, task_id: int) -> PostedStarter:
        token = self._token()
        if not token:
            raise DiscordApiError("no Discord bot token (set KIMAKI_BOT_TOKEN or run `kimaki setup`)")
        async with DiscordRest(token, base_url=self._base_url) as rest:
            return await post_starter(rest, request, task_id)


def build_task_scheduler(db_path: Path, token: Callable[[], str | None], **options: Any) -> TaskScheduler:
    """The running kimaki's scheduler: tasks from the database, posted over REST with the bot token."""
    from kimaki_tui.scheduling.scheduler import TaskScheduler
    from kimaki_tui.scheduling.store import TaskStore

    return TaskScheduler(TaskStore.open(db_path), StarterPoster(token), **options)
