"""Typed OpenCode server events: one dataclass per event type we act on, parsed from JSON.

Accepts both shapes the server sends: `/event` lines (`{"type", "properties"}`) and
`/global/event` envelopes (`{"directory", "payload": {...}}`). Unknown types are kept as
`UnknownEvent`, never fatal. Parsing is a pure function so the reducer and the recorded-stream
renderer share it.

The session id is taken from wherever the event carries it: OpenCode 1.18 puts it at the top of
`properties`; 1.2 sends `message.part.updated` with only `{part}` (`part.sessionID`),
`message.updated` with only `{info}` (`info.sessionID`) and session events with only the
Session object (`info.id`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kimaki_tui.errors import KimakiError

JSON = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every parsed event. `directory` is set for `/global/event` envelopes."""

    type: str
    directory: str | None = field(default=None, kw_only=True)

    @property
    def session_id(self) -> str | None:
        return None


@dataclass(frozen=True, slots=True)
class SessionEvent(Event):
    sid: str

    @property
    def session_id(self) -> str | None:
        return self.sid


@dataclass(frozen=True, slots=True)
class ServerConnected(Event):
    pass


@dataclass(frozen=True, slots=True)
class ServerHeartbeat(Event):
    pass


@dataclass(frozen=True, slots=True)
class SessionStatus(SessionEvent):
    """`status` is "busy", "idle" or "retry"; retry carries attempt/message/next (ms)."""

    status: str
    attempt: int = 0
    message: str = ""


@dataclass(frozen=True, slots=True)
class SessionIdle(SessionEvent):
    pass


@dataclass(frozen=True, slots=True)
class SessionErrorEvent(SessionEvent):
    name: str
    message: str


@dataclass(frozen=True, slots=True)
class SessionInfoEvent(SessionEvent):
    """session.created / session.updated / session.deleted with the Session object."""

    info: JSON


@dataclass(frozen=True, slots=True)
class MessageUpdated(SessionEvent):
    info: JSON

    @property
    def role(self) -> str:
        return str(self.info.get("role", ""))

    @property
    def message_id(self) -> str:
        return str(self.info.get("id", ""))


@dataclass(frozen=True, slots=True)
class MessageRemoved(SessionEvent):
    message_id: str


@dataclass(frozen=True, slots=True)
class PartUpdated(SessionEvent):
    part: JSON

    @property
    def part_id(self) -> str:
        return str(self.part.get("id", ""))

    @property
    def part_type(self) -> str:
        return str(self.part.get("type", ""))


@dataclass(frozen=True, slots=True)
class PartDelta(SessionEvent):
    message_id: str
    part_id: str
    field_name: str
    delta: str


@dataclass(frozen=True, slots=True)
class PermissionAsked(SessionEvent):
    """A tool waits for approval. `request` is the raw request (same shape as GET /permission)."""

    request_id: str
    permission: str
    patterns: tuple[str, ...]
    metadata: JSON
    always: tuple[str, ...]
    request: JSON


@dataclass(frozen=True, slots=True)
class PermissionReplied(SessionEvent):
    request_id: str
    reply: str


@dataclass(frozen=True, slots=True)
class QuestionAsked(SessionEvent):
    request_id: str
    questions: tuple[JSON, ...]
    request: JSON


@dataclass(frozen=True, slots=True)
class QuestionReplied(SessionEvent):
    request_id: str
    answers: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class QuestionRejected(SessionEvent):
    request_id: str


@dataclass(frozen=True, slots=True)
class UnknownEvent(Event):
    """Any type we do not model (todo.updated, file.edited, plugin.added, sync, ...)."""

    properties: JSON
    sid: str | None = None

    @property
    def session_id(self) -> str | None:
        return self.sid


class EventParseError(KimakiError, ValueError):
    """A line that is not an OpenCode event (bad JSON, not an object, no type)."""


def _str(props: JSON, key: str) -> str:
    value = props.get(key)
    return value if isinstance(value, str) else ""


def _parse_status(props: JSON, sid: str, d: str | None) -> Event:
    status = props.get("status") or {}
    return SessionStatus(
        "session.status",
        sid,
        str(status.get("type", "")),
        int(status.get("attempt") or 0),
        str(status.get("message") or ""),
        directory=d,
    )


def _parse_error(props: JSON, sid: str, d: str | None) -> Event:
    error = props.get("error") or {}
    data = error.get("data") or {}
    message = data.get("message") if isinstance(data, Mapping) else None
    return SessionErrorEvent(
        "session.error", sid, str(error.get("name", "UnknownError")), str(message or ""), directory=d
    )


