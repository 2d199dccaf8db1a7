"""Pure reducer: one session's OpenCode events in, (new state, domain events) out.

No I/O and no clock: durations and `asked_at` come from timestamps inside the events. An event
that changes nothing returns the same state object. A turn opens with the first message, part or
error after the last `session.idle`; `session.idle` closes it with exactly one `TurnFinished`
(after posting any text left open), and its message ids join `closed_messages` so that a part
event repeated later is never posted twice. An assistant message the idle caught unfinished is
only "cut": OpenCode 1.2 reports an abort with extra idles that can land inside the next turn,
and a cut message that OpenCode then goes on with (while busy) opens a turn again. The
selectors (`is_busy`, ...) are re-exported from `stream_state`, so callers need only this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from itertools import chain
from typing import Any

from kimaki_tui.core.events import (
    DomainEvent,
    PermissionAskedEvent,
    PermissionRequest,
    QuestionAskedEvent,
    QuestionRequest,
    SessionFailed,
    SessionState,
    StatusChanged,
    TitleChanged,
    TurnFinished,
)
from kimaki_tui.core.reducer_parts import OUTPUT_LIMIT as OUTPUT_LIMIT
from kimaki_tui.core.reducer_parts import (
    between_turns,
    close_message,
    flush_parts,
    on_delta,
    on_part,
    reopen,
)
from kimaki_tui.core.stream_state import (
    NO_IDS,
    StreamState,
    Usage,
    as_int,
    as_map,
    as_text,
    assistant_from,
    evolve,
)
from kimaki_tui.core.stream_state import current_turn_message_ids as current_turn_message_ids
from kimaki_tui.core.stream_state import is_busy as is_busy
from kimaki_tui.core.stream_state import pending_permission_ids as pending_permission_ids
from kimaki_tui.core.stream_state import pending_question_ids as pending_question_ids
from kimaki_tui.core.stream_state import settling as settling
from kimaki_tui.opencode.events import (
    Event,
    MessageUpdated,
    PartDelta,
    PartUpdated,
    PermissionAsked,
    PermissionReplied,
    QuestionAsked,
    QuestionRejected,
    QuestionReplied,
    SessionErrorEvent,
    SessionIdle,
    SessionInfoEvent,
    SessionStatus,
)

Outputs = tuple[DomainEvent, ...]
Result = tuple[StreamState, Outputs]

ABORTED = "MessageAbortedError"
_NONE: Outputs = ()
_EMPTY: frozenset[str] = frozenset()
_DEFAULT_TITLE = re.compile(r"^(new|child) session - ", re.IGNORECASE)
_SERVER_STATES: dict[str, SessionState] = {"busy": "busy", "idle": "idle", "retry": "retry"}
# The fields a new turn starts from (StreamState's defaults for them).
_TURN_RESET: dict[str, Any] = {
    "turn_open": False, "turn_failed": False, "turn_started_ms": 0, "turn_messages": NO_IDS,
    "turn_assistants": NO_IDS, "last_assistant": None, "step_usage": None, "emitted": NO_IDS,
    "started_tools": NO_IDS, "open_parts": (),
}


def initial_state(session_id: str) -> StreamState:
    return StreamState(session_id)


def reduce(state: StreamState, event: Event) -> Result:
    """Apply one event of this session. Events of other sessions leave the state untouched."""
    if event.session_id != state.session_id:
        return state, _NONE
    handler = _HANDLERS.get(type(event))
    if handler is None:
        return state, _NONE
    return handler(state, event)


def abandon_turn(state: StreamState) -> StreamState:
    """Drop the open turn without reporting it, for a caller that gave up waiting for OpenCode.

    Unlike a fresh `initial_state`, the turn's messages stay closed, so their late events
    (OpenCode sends some after an abort) are not posted.
    """
    closed = state.closed_messages.with_ids(chain(state.turn_messages, state.cut_messages))
    return evolve(
        state, server_status="idle", status="idle", status_detail="", retry_detail="",
        pending_permissions=_EMPTY, pending_questions=_EMPTY, closed_messages=closed,
        cut_messages=_EMPTY, **_TURN_RESET,
    )


# ---- status ------------------------------------------------------------------------------------
def _settle(state: StreamState, outputs: Outputs = _NONE, **changes: Any) -> Result:
    """Apply `changes`, then recompute the visible status and report it if it moved.

    A pending permission or question shows as "waiting" while OpenCode is not idle; after an
    abort OpenCode goes idle and keeps the request, which the core's broker then rejects.
    """
    new = evolve(state, **changes) if changes else state
    waiting = (new.pending_permissions or new.pending_questions) and new.server_status != "idle"
    status: SessionState = "waiting" if waiting else new.server_status
    detail = new.retry_detail if status == "retry" else ""
    if status == new.status and detail == new.status_detail:
        return new, outputs
    new = evolve(new, status=status, status_detail=detail)
    return new, (*outputs, StatusChanged(state.session_id, status, detail))


def _on_status(state: StreamState, ev: SessionStatus) -> Result:
    server = _SERVER_STATES.get(ev.status, state.server_status)
    detail = f"attempt {ev.attempt}: {ev.message}" if server == "retry" else ""
    if server == state.server_status and detail == state.retry_detail:
        return state, _NONE
    return _settle(state, server_status=server, retry_detail=detail)


# ---- session-level events ----------------------------------------------------------------------
def _on_session_info(state: StreamState, ev: SessionInfoEvent) -> Result:
    title = as_text(ev.info.get("title"))
    if ev.type == "session.deleted" or not title or title == state.title or _DEFAULT_TITLE.match(title):
        return state, _NONE
    if ev.type == "session.created":
        # Whoever created the session chose this title; only later changes are news.
        return evolve(state, title=title), _NONE
    return evolve(state, title=title), (TitleChanged(state.session_id, title),)


def _on_error(state: StreamState, ev: SessionErrorEvent) -> Result:
    # An error reported after the turn already went idle must not taint the next turn.
    late = not state.turn_open and state.server_status == "idle"
    new = state if late else evolve(state, turn_open=True, turn_failed=True)
    if ev.name == ABORTED:
        return new, _NONE
    return new, (SessionFailed(state.session_id, ev.name, ev.message),)


def _on_idle(state: StreamState, ev: SessionIdle) -> Result:
    if not state.turn_open:
        return _settle(state, server_status="idle") if state.server_status != "idle" else (state, _NONE)
    state, flushed = flush_parts(state)
    finished = _turn_finished(state)
    last = state.last_assistant
    cut = (
        frozenset({last.message_id})
        if last is not None and not last.completed_ms and not last.error_name
        else _EMPTY
    )
    return _settle(
        state,
        (*flushed, finished),
        server_status="idle",
        closed_messages=state.closed_messages.with_ids(m for m in state.turn_messages if m not in cut),
        cut_messages=state.cut_messages | cut,
        **_TURN_RESET,
    )


def _turn_finished(state: StreamState) -> TurnFinished:
    last = state.last_assistant
    finished = last is not None and not last.error_name and last.finish not in ("", "tool-calls")
    natural = finished and not state.turn_failed
    usage = last.usage if last is not None and last.usage.total else state.step_usage or Usage()
    end_ms = (last.completed_ms if last is not None else 0) or state.clock_ms
    start_ms = state.turn_started_ms
    duration = max(0, end_ms - start_ms) / 1000 if start_ms and end_ms else 0.0
    return TurnFinished(
        state.session_id,
        natural=natural,
        duration_s=duration,
        tokens_total=usage.total,
        tokens_input=usage.input,
        tokens_output=usage.output,
        context_tokens=usage.context_tokens,
        context_limit=None,
        provider_id=last.provider_id if last else "",
        model_id=last.model_id if last else "",
        agent=last.agent if last else "",
        directory=last.directory if last else "",
    )


# ---- messages ----------------------------------------------------------------------------------
def _on_message(state: StreamState, ev: MessageUpdated) -> Result:
    info = ev.info
    mid = as_text(info.get("id"))
    if not mid or mid in state.closed_messages:
        return state, _NONE
    role = info.get("role")
    if role == "user":
        return _on_user_message(state, mid, info)
    if role != "assistant":
        return state, _NONE
    assistant = assistant_from(info)
    if between_turns(state) or (mid in state.cut_messages and assistant.error_name):
        return close_message(state, mid)  # late news of a turn that already ended
    if mid in state.cut_messages:
        state = reopen(state, mid)
    changes: dict[str, Any] = {"turn_open": True}
    if mid not in state.turn_assistants:
        changes["turn_assistants"] = state.turn_assistants.with_id(mid)
        changes["turn_messages"] = state.turn_messages.with_id(mid)
        changes["last_assistant"] = assistant
    elif mid == state.turn_assistants.last:
        changes["last_assistant"] = assistant
    if not state.turn_started_ms and assistant.created_ms:
        changes["turn_started_ms"] = assistant.created_ms
    clock = max(assistant.created_ms, assistant.completed_ms)
    if clock > state.clock_ms:
        changes["clock_ms"] = clock
    new = evolve(state, **changes)
    return flush_parts(new, mid) if assistant.completed_ms else (new, _NONE)


def _on_user_message(state: StreamState, mid: str, info: Mapping[str, Any]) -> Result:
    if mid in state.user_messages:
        return state, _NONE
    created = as_int(as_map(info.get("time")).get("created"))
    started = state.turn_started_ms
    # The turn starts at its first prompt; an assistant seen before it (joined mid-turn) is later.
    if created and (not started or created < started):
        started = created
    return evolve(
        state,
        user_messages=state.user_messages.with_id(mid),
        turn_messages=state.turn_messages.with_id(mid),
        turn_open=True,
        turn_started_ms=started,
        clock_ms=max(state.clock_ms, created),
    ), _NONE


# ---- permissions and questions -----------------------------------------------------------------
def _busy_if_idle(state: StreamState) -> SessionState:
    # A tool waiting for an answer means OpenCode is mid-turn even if we missed its busy status.
    return "busy" if state.server_status == "idle" else state.server_status


def _on_permission_asked(state: StreamState, ev: PermissionAsked) -> Result:
    if not ev.request_id or ev.request_id in state.asked_requests:
        return state, _NONE
    asked_at = state.clock_ms / 1000
    request = PermissionRequest(
        ev.request_id, state.session_id, ev.permission, ev.patterns, ev.always, ev.metadata, asked_at
    )
    return _settle(
        state,
        (PermissionAskedEvent(state.session_id, request),),
        pending_permissions=state.pending_permissions | {ev.request_id},
        asked_requests=state.asked_requests.with_id(ev.request_id),
        server_status=_busy_if_idle(state),
    )


def _on_permission_replied(state: StreamState, ev: PermissionReplied) -> Result:
    if ev.request_id not in state.pending_permissions:
        return state, _NONE
    return _settle(state, pending_permissions=state.pending_permissions - {ev.request_id})


def _on_question_asked(state: StreamState, ev: QuestionAsked) -> Result:
    if not ev.request_id or ev.request_id in state.asked_requests:
        return state, _NONE
    request = QuestionRequest(ev.request_id, state.session_id, ev.questions, asked_at=state.clock_ms / 1000)
    return _settle(
        state,
        (QuestionAskedEvent(state.session_id, request),),
        pending_questions=state.pending_questions | {ev.request_id},
        asked_requests=state.asked_requests.with_id(ev.request_id),
        server_status=_busy_if_idle(state),
    )


def _on_question_done(state: StreamState, ev: QuestionReplied | QuestionRejected) -> Result:
    if ev.request_id not in state.pending_questions:
        return state, _NONE
    return _settle(state, pending_questions=state.pending_questions - {ev.request_id})


_HANDLERS: dict[type[Event], Callable[[StreamState, Any], Result]] = {
    PartDelta: on_delta,
    PartUpdated: on_part,
    MessageUpdated: _on_message,
    SessionStatus: _on_status,
    SessionIdle: _on_idle,
    SessionErrorEvent: _on_error,
    SessionInfoEvent: _on_session_info,
    PermissionAsked: _on_permission_asked,
    PermissionReplied: _on_permission_replied,
    QuestionAsked: _on_question_asked,
    QuestionReplied: _on_question_done,
    QuestionRejected: _on_question_done,
}
