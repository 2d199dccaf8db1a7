"""Typed parts of an OpenCode message: text, reasoning, tool calls, steps, files, patches...

`Part.from_json` is the one parser for a part: it picks the class by `type` and reads every
field tolerantly (a field missing in older OpenCode reads as its default). A kind this module
does not know becomes an `UnknownPart` holding its JSON, never an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kimaki_tui.opencode import fields as f
from kimaki_tui.opencode.fields import JSON
from kimaki_tui.opencode.schema import ModelRef


@dataclass(frozen=True, slots=True, kw_only=True)
class Tokens:
    """Token counts of a step or a whole answer; `total` is OpenCode's when it sends one."""

    input: int = 0
    output: int = 0
    reasoning: int = 0
    cache_read: int = 0
    cache_write: int = 0
    total: int = 0

    @classmethod
    def from_json(cls, data: object) -> Tokens:
        raw = f.as_json(data)
        cache = f.obj(raw, "cache")
        counts = {k: f.integer(raw, k) for k in ("input", "output", "reasoning")}
        read, write = f.integer(cache, "read"), f.integer(cache, "write")
        total = f.integer(raw, "total") or sum(counts.values()) + read + write
        return cls(**counts, cache_read=read, cache_write=write, total=total)


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageError:
    """An error OpenCode attached to an answer: `name` (MessageAbortedError, APIError...) and text."""

    name: str = "Error"
    message: str = ""
    retryable: bool = False

    @classmethod
    def from_json(cls, data: object) -> MessageError | None:
        if not data:
            return None
        if not isinstance(data, Mapping):
            return cls(name=str(data))
        details = f.obj(data, "data")
        return cls(
            name=f.text(data, "name") or "Error",
            message=f.text(details, "message") or f.text(data, "message"),
            retryable=f.flag(details, "isRetryable"),
        )

    def __str__(self) -> str:
        return f"{self.name}: {self.message}" if self.message else self.name


@dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    """Fields every part has. `type` is OpenCode's part type."""

    type: str = ""
    id: str = ""
    session_id: str = ""
    message_id: str = ""

    @staticmethod
    def from_json(data: object) -> Part:
        raw = f.as_json(data)
        kind = f.text(raw, "type")
        common: dict[str, Any] = {
            "id": f.text(raw, "id"),
            "session_id": f.text(raw, "sessionID"),
            "message_id": f.text(raw, "messageID"),
        }
        build = _BUILDERS.get(kind)
        if build is None:
            return UnknownPart(type=kind, data=raw, **common)
        return build(raw, common)


@dataclass(frozen=True, slots=True, kw_only=True)
class TextPart(Part):
    type: str = "text"
    text: str = ""
    synthetic: bool = False  # added by OpenCode or kimaki (file reads, reminders), not typed
    ignored: bool = False
    started: int | None = None
    ended: int | None = None  # None while streaming (or when a step ended early)

    @property
    def typed(self) -> bool:
        """Text a person or the model wrote (not synthetic context, not ignored)."""
        return not self.synthetic and not self.ignored


