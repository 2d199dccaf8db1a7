"""What a front end hands the core when someone asks something: the prompt and its context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class FileInput:
    """An attachment for OpenCode: `url` is a file:// path or a data: URL."""

    url: str
    mime: str
    filename: str

    def to_part(self) -> dict[str, Any]:
        return {"type": "file", "mime": self.mime, "filename": self.filename, "url": self.url}

    def to_json(self) -> dict[str, str]:
        return {"url": self.url, "mime": self.mime, "filename": self.filename}


@dataclass(frozen=True, slots=True)
class PromptInput:
    """One user message for a session. `origin` says which front end it came from;
    `external_message_id` is the front end's id of the message that carried it (a Discord message)."""

    text: str
    author_id: str = ""
    author_name: str = ""
    origin: str = "discord"
    files: tuple[FileInput, ...] = ()
    agent: str | None = None
    model: str | None = None
    external_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """What happened to a prompt: sent now, queued at a position, or held to interrupt."""

    outcome: Literal["sent", "queued", "interrupting", "failed"]
    position: int = 0
    message: str = ""


@dataclass(frozen=True, slots=True)
class SayResult:
    """What happened to a message typed in a conversation: it answered the question that was
    waiting ("answered"; `message` says why not when the answer failed), or it became a prompt."""

    outcome: Literal["answered", "sent", "queued", "interrupting", "failed"]
    position: int = 0
    message: str = ""
