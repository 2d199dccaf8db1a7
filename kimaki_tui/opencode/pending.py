"""Typed answers about what is in flight on an OpenCode server: the status of busy sessions
(`GET /session/status`) and pending permission and question requests (`GET /permission`,
`GET /question`, the same shapes as the `permission.asked` and `question.asked` events).

Each type's `from_json` is its one parser; missing optional fields read as defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kimaki_tui.opencode import fields as f
from kimaki_tui.opencode.fields import JSON


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionStatusInfo:
    """`type` is "busy", "retry" or "idle"; a retry says which attempt, why, and when (ms)."""

    type: str = "busy"
    attempt: int = 0
    message: str = ""
    next: int = 0

    @classmethod
    def from_json(cls, data: object) -> SessionStatusInfo:
        raw = f.as_json(data)
        return cls(
            type=f.text(raw, "type") or "busy",
            attempt=f.integer(raw, "attempt"),
            message=f.text(raw, "message"),
            next=f.integer(raw, "next"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCallRef:
    """The tool call a request belongs to."""

    message_id: str = ""
    call_id: str = ""

    @classmethod
    def from_json(cls, data: object) -> ToolCallRef | None:
        raw = f.as_json(data)
        if not raw:
            return None
        return cls(message_id=f.text(raw, "messageID"), call_id=f.text(raw, "callID"))


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingPermission:
    """A tool waiting for approval. `permission` names it (bash, edit, external_directory...);
    `always` holds the patterns an "always" reply would allow. `raw` is the request as sent, so it
    can be replayed through the event parser exactly as a `permission.asked` event."""

    id: str
    session_id: str
    permission: str = ""
    patterns: tuple[str, ...] = ()
    metadata: JSON = field(default_factory=dict)
    always: tuple[str, ...] = ()
    tool: ToolCallRef | None = None
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: object) -> PendingPermission:
        raw = f.as_json(data)
        return cls(
            id=f.text(raw, "id"),
            session_id=f.text(raw, "sessionID"),
            permission=f.text(raw, "permission"),
            patterns=f.strings(raw, "patterns"),
            metadata=f.obj(raw, "metadata"),
            always=f.strings(raw, "always"),
            tool=ToolCallRef.from_json(raw.get("tool")),
            raw=raw,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionOption:
    label: str
    description: str = ""

    @classmethod
    def from_json(cls, data: object) -> QuestionOption:
        raw = f.as_json(data)
        return cls(label=f.text(raw, "label"), description=f.text(raw, "description"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Question:
    """One question: `multiple` allows several options, `custom` a typed answer."""

    question: str
    header: str = ""
    options: tuple[QuestionOption, ...] = ()
    multiple: bool = False
    custom: bool = True

    @classmethod
    def from_json(cls, data: object) -> Question:
        raw = f.as_json(data)
        return cls(
            question=f.text(raw, "question"),
            header=f.text(raw, "header"),
            options=tuple(QuestionOption.from_json(o) for o in f.objects(raw, "options")),
            multiple=f.flag(raw, "multiple"),
            custom=raw.get("custom") is not False,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingQuestion:
    """The question tool waiting for answers. `raw` is the request as sent (see PendingPermission)."""

    id: str
    session_id: str
    questions: tuple[Question, ...] = ()
    tool: ToolCallRef | None = None
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: object) -> PendingQuestion:
        raw = f.as_json(data)
        return cls(
            id=f.text(raw, "id"),
            session_id=f.text(raw, "sessionID"),
            questions=tuple(Question.from_json(q) for q in f.objects(raw, "questions")),
            tool=ToolCallRef.from_json(raw.get("tool")),
            raw=raw,
        )
