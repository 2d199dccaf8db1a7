"""Typed async client for the OpenCode HTTP API over one httpx.AsyncClient.

Every httpx failure is translated into the `errors` tree at this boundary. Requests are
scoped to a project with `?directory=`. The supervisor `rebind`s the client after a
restart (new port, new password); the event stream opens through `open_event_stream`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

import httpx
from httpx_sse import SSEError, aconnect_sse

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
from kimaki_tui.opencode.errors import (
    OpenCodeError,
    OpenCodeTimeout,
    OpenCodeUnavailable,
    SessionNotFound,
    error_from_response,
)
from kimaki_tui.opencode.models import Message
from kimaki_tui.opencode.pending import PendingPermission, PendingQuestion, SessionStatusInfo
from kimaki_tui.opencode.schema import ModelRef, SessionInfo, file_part, text_part

__all__ = ["JSON", "ModelRef", "OpenCodeClient", "SessionInfo", "file_part", "text_part"]

JSON = Mapping[str, Any]
PermissionReplyKind = Literal["once", "always", "reject"]
_UNSET: Any = object()


def _check_session_id(session_id: str) -> str:
    # The server answers 500 (not 404) for ids without the prefix; say what it means instead.
    if not session_id.startswith("ses"):
        raise SessionNotFound(404, "NotFoundError", f"Session not found: {session_id}")
    return session_id


def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _rows(body: Any) -> list[Any]:
    """A list answer's items (an empty list for anything else)."""
    return list(body) if isinstance(body, list) else []


