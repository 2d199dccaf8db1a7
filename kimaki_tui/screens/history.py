"""A session's past turns, read from OpenCode's message list, as transcript entries.

The control center records transcripts only from the moment it starts; opening a session with
an older history loads it once from `GET /session/{id}/message` and shows it the way the live
transcript would (prompts, text, tool lines from `kimaki_tui.presentation.render`).
"""

from __future__ import annotations

from collections.abc import Sequence

from kimaki_tui.core.events import PartCompleted
from kimaki_tui.opencode.injection_guard import guard_flags
from kimaki_tui.opencode.models import Message, MessageInfo
from kimaki_tui.opencode.parts import Part, ReasoningPart, TextPart, ToolPart
from kimaki_tui.presentation.render import render_tool_line
from kimaki_tui.screens.transcript import Entry


def history_entries(messages: Sequence[Message]) -> list[Entry]:
    entries: list[Entry] = []
    for message in messages:
        for part in message.parts:
            entry = _entry(message.info, part)
            if entry is not None:
                entries.append(entry)
    return entries


def _entry(info: MessageInfo, part: Part) -> Entry | None:
    key = part.id
    if not key:
        return None
    if isinstance(part, TextPart) and not part.synthetic:
        if not part.text.strip():
            return None
        return (
            Entry(key, "user", part.text, meta="earlier") if info.is_user else Entry(key, "text", part.text)
        )
    if not info.is_assistant:
        return None
    if isinstance(part, ReasoningPart):
        return Entry(key, "reasoning", part.text) if part.text.strip() else None
    if isinstance(part, ToolPart):
        return _tool_entry(part, info.session_id)
    return None


def _tool_entry(part: ToolPart, session_id: str) -> Entry:
    state = part.state
    completed = PartCompleted(
        session_id,
        part.id,
        part.message_id,
        "tool",
        tool=part.tool,
        title=state.title,
        status=state.status,
        error=state.error,
        input=state.input,
        guard_flags=guard_flags(state.metadata),
    )
    return Entry(
        part.id,
        "tool",
        render_tool_line(completed),
        meta="error" if state.status == "error" else "",
        tool=part.tool,
    )
