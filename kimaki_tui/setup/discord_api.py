"""The few Discord REST calls the setup wizard makes before any bot runs, over httpx.

`KIMAKI_DISCORD_API_URL` points them at another Discord (the twin in tests), like the bot.
Errors carry Discord's message and status, never the token.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kimaki_tui import __version__

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

API_URL_ENV = "KIMAKI_DISCORD_API_URL"  # the same variable kimaki_tui.bot.discord_env honours
DEFAULT_API_URL = "https://discord.com/api/v10"
USER_AGENT = f"DiscordBot (https://github.com/kimaki-tui, {__version__})"
_MAX_RATE_LIMIT_WAIT = 10.0
JSON = dict[str, Any]


class DiscordApiError(Exception):
    """Discord answered with an error (or not at all). `status` 0 means it was not reached."""

    def __init__(self, message: str, status: int = 0, code: int = 0) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def api_url_from(env: Mapping[str, str]) -> str:
    return (env.get(API_URL_ENV, "").strip() or DEFAULT_API_URL).rstrip("/")


class DiscordSetupApi:
    """Stateless about the token: every call takes it, so this object never holds a secret."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        env: Mapping[str, str] = os.environ,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = (base_url or api_url_from(env)).rstrip("/")
        self._timeout = timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def me(self, token: str) -> JSON:
        """The bot user; a rejected token raises DiscordApiError with status 401."""
        result: JSON = await self._request("GET", "/users/@me", token)
        return result

    async def application(self, token: str) -> JSON:
        result: JSON = await self._request("GET", "/oauth2/applications/@me", token)
        return result

    async def guilds(self, token: str) -> list[JSON]:
        """The guilds the bot has joined (partial guild objects)."""
        return list(await self._request("GET", "/users/@me/guilds", token))

    async def guild_channels(self, token: str, guild_id: str) -> list[JSON]:
        return list(await self._request("GET", f"/guilds/{guild_id}/channels", token))

    async def create_channel(self, token: str, guild_id: str, body: JSON, reason: str | None = None) -> JSON:
        headers = {"X-Audit-Log-Reason": reason} if reason else None
        result: JSON = await self._request("POST", f"/guilds/{guild_id}/channels", token, body, headers)
        return result

    async def _request(
        self,
        method: str,
        path: str,
        token: str,
        body: JSON | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Any:
        import httpx

        client = self._http()
        headers = {"Authorization": f"Bot {token}", **(extra_headers or {})}
        for _attempt in range(3):
            try:
                response = await client.request(method, self.base_url + path, json=body, headers=headers)
            except httpx.HTTPError as exc:
                # The exception text names the URL at most; say which host, never the headers.
                reason = type(exc).__name__
                raise DiscordApiError(f"cannot reach Discord at {self.base_url} ({reason})") from None
            if response.status_code == 429:
                await asyncio.sleep(min(_retry_after(response), _MAX_RATE_LIMIT_WAIT))
                continue
            return _decode(response, method, path)
        raise DiscordApiError(f"Discord kept rate-limiting {method} {path}", 429)

    def _http(self) -> httpx.AsyncClient:
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._timeout, transport=self._transport, headers={"User-Agent": USER_AGENT}
            )
        return self._client


def _retry_after(response: httpx.Response) -> float:
    try:
        return float(response.json().get("retry_after", 1.0))
    except (ValueError, AttributeError):
        return 1.0


def _decode(response: httpx.Response, method: str, path: str) -> Any:
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.is_success:
        return data
    detail = data.get("message") if isinstance(data, dict) else None
    code = data.get("code", 0) if isinstance(data, dict) else 0
    text = detail or response.reason_phrase or "error"
    raise DiscordApiError(f"{method} {path}: HTTP {response.status_code} {text}", response.status_code, code)
