"""The live transcript of every session, built from the core's domain events (no Textual here).

The core keeps no transcript, so the control center records one per session as events pass:
prompts, streamed text (updated in place by key as deltas arrive), tool lines, footers, errors and
approval notices. Tool lines and footers come from `kimaki_tui.presentation.render`, so the terminal
shows what Discord shows. Each session keeps its last `limit` entries.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from typing import Any, Literal

from kimaki_tui.core.events import (
    PartCompleted,
    PermissionAskedEvent,
    PermissionResolved,
    PromptDispatched,
    QuestionAskedEvent,
    QuestionResolved,
    SessionFailed,
    TextDelta,
    ToolStarted,
    TurnFinished,
)
from kimaki_tui.presentation.render import (
    Verbosity,
    render_footer,
    render_permission_outcome,
    render_tool_line,
    shows_detail,
)

EntryKind = Literal["user", "text", "reasoning", "tool", "footer", "error", "notice"]


@dataclass(slots=True)
class Entry:
    """One block of the transcript. `done` is False while text streams or a tool runs."""

    key: str
    kind: EntryKind
    text: str
    done: bool = True
    meta: str = ""  # the prompt's author for "user", "error" for a failed tool, "waiting" for asks
    tool: str = ""  # a tool entry's tool: the verbosity filter reads it


class TranscriptBook:
    def __init__(self, limit: int = 400) -> None:
        self._limit = limit
        self._sessions: dict[str, OrderedDict[str, Entry]] = {}
        self._ids = count(1)
        self._with_history: set[str] = set()

    def entries(self, session_id: str | None, verbosity: Verbosity = "tools_and_text") -> list[Entry]:
        """The session's entries that show at `verbosity` (the setting Discord's threads use)."""
        book = self._sessions.get(session_id or "")
        found = book.values() if book else ()
        return [e for e in found if shows_detail(e.kind, e.tool, verbosity)]

    def needs_history(self, session_id: str) -> bool:
        """True until the session's earlier messages were merged in (see `prepend_history`)."""
        return session_id not in self._with_history

    def prepend_history(self, session_id: str, history: list[Entry]) -> None:
        """Put entries loaded from OpenCode before the live ones.

        Parts seen live keep their live entry; a prompt seen live (keyed by arrival, not by
        OpenCode's part id) is recognised by its text.
        """
        self._with_history.add(session_id)
        live = self._sessions.get(session_id, OrderedDict())
        prompts = {e.text for e in live.values() if e.kind == "user"}
        merged: OrderedDict[str, Entry] = OrderedDict(
            (e.key, e) for e in history if e.key not in live and not (e.kind == "user" and e.text in prompts)
        )
        merged.update(live)
        self._sessions[session_id] = merged
        self._trim(merged)

    def apply(self, event: object) -> None:
        """Record `event` in its session's transcript (events that show nothing are ignored)."""
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    # ---- handlers ---------------------------------------------------------------------------
    def _put(self, session_id: str, entry: Entry) -> None:
        book = self._sessions.setdefault(session_id, OrderedDict())
        book[entry.key] = entry
        self._trim(book)

    def _get(self, session_id: str, key: str) -> Entry | None:
        book = self._sessions.get(session_id)
        return book.get(key) if book else None

    def _trim(self, book: OrderedDict[str, Entry]) -> None:
        while len(book) > self._limit:
            book.popitem(last=False)

    def _prompt(self, event: PromptDispatched) -> None:
        author = event.author or event.origin
        plain_origin = event.origin.replace("-", " ")
        meta = author if not event.origin or plain_origin in author else f"{author} · {event.origin}"
        self._put(event.session_id, Entry(f"prompt-{next(self._ids)}", "user", event.prompt, meta=meta))

    def _delta(self, event: TextDelta) -> None:
        entry = self._get(event.session_id, event.part_id)
        if entry is None:
            kind: EntryKind = "reasoning" if event.kind == "reasoning" else "text"
            self._put(event.session_id, Entry(event.part_id, kind, event.delta, done=False))
        elif not entry.done:
            entry.text += event.delta

    def _tool_started(self, event: ToolStarted) -> None:
        part = PartCompleted(event.session_id, event.part_id, "", "tool", tool=event.tool, input=event.input)
        entry = Entry(event.part_id, "tool", render_tool_line(part), done=False, tool=event.tool)
        self._put(event.session_id, entry)

    def _part(self, event: PartCompleted) -> None:
        if event.kind == "tool":
            entry = Entry(event.part_id, "tool", render_tool_line(event), tool=event.tool)
            entry.meta = "error" if event.status == "error" else ""
        else:
            entry = Entry(event.part_id, "reasoning" if event.kind == "reasoning" else "text", event.text)
        existing = self._get(event.session_id, event.part_id)
        if existing is not None:
            existing.kind, existing.text, existing.done, existing.meta = (
                entry.kind,
                entry.text,
                True,
                entry.meta,
            )
        else:
            self._put(event.session_id, entry)

    def _turn(self, event: TurnFinished) -> None:
        self._settle(event.session_id)
        if event.natural:
            footer = render_footer(event, show_default_agent=True)
            if footer:
                self._put(event.session_id, Entry(f"footer-{next(self._ids)}", "footer", footer))
        else:
            self._put(event.session_id, Entry(f"stop-{next(self._ids)}", "notice", "■ turn stopped"))

    def _settle(self, session_id: str) -> None:
        """A turn ended: nothing of it streams or runs any more."""
        for entry in self._sessions.get(session_id, OrderedDict()).values():
            entry.done = True

    def _failed(self, event: SessionFailed) -> None:
        text = f"✗ {event.name}: {event.message}"
        self._put(event.session_id, Entry(f"error-{next(self._ids)}", "error", text))

    def _permission_asked(self, event: PermissionAskedEvent) -> None:
        request = event.request
        text = f"⚠ **Permission needed** — {request.kind}: `{request.summary}`"
        self._put(event.session_id, Entry(f"ask-{request.request_id}", "notice", text, meta="waiting"))

    def _permission_resolved(self, event: PermissionResolved) -> None:
        outcome = render_permission_outcome(event.request, event.reply, event.by, event.expired)
        self._put(event.session_id, Entry(f"ask-{event.request.request_id}", "notice", outcome))

    def _question_asked(self, event: QuestionAskedEvent) -> None:
        questions = [str(q.get("question") or q.get("header") or "") for q in event.request.questions]
        text = "❓ **Question** — " + " / ".join(q for q in questions if q)
        self._put(event.session_id, Entry(f"ask-{event.request.request_id}", "notice", text, meta="waiting"))

    def _question_resolved(self, event: QuestionResolved) -> None:
        key = f"ask-{event.request.request_id}"
        entry = self._get(event.session_id, key)
        asked = entry.text if entry else "❓ Question"
        if event.answers is None:
            outcome = f"dismissed by {event.by}"
        else:
            outcome = "answered " + "; ".join(", ".join(group) for group in event.answers) + f" by {event.by}"
        self._put(event.session_id, Entry(key, "notice", f"{asked}\n{outcome}"))


_HANDLERS: dict[type, Callable[[TranscriptBook, Any], None]] = {
    PromptDispatched: TranscriptBook._prompt,
    TextDelta: TranscriptBook._delta,
    ToolStarted: TranscriptBook._tool_started,
    PartCompleted: TranscriptBook._part,
    TurnFinished: TranscriptBook._turn,
    SessionFailed: TranscriptBook._failed,
    PermissionAskedEvent: TranscriptBook._permission_asked,
    PermissionResolved: TranscriptBook._permission_resolved,
    QuestionAskedEvent: TranscriptBook._question_asked,
    QuestionResolved: TranscriptBook._question_resolved,
}