@dataclass(frozen=True, slots=True, kw_only=True)
class ReasoningPart(Part):
    type: str = "reasoning"
    text: str = ""
    started: int | None = None
    ended: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolState:
    """`status` goes pending → running → completed | error."""

    status: str = ""
    input: JSON = field(default_factory=dict)
    output: str = ""
    title: str = ""
    error: str = ""
    metadata: JSON = field(default_factory=dict)
    started: int | None = None
    ended: int | None = None

    @classmethod
    def from_json(cls, data: object) -> ToolState:
        raw = f.as_json(data)
        time = f.obj(raw, "time")
        return cls(
            status=f.text(raw, "status"),
            input=f.obj(raw, "input"),
            output=f.text(raw, "output"),
            title=f.text(raw, "title"),
            error=f.text(raw, "error"),
            metadata=f.obj(raw, "metadata"),
            started=f.optional_int(time, "start"),
            ended=f.optional_int(time, "end"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolPart(Part):
    type: str = "tool"
    call_id: str = ""
    tool: str = ""
    state: ToolState = field(default_factory=ToolState)


@dataclass(frozen=True, slots=True, kw_only=True)
class StepStartPart(Part):
    type: str = "step-start"
    snapshot: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class StepFinishPart(Part):
    """The end of one model call: why it stopped ("stop", "tool-calls"...), its tokens and cost."""

    type: str = "step-finish"
    reason: str = ""
    snapshot: str = ""
    cost: float = 0.0
    tokens: Tokens = field(default_factory=Tokens)


@dataclass(frozen=True, slots=True, kw_only=True)
class FilePart(Part):
    type: str = "file"
    mime: str = ""
    filename: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PatchPart(Part):
    """Files a step changed (`hash` is the snapshot before the change)."""

    type: str = "patch"
    hash: str = ""
    files: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotPart(Part):
    type: str = "snapshot"
    snapshot: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CompactionPart(Part):
    """Marks the user message that asked for a summary (`auto`: OpenCode compacted on its own)."""

    type: str = "compaction"
    auto: bool = False
    overflow: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SubtaskPart(Part):
    type: str = "subtask"
    prompt: str = ""
    description: str = ""
    agent: str = ""
    model: ModelRef | None = None
    command: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentPart(Part):
    """An @agent mention in a user message."""

    type: str = "agent"
    name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPart(Part):
    type: str = "retry"
    attempt: int = 0
    error: MessageError | None = None
    created: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownPart(Part):
    """A part type this module does not model; `data` is its JSON as sent."""

    data: JSON = field(default_factory=dict)


def model_ref(data: JSON) -> ModelRef | None:
    """`{providerID, modelID}` as a ModelRef (None unless both are set)."""
    provider, model = f.text(data, "providerID"), f.text(data, "modelID")
    return ModelRef(provider, model) if provider and model else None


def _text(raw: JSON, common: dict[str, Any]) -> Part:
    time = f.obj(raw, "time")
    return TextPart(
        text=f.text(raw, "text"),
        synthetic=f.flag(raw, "synthetic"),
        ignored=f.flag(raw, "ignored"),
        started=f.optional_int(time, "start"),
        ended=f.optional_int(time, "end"),
        **common,
    )


def _reasoning(raw: JSON, common: dict[str, Any]) -> Part:
    time = f.obj(raw, "time")
    return ReasoningPart(
        text=f.text(raw, "text"),
        started=f.optional_int(time, "start"),
        ended=f.optional_int(time, "end"),
        **common,
    )


def _tool(raw: JSON, common: dict[str, Any]) -> Part:
    state = ToolState.from_json(raw.get("state"))
    return ToolPart(call_id=f.text(raw, "callID"), tool=f.text(raw, "tool"), state=state, **common)


def _step_finish(raw: JSON, common: dict[str, Any]) -> Part:
    return StepFinishPart(
        reason=f.text(raw, "reason"),
        snapshot=f.text(raw, "snapshot"),
        cost=f.number(raw, "cost"),
        tokens=Tokens.from_json(raw.get("tokens")),
        **common,
    )


def _file(raw: JSON, common: dict[str, Any]) -> Part:
    return FilePart(
        mime=f.text(raw, "mime"), filename=f.text(raw, "filename"), url=f.text(raw, "url"), **common
    )


def _subtask(raw: JSON, common: dict[str, Any]) -> Part:
    return SubtaskPart(
        prompt=f.text(raw, "prompt"),
        description=f.text(raw, "description"),
        agent=f.text(raw, "agent"),
        model=model_ref(f.obj(raw, "model")),
        command=f.text(raw, "command"),
        **common,
    )


def _retry(raw: JSON, common: dict[str, Any]) -> Part:
    created = f.integer(f.obj(raw, "time"), "created")
    error = MessageError.from_json(raw.get("error"))
    return RetryPart(attempt=f.integer(raw, "attempt"), error=error, created=created, **common)


_BUILDERS: dict[str, Callable[[JSON, dict[str, Any]], Part]] = {
    "text": _text,
    "reasoning": _reasoning,
    "tool": _tool,
    "step-start": lambda raw, common: StepStartPart(snapshot=f.text(raw, "snapshot"), **common),
    "step-finish": _step_finish,
    "file": _file,
    "patch": lambda raw, common: PatchPart(hash=f.text(raw, "hash"), files=f.strings(raw, "files"), **common),
    "snapshot": lambda raw, common: SnapshotPart(snapshot=f.text(raw, "snapshot"), **common),
    "compaction": lambda raw, common: CompactionPart(
        auto=f.flag(raw, "auto"), overflow=f.flag(raw, "overflow"), **common
    ),
    "subtask": _subtask,
    "agent": lambda raw, common: AgentPart(name=f.text(raw, "name"), **common),
    "retry": _retry,
}
