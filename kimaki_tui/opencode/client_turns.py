"""OpenCode's routes that drive a turn: prompts (queued or awaited), slash commands, shell commands,
summarizing, aborting, and answering the permissions and questions a turn waits on.

One endpoint group of `OpenCodeClient` (opencode/client.py); every call goes through
`HttpTransport._request`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from kimaki_tui.opencode.client_http import JSON, HttpTransport, check_session_id, drop_none, items_of
from kimaki_tui.opencode.models import Message
from kimaki_tui.opencode.pending import PendingPermission, PendingQuestion
from kimaki_tui.opencode.schema import ModelRef

PermissionReplyKind = Literal["once", "always", "reject"]


class TurnCalls(HttpTransport):
    """Prompts, commands and aborts, and the answers to a turn's permissions and questions."""

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
        return drop_none(
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
        path = f"/session/{check_session_id(session_id)}/prompt_async"
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
        path = f"/session/{check_session_id(session_id)}/message"
        body = self._prompt_body(parts, agent, model, system, no_reply, message_id, variant, tools)
        return Message.from_json(
            await self._request("POST", path, directory=directory, json=body, timeout=timeout)
        )

    async def abort(self, session_id: str, directory: str | Path | None = None) -> bool:
        path = f"/session/{check_session_id(session_id)}/abort"
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
        path = f"/session/{check_session_id(session_id)}/command"
        # This route takes the model as one "provider/model" string, unlike prompts.
        model_name = str(model) if model else None
        body = drop_none(
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
        path = f"/session/{check_session_id(session_id)}/shell"
        body = {"agent": agent, "command": command}
        return Message.from_json(
            await self._request("POST", path, directory=directory, json=body, timeout=None)
        )

    async def summarize(
        self, session_id: str, directory: str | Path | None, provider_id: str, model_id: str
    ) -> bool:
        path = f"/session/{check_session_id(session_id)}/summarize"
        body = {"providerID": provider_id, "modelID": model_id}
        return bool(await self._request("POST", path, directory=directory, json=body, timeout=None))

    async def list_permissions(self, directory: str | Path | None = None) -> list[PendingPermission]:
        """Pending permission requests of ONE project directory (None = the server's cwd)."""
        rows = items_of(await self._request("GET", "/permission", directory=directory))
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
        body = drop_none({"reply": reply, "message": message})
        path = f"/permission/{request_id}/reply"
        return bool(await self._request("POST", path, directory=directory, json=body))

    async def list_questions(self, directory: str | Path | None = None) -> list[PendingQuestion]:
        """Pending questions of ONE project directory (None = the server's cwd)."""
        rows = items_of(await self._request("GET", "/question", directory=directory))
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
