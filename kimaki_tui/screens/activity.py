"""The dashboard's activity feed: the core events a person keeping an eye on kimaki cares about
(a prompt sent, an answer finished, a request for approval, an abort, a failure), each as one line.

Pure: `activity_of` turns one event into a line, naming the session by its title (or its
project); the app keeps the newest `ACTIVITY_LIMIT` in its state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from kimaki_tui.core.events import (
    PermissionAskedEvent,
    PromptDispatched,
    QuestionAskedEvent,
    SessionFailed,
    TurnAborted,
    TurnFinished,
)
from kimaki_tui.screens.format import clip, tokens

ACTIVITY_LIMIT = 50
Level = Literal["info", "warning", "error"]
SessionName = Callable[[str], str]
"""A session's name for a thread id (its title, else its project)."""


@dataclass(frozen=True, slots=True)
class ActivityLine:
    at: float  # when it happened (epoch seconds)
    thread_id: str
    text: str
    level: Level = "info"


def activity_of(event: object, name: SessionName, now: float) -> ActivityLine | None:
    """The line `event` adds to the feed, None when it is not one a person follows."""
    text, level = _describe(event)
    if text is None:
        return None
    thread_id = str(getattr(event, "thread_id", ""))
    return ActivityLine(now, thread_id, f"{name(thread_id)}: {text}", level)


def _describe(event: object) -> tuple[str | None, Level]:
    if isinstance(event, PromptDispatched):
        source = "the queue" if event.from_queue else event.author or event.origin
        return f"prompt from {source} — “{clip(event.prompt, 60)}”", "info"
    if isinstance(event, TurnFinished):
        if not event.natural:  # an abort, a failure or an interruption: said by its own line
            return None, "info"
        return f"answered in {event.duration_s:.1f} s · {tokens(event.tokens_total)} tokens", "info"
    if isinstance(event, TurnAborted):
        return f"aborted by {event.by or event.origin}", "info"
    if isinstance(event, PermissionAskedEvent):
        what = clip(" ".join(event.request.patterns), 50)
        return f"waits for approval: {event.request.kind}" + (f" {what}" if what else ""), "warning"
    if isinstance(event, QuestionAskedEvent):
        return "asks you a question", "warning"
    if isinstance(event, SessionFailed):
        return f"failed — {clip(event.message or event.name, 80)}", "error"
    return None, "info"
