"""Typed OpenCode messages (`{info, parts}` from `GET /session/{id}/message`, prompts, shell and
command replies): who wrote it, with which model, what it cost, how it ended, and its parts.

`Message.from_json` is the one parser for a message; every place that reads a session's
history goes through it. Fields missing in older OpenCode (1.2.x) read as their defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kimaki_tui.opencode import fields as f
from kimaki_tui.opencode.parts import MessageError, Part, TextPart, Tokens, model_ref
from kimaki_tui.opencode.schema import ModelRef


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageInfo:
    """A user or assistant message's header. User messages name their model in `model`,
    assistant ones in `providerID`/`modelID`: both land in `provider_id`/`model_id` here."""

    id: str = ""
    session_id: str = ""
    role: str = ""  # "user" or "assistant"
    parent_id: str = ""  # assistant: the user message it answers
    agent: str = ""
    provider_id: str = ""
    model_id: str = ""
    created: int = 0
    completed: int | None = None  # assistant: set when the answer ended
    tokens: Tokens = field(default_factory=Tokens)
    cost: float = 0.0
    error: MessageError | None = None
    finish: str = ""  # assistant: the last step's reason ("stop", "tool-calls"...)
    mode: str = ""  # assistant: "compaction" for a summary
    summary: bool = False  # assistant: this answer is a compaction summary

    @property
    def is_user(self) -> bool:
        return self.role == "user"

    @property
    def is_assistant(self) -> bool:
        return self.role == "assistant"

    @property
    def model(self) -> ModelRef | None:
        return ModelRef(self.provider_id, self.model_id) if self.provider_id and self.model_id else None

    @property
    def finished(self) -> bool:
        """An assistant answer that completed or failed."""
        return self.is_assistant and bool(self.completed or self.error)

    @classmethod
    def from_json(cls, data: object) -> MessageInfo:
        raw = f.as_json(data)
        time = f.obj(raw, "time")
        user_model = model_ref(f.obj(raw, "model"))
        return cls(
            id=f.text(raw, "id"),
            session_id=f.text(raw, "sessionID"),
            role=f.text(raw, "role"),
            parent_id=f.text(raw, "parentID"),
            agent=f.text(raw, "agent"),
            provider_id=user_model.provider_id if user_model else f.text(raw, "providerID"),
            model_id=user_model.model_id if user_model else f.text(raw, "modelID"),
            created=f.integer(time, "created"),
            completed=f.optional_int(time, "completed"),
            tokens=Tokens.from_json(raw.get("tokens")),
            cost=f.number(raw, "cost"),
            error=MessageError.from_json(raw.get("error")),
            finish=f.text(raw, "finish"),
            mode=f.text(raw, "mode"),
            summary=raw.get("summary") is True,
        )


@dataclass(frozen=True, slots=True)
class Message:
    info: MessageInfo
    parts: tuple[Part, ...] = ()

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def role(self) -> str:
        return self.info.role

    def text_parts(self) -> list[TextPart]:
        return [part for part in self.parts if isinstance(part, TextPart)]

    @classmethod
    def from_json(cls, data: object) -> Message:
        raw = f.as_json(data)
        parts = tuple(Part.from_json(part) for part in f.objects(raw, "parts"))
        return cls(MessageInfo.from_json(raw.get("info")), parts)
