"""The reducer's state: an immutable value per session, plus readers for OpenCode's JSON.

`StreamState` is what `kimaki_tui.core.reducer` folds events into. It is frozen; the reducer
replaces a few fields per change. Sets of ids that only grow (parts posted, messages closed) and
streamed text are `growing` values, so an event costs the same in a session's 2,000th part as in
its first; the small sets that also shrink (pending requests) are frozensets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from kimaki_tui.core.events import PartKind, SessionState
from kimaki_tui.core.growing import GrowingText, IdSet

_EMPTY: frozenset[str] = frozenset()
NO_IDS = IdSet()
NO_TEXT = GrowingText()


@dataclass(frozen=True, slots=True)
class OpenPart:
    """A text or reasoning part still streaming: the text so far (its deltas, or the server's)."""

    part_id: str
    message_id: str
    kind: PartKind
    streamed: GrowingText = NO_TEXT

    @property
    def text(self) -> str:
        return str(self.streamed)


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one assistant message (or step)."""

    input: int = 0
    output: int = 0
    reasoning: int = 0
    cache_read: int = 0
    cache_write: int = 0
    total: int = 0

    @property
    def context_tokens(self) -> int:
        """Tokens the conversation occupies after this message.

        input + cache.read + cache.write is everything the model was sent for this call (OpenCode
        counts cached prompt tokens apart from `input`); the output joins the history for the
        next call. Reasoning tokens are left out: providers do not send them back.
        """
        return self.input + self.cache_read + self.cache_write + self.output


@dataclass(frozen=True, slots=True)
class AssistantInfo:
    message_id: str
    provider_id: str
    model_id: str
    agent: str
    finish: str
    created_ms: int
    completed_ms: int
    error_name: str
    directory: str
    usage: Usage


@dataclass(frozen=True, slots=True)
class StreamState:
    """Everything the reducer remembers about one session. Treat it as opaque; use the selectors."""

    session_id: str
    title: str = ""
    server_status: SessionState = "idle"
    retry_detail: str = ""
    status: SessionState = "idle"
    status_detail: str = ""
    pending_permissions: frozenset[str] = _EMPTY
    pending_questions: frozenset[str] = _EMPTY
    asked_requests: IdSet = NO_IDS
    user_messages: IdSet = NO_IDS
    closed_messages: IdSet = NO_IDS
    # Assistant messages a turn ended without completing: after an abort OpenCode closes them
    # late; OpenCode 1.2 may also send a stale idle mid-turn and then go on with them.
    cut_messages: frozenset[str] = _EMPTY
    clock_ms: int = 0
    # The current turn:
    turn_open: bool = False
    turn_failed: bool = False
    turn_started_ms: int = 0
    turn_messages: IdSet = NO_IDS
    turn_assistants: IdSet = NO_IDS
    last_assistant: AssistantInfo | None = None
    step_usage: Usage | None = None
    emitted: IdSet = NO_IDS
    started_tools: IdSet = NO_IDS
    open_parts: tuple[OpenPart, ...] = ()


_FIELDS = tuple(f.name for f in fields(StreamState))
_new = object.__new__
_set = object.__setattr__


def evolve(state: StreamState, **changes: Any) -> StreamState:
    """`dataclasses.replace` for the reducer's hot path (twice as fast: one call per event)."""
    new = _new(StreamState)
    for name in _FIELDS:
        _set(new, name, changes[name] if name in changes else getattr(state, name))
    return new


# ---- selectors (the reducer re-exports them) -------------------------------------------------
def is_busy(state: StreamState) -> bool:
    return state.status in ("busy", "retry", "waiting")


def pending_permission_ids(state: StreamState) -> frozenset[str]:
    return state.pending_permissions


def pending_question_ids(state: StreamState) -> frozenset[str]:
    return state.pending_questions


def settling(state: StreamState) -> bool:
    """OpenCode still owes the end of a message that a turn's idle cut off (an abort settling).

    OpenCode 1.2 says idle before it has finished aborting, and aborts a prompt sent meanwhile.
    """
    return bool(state.cut_messages)


def current_turn_message_ids(state: StreamState) -> tuple[str, ...]:
    """The assistant messages of the open turn, oldest first."""
    return tuple(state.turn_assistants)


# ---- JSON readers (OpenCode sends loosely typed objects) ------------------------------------
def as_int(value: object) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def as_text(value: object) -> str:
    return value if isinstance(value, str) else ""


def as_map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def usage_from(tokens: object) -> Usage:
    t = as_map(tokens)
    cache = as_map(t.get("cache"))
    parts = (as_int(t.get("input")), as_int(t.get("output")), as_int(t.get("reasoning")))
    read, write = as_int(cache.get("read")), as_int(cache.get("write"))
    total = as_int(t.get("total")) or sum(parts) + read + write
    return Usage(parts[0], parts[1], parts[2], read, write, total)


def assistant_from(info: Mapping[str, Any]) -> AssistantInfo:
    time = as_map(info.get("time"))
    path = as_map(info.get("path"))
    return AssistantInfo(
        message_id=as_text(info.get("id")),
        provider_id=as_text(info.get("providerID")),
        model_id=as_text(info.get("modelID")),
        agent=as_text(info.get("agent")) or as_text(info.get("mode")),
        finish=as_text(info.get("finish")),
        created_ms=as_int(time.get("created")),
        completed_ms=as_int(time.get("completed")),
        error_name=as_text(as_map(info.get("error")).get("name")),
        directory=as_text(path.get("cwd")) or as_text(path.get("root")),
        usage=usage_from(info.get("tokens")),
    )
