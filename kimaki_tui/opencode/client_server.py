"""OpenCode's server-wide and project-wide routes: health, instances, projects, agents, commands,
config, providers and their credentials, the git branch, and a project's MCP servers.

One endpoint group of `OpenCodeClient` (opencode/client.py); every call goes through
`HttpTransport._request`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

from kimaki_tui.opencode import fields as f
from kimaki_tui.opencode.catalog import (
    Agent,
    AuthMethod,
    Command,
    Health,
    McpServer,
    OAuthStart,
    OpenCodeConfig,
    Project,
    ProviderCatalog,
    ProviderEntry,
    VcsInfo,
)
from kimaki_tui.opencode.client_http import JSON, HttpTransport, drop_none, items_of


class ServerCalls(HttpTransport):
    """The server, its projects' configuration and providers, and MCP servers."""

    async def health(self, *, timeout: float | None = None) -> Health:
        return Health.from_json(
            await self._request("GET", "/global/health", timeout=timeout or self._timeout)
        )

    async def dispose_instance(self, directory: str | Path) -> bool:
        """Drop OpenCode's in-memory instance of one project (watchers included); its sessions stay
        on disk and the next request for the directory starts a fresh instance."""
        return bool(await self._request("POST", "/instance/dispose", directory=directory))

    async def dispose_all_instances(self) -> bool:
        """Drop every project instance (`POST /global/dispose`); the server keeps running."""
        return bool(await self._request("POST", "/global/dispose"))

    async def projects(self) -> list[Project]:
        return [Project.from_json(row) for row in items_of(await self._request("GET", "/project"))]

    async def agents(self, directory: str | Path) -> list[Agent]:
        rows = items_of(await self._request("GET", "/agent", directory=directory))
        return [Agent.from_json(row) for row in rows]

    async def commands(self, directory: str | Path) -> list[Command]:
        rows = items_of(await self._request("GET", "/command", directory=directory))
        return [Command.from_json(row) for row in rows]

    async def config(self, directory: str | Path) -> OpenCodeConfig:
        return OpenCodeConfig.from_json(await self._request("GET", "/config", directory=directory))

    async def providers(self, directory: str | Path) -> ProviderCatalog:
        """Connected providers with their models, and the default model per provider."""
        return ProviderCatalog.from_json(await self._request("GET", "/config/providers", directory=directory))

    async def all_providers(self, directory: str | Path) -> list[ProviderEntry]:
        """Every provider OpenCode knows (huge unless the config limits `enabled_providers`)."""
        body = f.as_json(await self._request("GET", "/provider", directory=directory))
        connected = set(f.strings(body, "connected"))
        rows = f.objects(body, "all")
        return [
            ProviderEntry(id=f.text(r, "id"), name=f.text(r, "name"), connected=f.text(r, "id") in connected)
            for r in rows
        ]

    async def auth_methods(self, directory: str | Path) -> dict[str, list[AuthMethod]]:
        """{provider id: its login methods} for the providers that offer more than a plain key."""
        body = f.as_json(await self._request("GET", "/provider/auth", directory=directory))
        return {
            str(provider): [AuthMethod.from_json(m) for m in methods if isinstance(m, Mapping)]
            for provider, methods in body.items()
            if isinstance(methods, list)
        }

    async def set_api_key(self, provider_id: str, key: str) -> bool:
        """Store an API key for a provider in OpenCode's own credentials (`PUT /auth/{id}`)."""
        path = f"/auth/{quote(provider_id, safe='')}"
        return bool(await self._request("PUT", path, json={"type": "api", "key": key}))

    async def oauth_authorize(self, provider_id: str, method: int, directory: str | Path) -> OAuthStart:
        path = f"/provider/{quote(provider_id, safe='')}/oauth/authorize"
        body = {"method": method}
        return OAuthStart.from_json(
            await self._request("POST", path, directory=directory, json=body, timeout=None)
        )

    async def oauth_callback(
        self, provider_id: str, method: int, directory: str | Path, code: str | None = None
    ) -> bool:
        """Finish an OAuth login (with the pasted `code` for the "code" flow); for the "auto" flow
        OpenCode answers once the browser came back."""
        path = f"/provider/{quote(provider_id, safe='')}/oauth/callback"
        body = drop_none({"method": method, "code": code})
        return bool(await self._request("POST", path, directory=directory, json=body, timeout=None))

    async def vcs(self, directory: str | Path) -> VcsInfo:
        return VcsInfo.from_json(await self._request("GET", "/vcs", directory=directory))

    # -- MCP servers ----------------------------------------------------------------------

    async def mcp_status(self, directory: str | Path | None = None) -> dict[str, str]:
        """{server name: "connected" | "disabled" | "failed" | "needs_auth"...} of one project."""
        body = await self._request("GET", "/mcp", directory=directory)
        servers = body if isinstance(body, Mapping) else {}
        return {
            str(name): str(state.get("status", "")) if isinstance(state, Mapping) else ""
            for name, state in servers.items()
        }

    async def mcp_servers(self, directory: str | Path) -> list[McpServer]:
        """The project's MCP servers with their status, by name."""
        body = await self._request("GET", "/mcp", directory=directory)
        servers = body if isinstance(body, Mapping) else {}
        return sorted(
            (McpServer.from_json(str(n), state) for n, state in servers.items()), key=lambda m: m.name
        )

    async def connect_mcp(self, name: str, directory: str | Path) -> bool:
        return bool(await self._request("POST", f"/mcp/{quote(name, safe='')}/connect", directory=directory))

    async def disconnect_mcp(self, name: str, directory: str | Path) -> bool:
        return bool(
            await self._request("POST", f"/mcp/{quote(name, safe='')}/disconnect", directory=directory)
        )

    async def add_mcp_server(self, name: str, config: JSON, directory: str | Path | None = None) -> None:
        """Connect an MCP server to one project's instance until OpenCode restarts (`POST /mcp`)."""
        await self._request("POST", "/mcp", directory=directory, json={"name": name, "config": dict(config)})
