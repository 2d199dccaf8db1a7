"""One session up close: the live transcript, a prompt box, abort, and the queue.

A message typed here goes through `conversations.say` like a Discord message (signed "control
center", origin "control-center", so the bot can mark it in the thread): it answers the question
waiting in the session, if any, else it is the next prompt. History older than this run is loaded
once from OpenCode; everything else arrives live from the bridge.
"""

from __future__ import annotations

import logging
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Static

from kimaki_tui.core.api import ConversationView
from kimaki_tui.core.events import DomainEvent, ToolRequest
from kimaki_tui.core.prompts import PromptInput
from kimaki_tui.opencode.errors import OpenCodeError
from kimaki_tui.presentation.render import Verbosity
from kimaki_tui.screens.base import KimakiScreen
from kimaki_tui.screens.format import project_name, status_text, tokens
from kimaki_tui.screens.history import history_entries
from kimaki_tui.screens.messages import AbortSession
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.screens.transcript import TranscriptBook
from kimaki_tui.screens.widgets.queue_table import QueueTable
from kimaki_tui.screens.widgets.tool_request_form import ToolRequestForm, answer
from kimaki_tui.screens.widgets.transcript_view import TranscriptView

log = logging.getLogger(__name__)
HISTORY_LIMIT = 200
OUTCOMES = {
    "answered": "Answered the question the session was waiting on.",
    "queued": "Queued at position {position}: it is sent when the current turn ends.",
    "interrupting": "Queued at position {position}: the running turn is interrupted for it.",
}


