"""Reducer steps for message parts and token deltas: what is posted, once, and when.

A text or reasoning part is complete when OpenCode sets its `time.end` (it first sends it
empty); a tool part starts at "running" and completes at "completed" or "error". Each part id
is emitted at most once per turn, and parts of closed messages never again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from kimaki_tui.core.events import DomainEvent, PartCompleted, PartKind, TextDelta, ToolStarted
from kimaki_tui.core.stream_state import StreamState, as_int, as_map, as_text, usage_from
from kimaki_tui.opencode.events import PartDelta, PartUpdated

Result = tuple[StreamState, tuple[DomainEvent, ...]]

OUTPUT_LIMIT = 2000
"""Tool output kept in PartCompleted (head only); the whole output stays in OpenCode."""

_NONE: tuple[DomainEvent, ...] = ()


def between_turns(state: StreamState) -> bool:
    """Idle between turns: after an abort OpenCode still sends the cut step's last part and
    message updates, then a second session.idle; they belong to the turn that already ended."""
    return not state.turn_open and state.server_status == "idle" and bool(state.closed_messages)


def close_message(state: StreamState, mid: str) -> Result:
    return replace(state, closed_messages=state.closed_messages | {mid}), _NONE


def on_part(state: StreamState, ev: PartUpdated) -> Result:
    part = ev.part
    mid = as_text(part.get("messageID"))
    if mid in state.user_messages or mid in state.closed_messages:
        return state, _NONE
    if between_turns(state):
        return close_message(state, mid)
    ptype = part.get("type")
    if ptype == "tool":
        return _on_tool(state, part, mid)
    if ptype == "text":
        return _on_text(state, part, mid, "text")
    if ptype == "reasoning":
        return _on_text(state, part, mid, "reasoning")
    if ptype == "step-finish":
        return replace(state, step_usage=usage_from(part.get("tokens")), turn_open=True), _NONE
    return state, _NONE


def _on_text(state: StreamState, part: Mapping[str, Any], mid: str, kind: PartKind) -> Result:
    pid = as_text(part.get("id"))
    if pid in state.emitted:
        return state, _NONE
    end = as_int(as_map(part.get("time")).get("end"))
    if not end:
        if kind == "reasoning" and pid not in state.reasoning_parts:
            return replace(state, reasoning_parts=state.reasoning_parts | {pid}), _NONE
        return state, _NONE
    text = as_text(part.get("text"))
    new = _mark_emitted(state, pid, mid, end)
    if not text.strip():
        return new, _NONE
    return new, (PartCompleted(state.session_id, pid, mid, kind, text=text),)


def _on_tool(state: StreamState, part: Mapping[str, Any], mid: str) -> Result:
    pid = as_text(part.get("id"))
    tool_state = as_map(part.get("state"))
    status = tool_state.get("status")
    tool = as_text(part.get("tool"))
    tool_input = as_map(tool_state.get("input"))
    times = as_map(tool_state.get("time"))
    if status == "running":
        if pid in state.started_tools or pid in state.emitted:
            return state, _NONE
        start = as_int(times.get("start"))
        return replace(
            state,
            started_tools=state.started_tools | {pid},
            turn_messages=_with(state.turn_messages, mid),
            turn_open=True,
            clock_ms=max(state.clock_ms, start),
        ), (ToolStarted(state.session_id, pid, tool, tool_input),)
    if status not in ("completed", "error") or pid in state.emitted:
        return state, _NONE
    output = as_text(tool_state.get("output"))
    if len(output) > OUTPUT_LIMIT:
        output = output[:OUTPUT_LIMIT] + "…"
    completed = PartCompleted(
        state.session_id,
        pid,
        mid,
        "tool",
        tool=tool,
        title=as_text(tool_state.get("title")),
        status=str(status),
        error=as_text(tool_state.get("error")),
        input=tool_input,
        output=output,
    )
    return _mark_emitted(state, pid, mid, as_int(times.get("end"))), (completed,)


def _with(ids: frozenset[str], new_id: str) -> frozenset[str]:
    return ids if new_id in ids else ids | {new_id}


def _mark_emitted(state: StreamState, pid: str, mid: str, time_ms: int) -> StreamState:
    return replace(
        state,
        emitted=state.emitted | {pid},
        turn_messages=_with(state.turn_messages, mid),
        turn_open=True,
        clock_ms=max(state.clock_ms, time_ms),
    )


def on_delta(state: StreamState, ev: PartDelta) -> Result:
    mid = ev.message_id
    if ev.field_name != "text" or ev.part_id in state.emitted:
        return state, _NONE
    if mid in state.user_messages or mid in state.closed_messages or between_turns(state):
        return state, _NONE
    kind: PartKind = "reasoning" if ev.part_id in state.reasoning_parts else "text"
    return state, (TextDelta(state.session_id, ev.part_id, ev.delta, kind),)
