"""What OpenCode is connected to, managed from a front end: a project's MCP servers (status,
connect, disconnect) and AI providers' credentials (an API key, or an OAuth login), which OpenCode
stores itself. Keys pass through and are never kept or logged here."""

from __future__ import annotations

import logging

from kimaki_tui.errors import KimakiError
from kimaki_tui.opencode.catalog import AuthMethod, McpServer, OAuthStart, ProviderEntry
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.errors import OpenCodeBadRequest

log = logging.getLogger(__name__)


class LoginError(KimakiError):
    """A login cannot go on (unknown provider or method); the message is for the user as is."""


class IntegrationService:
    def __init__(self, client: OpenCodeClient) -> None:
        self._client = client

    # ---- MCP servers ------------------------------------------------------------------------------
    async def mcp_servers(self, directory: str) -> list[McpServer]:
        return await self._client.mcp_servers(directory)

    async def set_mcp_connected(self, directory: str, name: str, connected: bool) -> list[McpServer]:
        """Connect or disconnect one of the project's MCP servers; the servers afterwards."""
        if connected:
            await self._client.connect_mcp(name, directory)
        else:
            await self._client.disconnect_mcp(name, directory)
        log.info("MCP server %s %s in %s", name, "connected" if connected else "disconnected", directory)
        return await self._client.mcp_servers(directory)

    # ---- providers ----------------------------------------------------------------------------------
    async def providers(self, directory: str) -> list[ProviderEntry]:
        return await self._client.all_providers(directory)

    async def login_methods(self, directory: str, provider_id: str) -> list[AuthMethod]:
        """How one can log in to the provider: its OAuth methods (in OpenCode's order, whose index
        names them) and always an API key."""
        methods = (await self._client.auth_methods(directory)).get(provider_id, [])
        if not any(m.type == "api" for m in methods):
            methods = [*methods, AuthMethod(type="api", label="API key")]
        return methods

    async def set_api_key(self, provider_id: str, key: str) -> None:
        key = key.strip()
        if not key:
            raise LoginError("The API key is empty; nothing was saved.")
        await self._client.set_api_key(provider_id, key)
        log.info("an API key was saved for provider %s", provider_id)  # never the key itself

    async def start_oauth(self, directory: str, provider_id: str, method: int) -> OAuthStart:
        methods = (await self._client.auth_methods(directory)).get(provider_id, [])
        if not 0 <= method < len(methods) or methods[method].type != "oauth":
            raise LoginError(f"{provider_id} has no such login method any more; run /login again.")
        return await self._client.oauth_authorize(provider_id, method, directory)

    async def finish_oauth(self, directory: str, provider_id: str, method: int, code: str | None) -> bool:
        """True once OpenCode stored the login; False when the provider refused (a wrong code can
        be pasted again: the flow stays open)."""
        try:
            done = await self._client.oauth_callback(
                provider_id, method, directory, code.strip() if code else None
            )
        except OpenCodeBadRequest as exc:
            if exc.name != "ProviderAuthOauthCallbackFailed":
                raise
            done = False
        log.info("OAuth login to %s %s", provider_id, "finished" if done else "was refused")
        return done