class OpenCodeClient:
    def __init__(
        self,
        base_url: str,
        password: str | None = None,
        *,
        username: str = "opencode",
        timeout: float = 30.0,
    ) -> None:
        self._username = username
        self._timeout = timeout
        self._http = httpx.AsyncClient(timeout=timeout)
        self.rebind(base_url, password)

    @property
    def base_url(self) -> str:
        return str(self._http.base_url).rstrip("/")

    def rebind(self, base_url: str, password: str | None) -> None:
        """Point at a (re)started server: new port, new password."""
        self._http.base_url = httpx.URL(base_url)
        # A bare httpx.Auth passes requests through unchanged (no password, no auth header).
        self._http.auth = httpx.BasicAuth(self._username, password) if password else httpx.Auth()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> OpenCodeClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _request(
        self,
        method: str,
        path: str,
        *,
        directory: str | Path | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = _UNSET,
        timeout: Any = _UNSET,
    ) -> Any:
        query = _drop_none(params or {})
        if directory is not None:
            query["directory"] = str(directory)
        kwargs: dict[str, Any] = {"params": query}
        if json is not _UNSET:
            kwargs["json"] = json
        if timeout is not _UNSET:
            kwargs["timeout"] = timeout
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise OpenCodeTimeout(f"{method} {path} timed out") from exc
        except httpx.TransportError as exc:
            raise OpenCodeUnavailable(f"OpenCode is unreachable at {self.base_url}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise OpenCodeError(f"{method} {path} failed: {exc}") from exc
        return self._decode(response, path)

    @staticmethod
    def _decode(response: httpx.Response, path: str) -> Any:
        body: Any
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = response.text
        if response.status_code >= 400:
            raise error_from_response(response.status_code, body, path)
        return body

    @asynccontextmanager
    async def open_event_stream(self, path: str = "/global/event") -> AsyncIterator[AsyncIterator[str]]:
        """One SSE connection (no read timeout); yields an iterator of each event's data string."""
        timeout = httpx.Timeout(self._timeout, read=None)
        try:
            async with aconnect_sse(self._http, "GET", path, timeout=timeout) as source:
                if source.response.status_code >= 400:
                    await source.response.aread()
                    self._decode(source.response, path)  # raises the typed error

                async def data() -> AsyncIterator[str]:
                    async for sse in source.aiter_sse():
                        yield sse.data

                yield data()
        except httpx.TimeoutException as exc:
            raise OpenCodeTimeout(f"event stream {path} timed out") from exc
        except httpx.TransportError as exc:
            raise OpenCodeUnavailable(f"event stream {path} lost: {exc}") from exc
        except (httpx.HTTPError, SSEError) as exc:
            raise OpenCodeError(f"event stream {path} failed: {exc}") from exc

    # -- server ---------------------------------------------------------------------------

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
        return [Project.from_json(row) for row in _rows(await self._request("GET", "/project"))]

    async def agents(self, directory: str | Path) -> list[Agent]:
        rows = _rows(await self._request("GET", "/agent", directory=directory))
        return [Agent.from_json(row) for row in rows]

    async def commands(self, directory: str | Path) -> list[Command]:
        rows = _rows(await self._request("GET", "/command", directory=directory))
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
        body = _drop_none({"method": method, "code": code})
        return bool(await self._request("POST", path, directory=directory, json=body, timeout=None))

    async def vcs(self, directory: str | Path) -> VcsInfo:
        return VcsInfo.from_json(await self._request("GET", "/vcs", directory=directory))

    # -- sessions -------------------------------------------------------------------------

    async def create_session(
        self,
        directory: str | Path,
        *,
        title: str | None = None,
        permission: Sequence[JSON] | None = None,
        agent: str | None = None,
        parent_id: str | None = None,
    ) -> SessionInfo:
        body = _drop_none({"title": title, "permission": permission, "agent": agent, "parentID": parent_id})
        return SessionInfo.from_json(await self._request("POST", "/session", directory=directory, json=body))

    async def get_session(self, session_id: str, directory: str | Path | None = None) -> SessionInfo:
        path = f"/session/{_check_session_id(session_id)}"
        return SessionInfo.from_json(await self._request("GET", path, directory=directory))

    async def list_sessions(
        self,
        directory: str | Path,
        *,
        limit: int | None = None,
        search: str | None = None,
        roots: bool = True,
    ) -> list[SessionInfo]:
        params = {"limit": limit, "search": search, "roots": "true" if roots else None}
        rows = await self._request("GET", "/session", directory=directory, params=params)
        return [SessionInfo.from_json(row) for row in rows]

    async def delete_session(self, session_id: str, directory: str | Path | None = None) -> bool:
        path = f"/session/{_check_session_id(session_id)}"
        return bool(await self._request("DELETE", path, directory=directory))

    async def update_session(
        self,
        session_id: str,
        directory: str | Path | None = None,
        *,
        title: str | None = None,
        permission: Sequence[JSON] | None = None,
    ) -> SessionInfo:
        path = f"/session/{_check_session_id(session_id)}"
        body = _drop_none({"title": title, "permission": permission})
        return SessionInfo.from_json(await self._request("PATCH", path, directory=directory, json=body))

    async def session_status(self, directory: str | Path | None = None) -> dict[str, SessionStatusInfo]:
        """Non-idle sessions of one directory only: {session_id: status (busy or retry)}."""
        body = await self._request("GET", "/session/status", directory=directory)
        statuses = body if isinstance(body, Mapping) else {}
        return {str(sid): SessionStatusInfo.from_json(status) for sid, status in statuses.items()}

    async def messages(
        self, session_id: str, directory: str | Path | None = None, *, limit: int | None = None
    ) -> list[Message]:
        path = f"/session/{_check_session_id(session_id)}/message"
        rows = _rows(await self._request("GET", path, directory=directory, params={"limit": limit}))
        return [Message.from_json(row) for row in rows]

    async def raw_messages(self, session_id: str, directory: str | Path | None = None) -> list[Any]:
        """The messages (`{info, parts}`) exactly as OpenCode sent them: for exporting them."""
        path = f"/session/{_check_session_id(session_id)}/message"
        return _rows(await self._request("GET", path, directory=directory))

    # -- prompting ------------------------------------------------------------------------

    @staticmethod
    def _prompt_body(
        parts: Sequence[JSON],
        agent: str | None,
        model: ModelRef | None,
        system: str | None,
        no_reply: bool,
        message_id: str | None,
        variant: str | None = None,
        tools: Mapping[str, bool] | None = None,
    ) -> dict[str, Any]:
        return _drop_none(
            {
                "tools": dict(tools) if tools is not None else None,
                "parts": list(parts),
                "agent": agent,
                "model": model.to_json() if model else None,
                "variant": variant,
                "system": system,
                "noReply": True if no_reply else None,
                "messageID": message_id,
            }
        )

    async def prompt_async(
        self,
        session_id: str,
        directory: str | Path | None,
        parts: Sequence[JSON],
        *,
        agent: str | None = None,
        model: ModelRef | None = None,
        system: str | None = None,
        no_reply: bool = False,
        message_id: str | None = None,
        variant: str | None = None,
    ) -> None:
        """Queue a prompt and return at once (204); progress arrives on the event stream.
        `variant` names the model's thinking level (OpenCode ignores one the model lacks)."""
        path = f"/session/{_check_session_id(session_id)}/prompt_async"
        body = self._prompt_body(parts, agent, model, system, no_reply, message_id, variant)
        await self._request("POST", path, directory=directory, json=body)

    async def prompt(
        self,
        session_id: str,
        directory: str | Path | None,
        parts: Sequence[JSON],
        *,
        agent: str | None = None,
        model: ModelRef | None = None,
        system: str | None = None,
        no_reply: bool = False,
        message_id: str | None = None,
        timeout: float | None = None,
        variant: str | None = None,
        tools: Mapping[str, bool] | None = None,
    ) -> Message:
        """Prompt and wait for the whole agent loop (permission waits included): the last answer.
        `tools` turns tools on or off by name (`{"*": False}`: none)."""
        path = f"/session/{_check_session_id(session_id)}/message"
        body = self._prompt_body(parts, agent, model, system, no_reply, message_id, variant, tools)
        return Message.from_json(
            await self._request("POST", path, directory=directory, json=body, timeout=timeout)
        )

    async def abort(self, session_id: str, directory: str | Path | None = None) -> bool:
        path = f"/session/{_check_session_id(session_id)}/abort"
        return bool(await self._request("POST", path, directory=directory))

    async def command(
        self,
        session_id: str,
        directory: str | Path | None,
        command: str,
        arguments: str = "",
        *,
        agent: str | None = None,
        model: ModelRef | str | None = None,
        timeout: float | None = None,
        variant: str | None = None,
    ) -> Message:
        """Run a slash command (`init`, `review`, custom ones) and wait for its reply."""
        path = f"/session/{_check_session_id(session_id)}/command"
        # This route takes the model as one "provider/model" string, unlike prompts.
        model_name = str(model) if model else None
        body = _drop_none(
            {
                "command": command,
                "arguments": arguments,
                "agent": agent,
                "model": model_name,
                "variant": variant,
            }
        )
        return Message.from_json(
            await self._request("POST", path, directory=directory, json=body, timeout=timeout)
        )

    async def shell(
        self, session_id: str, directory: str | Path | None, command: str, agent: str = "build"
    ) -> Message:
        """Run a shell command in the session without the model; returns the assistant message."""
        path = f"/session/{_check_session_id(session_id)}/shell"
        body = {"agent": agent, "command": command}
        return Message.from_json(
            await self._request("POST", path, directory=directory, json=body, timeout=None)
        )

    async def summarize(
        self, session_id: str, directory: str | Path | None, provider_id: str, model_id: str
    ) -> bool:
        path = f"/session/{_check_session_id(session_id)}/summarize"
        body = {"providerID": provider_id, "modelID": model_id}
        return bool(await self._request("POST", path, directory=directory, json=body, timeout=None))

    # -- history --------------------------------------------------------------------------

    async def fork(
        self, session_id: str, directory: str | Path | None, message_id: str | None = None
    ) -> SessionInfo:
        """A copy of the session with the messages strictly before `message_id` (all if None)."""
        path = f"/session/{_check_session_id(session_id)}/fork"
        body = _drop_none({"messageID": message_id})
        return SessionInfo.from_json(await self._request("POST", path, directory=directory, json=body))

    async def move_session(self, session_id: str, directory: str | Path) -> None:
        """Move a session to another directory of its project (e.g. a git worktree): its next turns
        run there. OpenCode's experimental control plane (1.18); local changes stay where they are."""
        body = {
            "sessionID": _check_session_id(session_id),
            "destination": {"directory": str(directory)},
            "moveChanges": False,
        }
        await self._request("POST", "/experimental/control-plane/move-session", json=body)

    async def revert(
        self, session_id: str, directory: str | Path | None, message_id: str, part_id: str | None = None
    ) -> SessionInfo:
        path = f"/session/{_check_session_id(session_id)}/revert"
        body = _drop_none({"messageID": message_id, "partID": part_id})
        return SessionInfo.from_json(await self._request("POST", path, directory=directory, json=body))

    async def unrevert(self, session_id: str, directory: str | Path | None) -> SessionInfo:
        path = f"/session/{_check_session_id(session_id)}/unrevert"
        return SessionInfo.from_json(await self._request("POST", path, directory=directory))

    async def share(self, session_id: str, directory: str | Path | None = None) -> SessionInfo:
        path = f"/session/{_check_session_id(session_id)}/share"
        return SessionInfo.from_json(await self._request("POST", path, directory=directory))

    async def unshare(self, session_id: str, directory: str | Path | None = None) -> SessionInfo:
        path = f"/session/{_check_session_id(session_id)}/share"
        return SessionInfo.from_json(await self._request("DELETE", path, directory=directory))

    # -- permissions and questions --------------------------------------------------------

    async def list_permissions(self, directory: str | Path | None = None) -> list[PendingPermission]:
        """Pending permission requests of ONE project directory (None = the server's cwd)."""
        rows = _rows(await self._request("GET", "/permission", directory=directory))
        return [PendingPermission.from_json(row) for row in rows]

    async def reply_permission(
        self,
        request_id: str,
        reply: PermissionReplyKind,
        *,
        message: str | None = None,
        directory: str | Path | None = None,
    ) -> bool:
        """Answer a permission request. Pass the session's `directory`: the server looks the
        request up per project and answers 404 without it. A `message` with "reject" lets
        the model continue with that feedback; a bare reject ends the turn."""
        body = _drop_none({"reply": reply, "message": message})
        path = f"/permission/{request_id}/reply"
        return bool(await self._request("POST", path, directory=directory, json=body))

    async def list_questions(self, directory: str | Path | None = None) -> list[PendingQuestion]:
        """Pending questions of ONE project directory (None = the server's cwd)."""
        rows = _rows(await self._request("GET", "/question", directory=directory))
        return [PendingQuestion.from_json(row) for row in rows]

    async def reply_question(
        self, request_id: str, answers: Sequence[Sequence[str]], directory: str | Path | None = None
    ) -> bool:
        """`answers` holds one list of chosen labels per question, in order. Pass `directory`."""
        body = {"answers": [list(group) for group in answers]}
        path = f"/question/{request_id}/reply"
        return bool(await self._request("POST", path, directory=directory, json=body))

    async def reject_question(self, request_id: str, directory: str | Path | None = None) -> bool:
        return bool(await self._request("POST", f"/question/{request_id}/reject", directory=directory))

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