def _parse_permission(props: JSON, sid: str, d: str | None) -> Event:
    return PermissionAsked(
        "permission.asked",
        sid,
        _str(props, "id"),
        _str(props, "permission"),
        tuple(props.get("patterns") or ()),
        props.get("metadata") or {},
        tuple(props.get("always") or ()),
        props,
        directory=d,
    )


def _parse_question(props: JSON, sid: str, d: str | None) -> Event:
    return QuestionAsked(
        "question.asked", sid, _str(props, "id"), tuple(props.get("questions") or ()), props, directory=d
    )


def _parse_answers(props: JSON, sid: str, d: str | None) -> Event:
    answers = tuple(tuple(str(a) for a in group) for group in props.get("answers") or ())
    return QuestionReplied("question.replied", sid, _str(props, "requestID"), answers, directory=d)


def _parse_delta(props: JSON, sid: str, d: str | None) -> Event:
    return PartDelta(
        "message.part.delta",
        sid,
        _str(props, "messageID"),
        _str(props, "partID"),
        _str(props, "field"),
        _str(props, "delta"),
        directory=d,
    )


def _parse_part(props: JSON, sid: str, d: str | None) -> Event:
    return PartUpdated("message.part.updated", sid, props.get("part") or {}, directory=d)


def _parse_message(props: JSON, sid: str, d: str | None) -> Event:
    return MessageUpdated("message.updated", sid, props.get("info") or {}, directory=d)


_SESSION_PARSERS: dict[str, Callable[[JSON, str, str | None], Event]] = {
    "message.part.delta": _parse_delta,
    "message.part.updated": _parse_part,
    "message.updated": _parse_message,
    "session.status": _parse_status,
    "session.idle": lambda p, s, d: SessionIdle("session.idle", s, directory=d),
    "session.error": _parse_error,
    "session.created": lambda p, s, d: SessionInfoEvent(
        "session.created", s, p.get("info") or {}, directory=d
    ),
    "session.updated": lambda p, s, d: SessionInfoEvent(
        "session.updated", s, p.get("info") or {}, directory=d
    ),
    "session.deleted": lambda p, s, d: SessionInfoEvent(
        "session.deleted", s, p.get("info") or {}, directory=d
    ),
    "message.removed": lambda p, s, d: MessageRemoved(
        "message.removed", s, _str(p, "messageID"), directory=d
    ),
    "permission.asked": _parse_permission,
    "permission.replied": lambda p, s, d: PermissionReplied(
        "permission.replied", s, _str(p, "requestID"), _str(p, "reply"), directory=d
    ),
    "question.asked": _parse_question,
    "question.replied": _parse_answers,
    "question.rejected": lambda p, s, d: QuestionRejected(
        "question.rejected", s, _str(p, "requestID"), directory=d
    ),
}


# Where OpenCode versions without a top-level `sessionID` keep it: (object key, id key).
_NESTED_SESSION_ID: dict[str, tuple[str, str]] = {
    "message.part.updated": ("part", "sessionID"),
    "message.updated": ("info", "sessionID"),
    "session.created": ("info", "id"),
    "session.updated": ("info", "id"),
    "session.deleted": ("info", "id"),
}


def _nested_session_id(etype: str, props: JSON) -> str | None:
    where = _NESTED_SESSION_ID.get(etype)
    if where is None:
        return None
    holder = props.get(where[0])
    sid = holder.get(where[1]) if isinstance(holder, Mapping) else None
    return sid if isinstance(sid, str) and sid else None


def parse_event(raw: object) -> Event:
    """Turn one decoded JSON object (either envelope shape) into a typed event."""
    if not isinstance(raw, Mapping):
        raise EventParseError(f"event is not a JSON object: {type(raw).__name__}")
    directory = raw.get("directory") if isinstance(raw.get("directory"), str) else None
    body: Any = raw.get("payload") if isinstance(raw.get("payload"), Mapping) else raw
    etype = body.get("type")
    if not isinstance(etype, str) or not etype:
        raise EventParseError("event has no type")
    props = body.get("properties")
    if not isinstance(props, Mapping):
        props = {}
    if etype == "server.heartbeat":
        return ServerHeartbeat(etype, directory=directory)
    if etype == "server.connected":
        return ServerConnected(etype, directory=directory)
    sid = props.get("sessionID")
    if not isinstance(sid, str):
        sid = _nested_session_id(etype, props)
    parser = _SESSION_PARSERS.get(etype)
    if parser is None or not isinstance(sid, str):
        return UnknownEvent(etype, props, sid if isinstance(sid, str) else None, directory=directory)
    return parser(props, sid, directory)
