"""OpenCode's session routes: create, read, list, update and delete sessions, their status and
messages, and their history (fork, move to a worktree, revert and unrevert, share).

One endpoint group of `OpenCodeClient` (opencode/client.py); every call goes through
`HttpTransport._request`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kimaki_tui.opencode.client_http import JSON, HttpTransport, check_session_id, drop_none, items_of
from kimaki_tui.opencode.models import Message
from kimaki_tui.opencode.pending import SessionStatusInfo
from kimaki_tui.opencode.schema import SessionInfo


class SessionCalls(HttpTransport):
    """Sessions, their messages and their history."""

    async def create_session(
        self,
        directory: str | Path,
        *,
        title: str | None = None,
        permission: Sequence[JSON] | None = None,
        agent: str | None = None,
        parent_id: str | None = None,
    ) -> SessionInfo:
        body = drop_none({"title": title, "permission": permission, "agent": agent, "parentID": parent_id})
        return SessionInfo.from_json(await self._request("POST", "/session", directory=directory, json=body))

    async def get_session(self, session_id: str, directory: str | Path | None = None) -> SessionInfo:
        path = f"/session/{check_session_id(session_id)}"
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
        path = f"/session/{check_session_id(session_id)}"
        return bool(await self._request("DELETE", path, directory=directory))

    async def update_session(
        self,
        session_id: str,
        directory: str | Path | None = None,
        *,
        title: str | None = None,
        permission: Sequence[JSON] | None = None,
    ) -> SessionInfo:
        path = f"/session/{check_session_id(session_id)}"
        body = drop_none({"title": title, "permission": permission})
        return SessionInfo.from_json(await self._request("PATCH", path, directory=directory, json=body))

    async def session_status(self, directory: str | Path | None = None) -> dict[str, SessionStatusInfo]:
        """Non-idle sessions of one directory only: {session_id: status (busy or retry)}."""
        body = await self._request("GET", "/session/status", directory=directory)
        statuses = body if isinstance(body, Mapping) else {}
        return {str(sid): SessionStatusInfo.from_json(status) for sid, status in statuses.items()}

    async def messages(
        self, session_id: str, directory: str | Path | None = None, *, limit: int | None = None
    ) -> list[Message]:
        path = f"/session/{check_session_id(session_id)}/message"
        rows = items_of(await self._request("GET", path, directory=directory, params={"limit": limit}))
        return [Message.from_json(row) for row in rows]

    async def raw_messages(self, session_id: str, directory: str | Path | None = None) -> list[Any]:
        """The messages (`{info, parts}`) exactly as OpenCode sent them: for exporting them."""
        path = f"/session/{check_session_id(session_id)}/message"
        return items_of(await self._request("GET", path, directory=directory))

    async def fork(
        self, session_id: str, directory: str | Path | None, message_id: str | None = None
    ) -> SessionInfo:
        """A copy of the session with the messages strictly before `message_id` (all if None)."""
        path = f"/session/{check_session_id(session_id)}/fork"
        body = drop_none({"messageID": message_id})
        return SessionInfo.from_json(await self._request("POST", path, directory=directory, json=body))

    async def move_session(self, session_id: str, directory: str | Path) -> None:
        """Move a session to another directory of its project (e.g. a git worktree): its next turns
        run there. OpenCode's experimental control plane (1.18); local changes stay where they are."""
        body = {
            "sessionID": check_session_id(session_id),
            "destination": {"directory": str(directory)},
            "moveChanges": False,
        }
        await self._request("POST", "/experimental/control-plane/move-session", json=body)

    async def revert(
        self, session_id: str, directory: str | Path | None, message_id: str, part_id: str | None = None
    ) -> SessionInfo:
        path = f"/session/{check_session_id(session_id)}/revert"
        body = drop_none({"messageID": message_id, "partID": part_id})
        return SessionInfo.from_json(await self._request("POST", path, directory=directory, json=body))

    async def unrevert(self, session_id: str, directory: str | Path | None) -> SessionInfo:
        path = f"/session/{check_session_id(session_id)}/unrevert"
        return SessionInfo.from_json(await self._request("POST", path, directory=directory))

    async def share(self, session_id: str, directory: str | Path | None = None) -> SessionInfo:
        path = f"/session/{check_session_id(session_id)}/share"
        return SessionInfo.from_json(await self._request("POST", path, directory=directory))

    async def unshare(self, session_id: str, directory: str | Path | None = None) -> SessionInfo:
        path = f"/session/{check_session_id(session_id)}/share"
        return SessionInfo.from_json(await self._request("DELETE", path, directory=directory))
