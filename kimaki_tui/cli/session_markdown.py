"""An OpenCode conversation (`GET /session/{id}/message`) as Markdown, for `kimaki session read` and
`kimaki send --wait`: the user's and the assistant's text, one line per tool call, errors.

Synthetic parts (context kimaki or OpenCode added, such as MEMORY.md) and reasoning are left out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

Message = Mapping[str, Any]
TOOL_INPUT_MAX = 120


def role_of(message: Message) -> str:
    return str((message.get("info") or {}).get("role", ""))


def render(messages: Sequence[Message], *, title: str | None = None, assistant_only: bool = False) -> str:
    """The conversation as Markdown (only what the assistant said, with `assistant_only`)."""
    blocks: list[str] = [f"# {title}"] if title else []
    for message in messages:
        role = role_of(message)
        if assistant_only and role != "assistant":
            continue
        body = _body(message)
        if not body:
            continue
        if assistant_only:
            blocks.append(body)
        else:
            blocks.append(f"## {_heading(message)}\n\n{body}")
    return "\n\n".join(blocks).strip() + "\n"


def _heading(message: Message) -> str:
    info = message.get("info") or {}
    if info.get("role") == "user":
        return "User"
    model = info.get("modelID")
    return f"Assistant ({model})" if model else "Assistant"


def _body(message: Message) -> str:
    lines: list[str] = []
    for part in message.get("parts") or []:
        text = _part(part)
        if text:
            lines.append(text)
    error = (message.get("info") or {}).get("error")
    if error:
        lines.append(f"> ⚠️ {_error_text(error)}")
    return "\n\n".join(lines)


def _part(part: Mapping[str, Any]) -> str:
    kind = part.get("type")
    if kind == "text" and not part.get("synthetic") and not part.get("ignored"):
        return str(part.get("text") or "").strip()
    if kind == "tool":
        return _tool(part)
    if kind == "file":
        return f"📎 {part.get('filename') or part.get('url', 'file')}"
    return ""


def _tool(part: Mapping[str, Any]) -> str:
    state = part.get("state") or {}
    status = state.get("status", "")
    what = state.get("title") or _short_input(state.get("input"))
    line = f"- 🔧 `{part.get('tool', 'tool')}`" + (f" {what}" if what else "")
    if status == "error":
        line += f" — failed: {state.get('error', '')}".rstrip()
    elif status not in ("completed", ""):
        line += f" ({status})"
    return line


def _short_input(value: Any) -> str:
    if not value:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= TOOL_INPUT_MAX else text[: TOOL_INPUT_MAX - 1] + "…"


def _error_text(error: Any) -> str:
    if isinstance(error, Mapping):
        data = error.get("data") or {}
        message = data.get("message") if isinstance(data, Mapping) else None
        return f"{error.get('name', 'Error')}: {message}" if message else str(error.get("name", "Error"))
    return str(error)
