"""Reducer steps for message parts and token deltas: what is posted, once, and when.

A text or reasoning part is complete when OpenCode sets its `time.end` (it first sends it
empty). OpenCode sometimes never sets it (a step that finishes early, an abort racing the end
of the turn), so the text streamed so far is kept and posted when the part's step finishes,
its message completes or the turn ends. A tool part starts at "running" and completes at
"completed" or "error". Each part id is emitted at most once per turn, and parts of closed
messages never again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from kimaki_tui.core.events import DomainEvent, PartCompleted, PartKind, TextDelta, ToolStarted
from kimaki_tui.core.growing import GrowingText
from kimaki_tui.core.stream_state import (
    OpenPart,
    StreamState,
    as_int,
    as_map,
    as_text,
    evolve,
    usage_from,
)
from kimaki_tui.opencode.events import PartDelta, PartUpdated
from kimaki_tui.opencode.injection_guard import guard_flags

Result = tuple[StreamState, tuple[DomainEvent, ...]]

OUTPUT_LIMIT = 2000
"""Tool output kept in PartCompleted (head only); the whole output stays in OpenCode."""

_NONE: tuple[DomainEvent, ...] = ()


def between_turns(state: StreamState) -> bool:
    """Idle between turns: after an abort OpenCode still sends the cut step's last part and
    message updates, then a second session.idle; they belong to the turn that already ended."""
    return (
        not state.turn_open
        and state.server_status == "idle"
        and bool(state.closed_messages or state.cut_messages)
    )


def close_message(state: StreamState, mid: str) -> Result:
    closed = evolve(state, closed_messages=state.closed_messages.with_id(mid))
    if mid in state.cut_messages:
        closed = evolve(closed, cut_messages=state.cut_messages - {mid})
    return closed, _NONE


def reopen(state: StreamState, mid: str) -> StreamState:
    """OpenCode goes on with a message an early idle cut off: it is part of a new open turn."""
    return evolve(
        state,
        cut_messages=state.cut_messages - {mid},
        turn_messages=state.turn_messages.with_id(mid),
        turn_assistants=state.turn_assistants.with_id(mid),
        turn_open=True,
    )


def _admit(state: StreamState, mid: str) -> StreamState | None:
    """The state to apply an event of message `mid` to, or None when the event is stale."""
    if mid in state.user_messages or mid in state.closed_messages or between_turns(state):
        return None
    return reopen(state, mid) if mid in state.cut_messages else state


def on_part(state: StreamState, ev: PartUpdated) -> Result:
    part = ev.part
    mid = as_text(part.get("messageID"))
    if mid in state.user_messages or mid in state.closed_messages:
        return state, _NONE
    admitted = _admit(state, mid)
    if admitted is None:
        return close_message(state, mid)
    state = admitted
    ptype = part.get("type")
    if ptype == "tool":
        return _on_tool(state, part, mid)
    if ptype == "text":
        return _on_text(state, part, mid, "text")
    if ptype == "reasoning":
        return _on_text(state, part, mid, "reasoning")
    if ptype == "step-finish":
        finished = evolve(state, step_usage=usage_from(part.get("tokens")), turn_open=True)
        return flush_parts(finished, mid)
    return state, _NONE


def flush_parts(state: StreamState, mid: str | None = None) -> Result:
    """Post the open text and reasoning parts of message `mid` (of every message when None)."""
    if not state.open_parts:
        return state, _NONE
    done = [p for p in state.open_parts if mid is None or p.message_id == mid]
    if not done:
        return state, _NONE
    texts = [(p, p.text) for p in done]
    outputs = tuple(
        PartCompleted(state.session_id, p.part_id, p.message_id, p.kind, text=text)
        for p, text in texts
        if text.strip()
    )
    return evolve(
        state,
        open_parts=tuple(p for p in state.open_parts if p.message_id != mid) if mid is not None else (),
        emitted=state.emitted.with_ids(p.part_id for p in done),
        turn_messages=state.turn_messages.with_ids(p.message_id for p in done),
        turn_open=True,
    ), outputs


def _find_open(state: StreamState, pid: str) -> OpenPart | None:
    return next((p for p in state.open_parts if p.part_id == pid), None)


def _on_text(state: StreamState, part: Mapping[str, Any], mid: str, kind: PartKind) -> Result:
    pid = as_text(part.get("id"))
    if pid in state.emitted:
        return state, _NONE
    end = as_int(as_map(part.get("time")).get("end"))
    text = as_text(part.get("text"))
    opened = _find_open(state, pid)
    if not end:
        # Only an assistant's parts are kept open: a user part (never ended) must not be posted.
        if opened is None and mid in state.turn_assistants:
            opened = OpenPart(pid, mid, kind, GrowingText(text))
            return evolve(state, open_parts=(*state.open_parts, opened)), _NONE
        if opened is None:
            return state, _NONE
        if text and text != opened.streamed:  # the server's text so far outranks our deltas
            return _set_open(state, replace(opened, streamed=GrowingText(text))), _NONE
        return state, _NONE
    new = _mark_emitted(state, pid, mid, end)
    if opened is not None:
        new = evolve(new, open_parts=tuple(p for p in new.open_parts if p.part_id != pid))
    if not text.strip():
        return new, _NONE
    return new, (PartCompleted(state.session_id, pid, mid, kind, text=text),)


def _set_open(state: StreamState, updated: OpenPart) -> StreamState:
    if len(state.open_parts) == 1:  # the usual case, on every token: skip the generator
        return evolve(state, open_parts=(updated,))
    parts = tuple(updated if p.part_id == updated.part_id else p for p in state.open_parts)
    return evolve(state, open_parts=parts)


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
        title = as_text(tool_state.get("title"))
        return evolve(
            state,
            started_tools=state.started_tools.with_id(pid),
            turn_messages=state.turn_messages.with_id(mid),
            turn_open=True,
            clock_ms=max(state.clock_ms, start),
        ), (ToolStarted(state.session_id, pid, tool, tool_input, title=title),)
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
        guard_flags=guard_flags(tool_state.get("metadata")),
    )
    return _mark_emitted(state, pid, mid, as_int(times.get("end"))), (completed,)



def _mark_emitted(state: StreamState, pid: str, mid: str, time_ms: int) -> StreamState:
    return evolve(
        state,
        emitted=state.emitted.with_id(pid),
        turn_messages=state.turn_messages.with_id(mid),
        turn_open=True,
        clock_ms=max(state.clock_ms, time_ms),
    )


def on_delta(state: StreamState, ev: PartDelta) -> Result:
    if ev.field_name != "text" or ev.part_id in state.emitted:
        return state, _NONE
    admitted = _admit(state, ev.message_id)
    if admitted is None:
        return state, _NONE
    opened = _find_open(admitted, ev.part_id)
    if opened is None:  # not a part we keep (its part event was missed)
        return admitted, (TextDelta(state.session_id, ev.part_id, ev.delta, "text"),)
    grown = OpenPart(opened.part_id, opened.message_id, opened.kind, opened.streamed.plus(ev.delta))
    new = _set_open(admitted, grown)
    return new, (TextDelta(state.session_id, ev.part_id, ev.delta, opened.kind),)