class SessionScreen(KimakiScreen):
    NAV = "dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Leave the message box; else back to the dashboard"),
        Binding("m", "message", "Message", tooltip="Type a message to this session (Enter sends)"),
        Binding("c", "copy", "Copy", tooltip="Copy the selected block (↑/↓), else the transcript (OSC 52)"),
        Binding("ctrl+b", "abort", "Abort", tooltip="Abort the running turn (pending approvals are denied)"),
        # Priority: the prompt box would take these keys to scroll itself.
        Binding("pageup", "scroll(-1)", "Up", tooltip="Scroll the transcript up", priority=True),
        Binding("pagedown", "scroll(1)", "Down", tooltip="Scroll the transcript down", priority=True),
    ]

    def __init__(self, model: ControlCenterModel, book: TranscriptBook, thread_id: str) -> None:
        super().__init__(model)
        self.book = book
        self.thread_id = thread_id
        self._shown_verbosity: Verbosity | None = None

    @property
    def conversation(self) -> ConversationView | None:
        return next((v for v in self.app_state.sessions if v.thread_id == self.thread_id), None)

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        self.header = Static(id="session-header")
        yield self.header
        self.tool_requests = Vertical(id="session-tool-requests")
        yield self.tool_requests
        with Horizontal(id="session-body"):
            self.transcript = TranscriptView(self.palette, id="transcript")
            yield self.transcript
            with Vertical(id="queue-panel") as self.queue_panel:
                self.queue_table = QueueTable(id="queue")
                yield self.queue_table
                self.queue_empty = Static("Nothing queued.", id="queue-empty")
                yield self.queue_empty
        self.prompt = Input(
            placeholder="Message this session — Enter sends (it shows in Discord too)", id="prompt"
        )
        yield self.prompt
        yield Footer()

    def on_mount(self) -> None:
        # Not the message box: the digits of the nav bar must switch screens, not type.
        self.transcript.focus()
        self.watch(self.app, "sessions", lambda _: self._show_header())
        self.watch(self.app, "queues", lambda _: self._show_queue())
        self.watch(self.app, "requests", lambda _: self._show_tool_requests())
        view = self.conversation
        if view is not None and view.session_id and self.book.needs_history(view.session_id):
            self._load_history(view.session_id)

    def sync(self) -> None:
        self._show_header()
        self._show_tool_requests()
        self._show_queue()
        self._show_transcript()

    def apply_events(self, events: tuple[object, ...], *, visible: bool = True) -> None:
        """The transcript follows the app's transcript book (the header and queue watch the state)."""
        if visible and any(isinstance(e, DomainEvent) and e.thread_id == self.thread_id for e in events):
            self._show_transcript()

    # ---- drawing ----------------------------------------------------------------------------
    def _show_header(self) -> None:
        snap = self.conversation
        header = self.header
        if snap is None:
            header.update(Text(f"thread {self.thread_id} is no longer mapped to a session", style="bold"))
            return
        text = Text(project_name(snap.directory), style="bold")
        text.append(f"  {snap.title or 'thread ' + snap.thread_id}  ")
        text.append_text(status_text(snap.state, self.palette))
        details = [d for d in (self._model_text(snap), snap.agent) if d]
        if snap.tokens:
            details.append(f"{tokens(snap.tokens)} tokens")
        details.append(snap.directory)
        text.append("   " + " · ".join(details), style=self.palette.muted)
        header.update(text)

    def _model_text(self, snap: ConversationView) -> str:
        """The last turn's model (or, before one, the model chosen for the next prompt) and the
        thinking level the next prompt asks for, when one was chosen."""
        preferences = self.model.core.preferences
        channel, thread = snap.channel_id, snap.thread_id
        model = snap.model or preferences.current("model", channel_id=channel, thread_id=thread)
        level = preferences.variant(channel_id=channel, thread_id=thread)
        if level is None:
            return model or ""
        return f"{model or 'default model'} · thinking {level}"

    def _show_tool_requests(self) -> None:
        """The agent's buttons or file request waiting in this session, answerable here."""
        waiting = [
            r for r in self.app_state.requests if isinstance(r, ToolRequest) and r.thread_id == self.thread_id
        ]
        panel = self.tool_requests
        if [f.request for f in panel.query(ToolRequestForm)] != waiting:
            panel.remove_children()
            panel.mount_all(ToolRequestForm(r) for r in waiting)
        panel.display = bool(waiting)

    @on(ToolRequestForm.Chosen)
    def _chosen(self, event: ToolRequestForm.Chosen) -> None:
        model = self.model
        result = answer(model.core.tool_requests, event, by=model.user_name, origin=model.origin)
        if result.ok:
            self.notify("Answer sent.", timeout=2)
        else:
            self.notify(result.message, severity="error" if result.status == "failed" else "warning")

    def _show_queue(self) -> None:
        items = self.app_state.queues.get(self.thread_id)
        if items is None:  # no change seen in this run yet: what the core holds
            conversations = self.model.core.conversations
            items = conversations.queue(self.thread_id) if conversations.get(self.thread_id) else ()
        table = self.queue_table
        table.show(items)
        self.queue_panel.border_title = f"Queue ({len(items)})" if items else "Queue"
        table.display = bool(items)
        self.queue_empty.display = not items

    def _show_transcript(self, *, rebuild: bool = False) -> None:
        view = self.conversation
        verbosity = self._verbosity(view)
        # Entries that come back into view belong between others: rebuild in order.
        rebuild = rebuild or verbosity != self._shown_verbosity
        self._shown_verbosity = verbosity
        entries = self.book.entries(view.session_id if view else None, verbosity)
        self.transcript.show(entries, rebuild=rebuild)

    def _verbosity(self, view: ConversationView | None) -> Verbosity:
        """The verbosity of the session's channel, as its Discord thread shows it."""
        default = self.model.settings.discord.verbosity
        if view is None:
            return default
        return self.model.core.preferences.verbosity(view.channel_id, default=default)

    @work(name="session-history", exclusive=True, group="history")
    async def _load_history(self, session_id: str) -> None:
        try:
            messages = await self.model.core.history.messages(self.thread_id, limit=HISTORY_LIMIT)
        except (LookupError, OpenCodeError) as exc:
            log.warning("could not load the history of %s: %s", session_id, exc)
            self.notify_failure("Could not load the earlier transcript", exc, severity="warning")
            return
        self.book.prepend_history(session_id, history_entries(messages))
        self._show_transcript(rebuild=True)

    # ---- actions ------------------------------------------------------------------------------
    @on(Input.Submitted, "#prompt")
    def _submit(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        event.input.clear()
        self._send(text)

    @work(name="send-prompt", group="prompt")
    async def _send(self, text: str) -> None:
        prompt = PromptInput(text, author_name=self.model.user_name, origin=self.model.origin)
        try:
            result = await self.model.core.conversations.say(self.thread_id, prompt)
        except (LookupError, OpenCodeError) as exc:
            self.notify_failure("Not sent", exc)
            return
        if result.outcome == "failed":
            self.notify(f"Not sent: {result.message}", severity="error")
        elif result.outcome in OUTCOMES:
            self.notify(OUTCOMES[result.outcome].format(position=result.position))
        self.sync()

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.transcript.focus()
        else:
            self.app.pop_screen()

    def action_copy(self) -> None:
        selected = self.transcript.selected_text()
        if selected is not None:
            self.app.copy_to_clipboard(selected)
            self.notify("Copied the selected block.", timeout=2)
            return
        view = self.conversation
        entries = self.book.entries(view.session_id if view else None, self._verbosity(view))
        self.app.copy_to_clipboard("\n\n".join(entry.text for entry in entries))
        self.notify(f"Copied the transcript ({len(entries)} blocks).", timeout=2)

    def action_message(self) -> None:
        self.prompt.focus()

    def action_scroll(self, pages: int) -> None:
        view = self.transcript
        view.scroll_page_down() if pages > 0 else view.scroll_page_up()

    def action_abort(self) -> None:
        self.post_message(AbortSession(self.thread_id))

    @on(QueueTable.Remove)
    def _remove(self, event: QueueTable.Remove) -> None:
        conversations = self.model.core.conversations
        if conversations.get(self.thread_id) is None:
            return
        if not conversations.remove_queued(self.thread_id, event.item_id):
            self.notify("That prompt already left the queue.", severity="warning")

    @on(QueueTable.Move)
    def _move(self, event: QueueTable.Move) -> None:
        conversations = self.model.core.conversations
        if conversations.get(self.thread_id) is not None:
            conversations.move_queued(self.thread_id, event.item_id, event.delta)
