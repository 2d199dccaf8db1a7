"""The dashboard's preview of the selected session: its last transcript lines and, when it waits
for a person, the request with the keys that answer it in place (o / a / d).

It is told which session is selected (`thread_id`, set by the dashboard as the cursor moves) and
reads everything else from the app's state (`sessions`, `requests`) and transcript book; it
keeps no copy of session data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from kimaki_tui.core.api import ConversationView
from kimaki_tui.core.events import PermissionRequest, ToolRequest
from kimaki_tui.screens.format import Palette, clip, elapsed, inline_markdown, project_name, status_text
from kimaki_tui.screens.state import AppState, Request
from kimaki_tui.screens.transcript import Entry, TranscriptBook

LAST_ENTRIES = 8
LINES_PER_ENTRY = 3
_PREFIX = {"user": "» ", "tool": "", "footer": "", "error": "✗ ", "notice": "", "reasoning": "… "}


def entry_lines(entry: Entry, width: int, palette: Palette) -> Text:
    """An entry as its last few lines, clipped to the pane (the preview, not the transcript):
    markdown's inline marks rendered, code fences left out."""
    lines = [
        line
        for line in entry.text.strip().splitlines()
        if line.strip() and not line.lstrip().startswith("```")
    ][-LINES_PER_ENTRY:]
    style = {
        "user": "bold",
        "tool": palette.accent,
        "footer": f"italic {palette.muted}",
        "reasoning": f"italic {palette.muted}",
        "error": palette.error,
        "notice": palette.muted,
    }.get(entry.kind, "")
    prefix = _PREFIX.get(entry.kind, "")
    shown = Text()
    for number, line in enumerate(lines):
        text = inline_markdown(
            prefix + line.strip("*") if entry.kind == "footer" else prefix + line, base_style=style
        )
        text.truncate(width, overflow="ellipsis")
        if number:
            shown.append("\n")
        shown.append_text(text)
    return shown


def request_text(request: Request, palette: Palette) -> Text:
    text = Text("\n")
    if isinstance(request, PermissionRequest):
        text.append(f"⚠ Permission — {request.kind}: {request.summary}\n", style=f"bold {palette.waiting}")
        text.append("o approve once · a always · d deny", style=palette.muted)
    elif isinstance(request, ToolRequest):
        text.append(
            f"? The agent asks: {request.prompt} — answer it on Approvals (2)",
            style=f"bold {palette.waiting}",
        )
    else:
        text.append("? A question waits — answer it on Approvals (2)", style=f"bold {palette.waiting}")
    return text


class SessionPreview(Widget):
    """What the selected session is doing, at a glance. Its size is fixed by the layout, so a
    redraw (as the cursor moves) repaints it without laying the screen out again."""

    thread_id: reactive[str | None] = reactive(None)

    def __init__(
        self, palette: Palette, book: TranscriptBook, clock: Callable[[], float], *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._palette = palette
        self._book = book
        self._clock = clock
        self._body = Text()

    def render(self) -> Text:
        return self._body

    def _draw(self, body: Text) -> None:
        self._body = body
        self.refresh()

    def on_mount(self) -> None:
        self.watch(self.app, "sessions", self.show)
        self.watch(self.app, "requests", self.show)

    def watch_thread_id(self) -> None:
        self.show()

    def on_resize(self) -> None:
        self.show()  # shown again (the terminal widened): draw what is selected now

    @property
    def conversation(self) -> ConversationView | None:
        return next((v for v in cast(AppState, self.app).sessions if v.thread_id == self.thread_id), None)

    @property
    def request(self) -> Request | None:
        """The oldest request of the selected session that waits for a person."""
        view = self.conversation
        if view is None or view.session_id is None:
            return None
        mine = [r for r in cast(AppState, self.app).requests if r.session_id == view.session_id]
        return mine[-1] if mine else None

    def show(self) -> None:
        """Redraw from the state (the dashboard also calls it when the session's transcript moved);
        nothing to do while the pane is hidden (narrower than 160 columns)."""
        if not self.display:
            return
        view = self.conversation
        if view is None:
            self.border_title = "Preview"
            self._draw(Text("Select a session to see what it is doing.", style=self._palette.muted))
            return
        self.border_title = clip(f"{project_name(view.directory)} · {view.title or view.thread_id}", 36)
        width = max(10, self.content_region.width or 36)
        body = status_text(view.state, self._palette)
        if view.busy_since is not None and view.state == "busy":
            body.append(f" for {elapsed(self._clock() - view.busy_since)}", style=self._palette.muted)
        # A waiting notice is shown below as the request itself, with its keys.
        entries = [e for e in self._book.entries(view.session_id) if e.meta != "waiting"]
        for entry in entries[-LAST_ENTRIES:]:
            body.append("\n")
            body.append_text(entry_lines(entry, width, self._palette))
        if (request := self.request) is not None:
            body.append_text(request_text(request, self._palette))
        self._draw(body)
