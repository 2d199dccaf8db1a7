"""Discord's REST API over httpx, for the parts that run without the bot's gateway connection: the
setup wizard and the CLI (`kimaki send`, `upload-to-discord`, `project add`). Only a bot token
is needed, so they work in CI. It never imports discord.py.

`base_url` (the `discord.api_url` setting, KIMAKI_DISCORD_API_URL) points it at another Discord
(the twin in tests), like the bot. A 429 is
waited out (briefly) and retried; every failure is a `DiscordApiError` carrying Discord's message
and a hint for the user, never the token.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self

from kimaki_tui import __version__
from kimaki_tui.errors import KimakiError

if TYPE_CHECKING:
    import httpx

JSON = dict[str, Any]
DEFAULT_API_URL: Final = "https://discord.com/api/v10"
USER_AGENT: Final = f"DiscordBot (https://github.com/kimaki-tui, {__version__})"
GUILD_TEXT, GUILD_CATEGORY = 0, 4
THREAD_TYPES: Final = frozenset({10, 11, 12})  # announcement, public and private threads
ATTEMPTS = 3
MAX_RATE_LIMIT_WAIT = 10.0

_HINTS: Final = {
    0: "Check the network connection (and KIMAKI_DISCORD_API_URL, if it is set).",
    401: "Discord rejected the bot token: copy a fresh one from the Developer Portal (Bot → Reset "
    "Token) and set KIMAKI_BOT_TOKEN, or run `kimaki setup`.",
    403: "The bot lacks a permission there (View Channel, Send Messages, Manage Channels…): check "
    "its role in the server.",
    404: "Check the id: the channel, thread or server does not exist, or the bot cannot see it.",
    429: "Discord is rate-limiting the bot; try again in a minute.",
}


class DiscordApiError(KimakiError):
    """Discord answered with an error (or not at all). `status` 0 means it was not reached;
    `code` is Discord's JSON error code; `hint` says what the user can do about it."""

    def __init__(self, message: str, status: int = 0, code: int = 0, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code = status, code
        default = "Discord had a problem; try again later." if status >= 500 else _HINTS.get(status, "")
        self.hint = default if hint is None else hint


def message_url(guild_id: str | None, channel_id: str, message_id: str | None = None) -> str:
    tail = f"/{message_id}" if message_id else ""
    return f"https://discord.com/channels/{guild_id or '@me'}/{channel_id}{tail}"


class DiscordRest:
    """A bot-token REST client: `async with DiscordRest(token) as rest:`.

    The setup wizard makes one without a token and speaks through `with_token(pasted)`, which
    shares the connection pool; only the client that made the pool closes it.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        import httpx

        self.base_url = (base_url or DEFAULT_API_URL).rstrip("/")
        self._token = token
        self._http = httpx.AsyncClient(
            timeout=timeout, transport=transport, headers={"User-Agent": USER_AGENT}
        )
        self._owns_http = True

    def with_token(self, token: str) -> DiscordRest:
        """The same client speaking with another bot token."""
        other = copy.copy(self)
        other._token, other._owns_http = token, False
        return other

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- the bot and its servers ----------------------------------------------------------------

    async def me(self) -> JSON:
        """The bot user; a rejected token raises DiscordApiError with status 401."""
        result: JSON = await self._request("GET", "/users/@me")
        return result

    async def application(self) -> JSON:
        result: JSON = await self._request("GET", "/oauth2/applications/@me")
        return result

    async def guilds(self) -> list[JSON]:
        """The guilds the bot has joined (partial guild objects)."""
        return list(await self._request("GET", "/users/@me/guilds"))

    async def guild_channels(self, guild_id: str) -> list[JSON]:
        return list(await self._request("GET", f"/guilds/{guild_id}/channels"))

    async def create_channel(self, guild_id: str, body: JSON, reason: str | None = None) -> JSON:
        headers = {"X-Audit-Log-Reason": reason} if reason else None
        result: JSON = await self._request("POST", f"/guilds/{guild_id}/channels", json=body, headers=headers)
        return result

    # -- channels and messages ------------------------------------------------------------------

    async def channel(self, channel_id: str) -> JSON:
        result: JSON = await self._request("GET", f"/channels/{channel_id}")
        return result

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

    async def edit_channel(self, channel_id: str, body: JSON) -> JSON:
        """Change a channel or thread (`{"archived": true}` archives a thread)."""
        result: JSON = await self._request("PATCH", f"/channels/{channel_id}", json=body)
        return result

    async def add_reaction(self, channel_id: str, message_id: str, emoji: str) -> None:
        from urllib.parse import quote

        path = f"/channels/{channel_id}/messages/{message_id}/reactions/{quote(emoji)}/@me"
        await self._request("PUT", path)

    async def add_thread_member(self, thread_id: str, user_id: str) -> None:
        await self._request("PUT", f"/channels/{thread_id}/thread-members/{user_id}")

    # -- the one request path -------------------------------------------------------------------

    async def _request(
        self, method: str, path: str, *, headers: Mapping[str, str] | None = None, **kwargs: Any
    ) -> Any:
        import httpx

        if not self._token:
            raise DiscordApiError("no Discord bot token", hint="Set KIMAKI_BOT_TOKEN or run `kimaki setup`.")
        auth = {"Authorization": f"Bot {self._token}", **(headers or {})}
        for _attempt in range(ATTEMPTS):
            try:
                response = await self._http.request(method, self.base_url + path, headers=auth, **kwargs)
            except httpx.HTTPError as exc:
                # The exception text may name the URL; say which host, never the headers.
                raise DiscordApiError(
                    f"cannot reach Discord at {self.base_url} ({type(exc).__name__})"
                ) from None
            if response.status_code == 429:
                await asyncio.sleep(min(_retry_after(response), MAX_RATE_LIMIT_WAIT))
                continue
            return _decode(response, method, path)
        raise DiscordApiError(f"Discord kept rate-limiting {method} {path}", 429)


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.json().get("retry_after", 1.0)))
    except (ValueError, TypeError, AttributeError):
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
