"""A session's past turns, read from OpenCode's message list, as transcript entries.

The control center records transcripts only from the moment it starts; opening a session with
an older history loads it once from `GET /session/{id}/message` and shows it the way the live
transcript would (prompts, text, tool lines from `kimaki_tui.core.render`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kimaki_tui.core.events import PartCompleted
from kimaki_tui.core.render import render_tool_line
from kimaki_tui.screens.transcript import Entry


def history_entries(messages: list[Mapping[str, Any]]) -> list[Entry]:
    entries: list[Entry] = []
    for message in messages:
        info = _map(message.get("info"))
        role = info.get("role")
        for part in message.get("parts") or []:
            entry = _entry(role, _map(part), str(info.get("sessionID") or ""))
            if entry is not None:
                entries.append(entry)
    return entries


def _entry(role: object, part: Mapping[str, Any], session_id: str) -> Entry | None:
    kind = part.get("type")
    key = str(part.get("id") or "")
    if not key:
        return None
    if kind == "text" and not part.get("synthetic"):
        text = str(part.get("text") or "")
        if not text.strip():
            return None
        return Entry(key, "user", text, meta="earlier") if role == "user" else Entry(key, "text", text)
    if role != "assistant":
        return None
    if kind == "reasoning":
        text = str(part.get("text") or "")
        return Entry(key, "reasoning", text) if text.strip() else None
    if kind == "tool":
        return _tool_entry(key, part, session_id)
    return None


def _tool_entry(key: str, part: Mapping[str, Any], session_id: str) -> Entry:
    state = _map(part.get("state"))
    status = str(state.get("status") or "")
    completed = PartCompleted(
        session_id,
        key,
        str(part.get("messageID") or ""),
        "tool",
        tool=str(part.get("tool") or ""),
        title=str(state.get("title") or ""),
        status=status,
        error=str(state.get("error") or ""),
        input=_map(state.get("input")),
    )
    return Entry(key, "tool", render_tool_line(completed), meta="error" if status == "error" else "")


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
