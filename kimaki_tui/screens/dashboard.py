"""The dashboard: every session live (status, model, queue, tokens, activity) and the statuses,
with a preview of the selected session beside the table where there is room (160 columns) and
a strip of the latest activity (prompts, answers, approvals asked for, failures) below it.

It watches the app's `sessions`: a change redraws only the rows of the sessions that changed
(the whole table when sessions come or go); a clock moves the ages on. Enter opens a session,
`x` aborts its turn; `o` / `a` / `d` answer the permission the selected session waits on.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Static

from kimaki_tui.core.api import ConversationView
from kimaki_tui.core.events import DomainEvent, PermissionReply, PermissionRequest
from kimaki_tui.screens.base import KimakiScreen
from kimaki_tui.screens.confirm import ConfirmScreen
from kimaki_tui.screens.messages import AbortSession, OpenSession
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.screens.transcript import TranscriptBook
from kimaki_tui.screens.widgets.activity_strip import ActivityStrip
from kimaki_tui.screens.widgets.session_preview import SessionPreview
from kimaki_tui.screens.widgets.session_table import SessionTable, summary
from kimaki_tui.screens.widgets.status_bar import StatusBar

AGE_INTERVAL = 5.0
EMPTY = (
    "No sessions yet.\n\nSend a message in a project's Discord channel to start one, "
    "or press 4 to add a project."
)


class DashboardScreen(KimakiScreen):
    NAV = "dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "abort", "Abort turn", tooltip="Abort the selected session's running turn"),
        Binding("o", "approve('once')", "Once", tooltip="Allow the selected session's request once"),
        Binding("a", "approve('always')", "Always", tooltip="Allow requests like it from now on"),
        Binding("d", "approve('reject')", "Deny", tooltip="Deny the selected session's request"),
    ]

    def __init__(self, model: ControlCenterModel, book: TranscriptBook) -> None:
        super().__init__(model)
        # Made here, not in compose: the footer asks `check_action` (which reads it) that early.
        self.preview = SessionPreview(self.palette, book, model.clock, id="preview")
        self._answerable = False  # whether o / a / d have a request to answer (shown in the footer)

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        with Horizontal(id="dash-body") as self.body:
            self.table = SessionTable(self.palette, self.model.clock, id="sessions")
            self.table.border_title = "Sessions"
            yield self.table
            yield self.preview
        self.empty = Static(EMPTY, id="empty")
        yield self.empty
        self.activity = ActivityStrip(self.palette, self.model.clock, id="activity")
        yield self.activity
        yield StatusBar(self.palette)
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "sessions", self._show_sessions)
        self.watch(self.app, "requests", self._requests_changed)
        self.set_interval(AGE_INTERVAL, self._move_ages)

    def _show_sessions(
        self, before: tuple[ConversationView, ...], sessions: tuple[ConversationView, ...]
    ) -> None:
        """The app's sessions changed: rebuild when sessions came or went, else redraw the rows
        whose session changed (a hidden dashboard catches up when shown: `sync`)."""
        if not self.is_current and self.is_mounted and before:
            return
        table = self.table
        if {view.thread_id for view in sessions} != table.threads:
            table.rebuild(sessions)
        else:
            old = {view.thread_id: view for view in before}
            for view in sessions:
                prior = old.get(view.thread_id)
                if prior is not view and prior != view:  # most views are the same objects
                    table.update_row(view)
        self._summarise(sessions)

    def sync(self) -> None:
        self.table.rebuild(self.app_state.sessions)
        self._summarise(self.app_state.sessions)

    def _move_ages(self) -> None:
        if self.is_current:
            self.table.refresh_ages(self.app_state.sessions)
            self.activity.refresh_ages()

    def _summarise(self, sessions: tuple[ConversationView, ...]) -> None:
        table = self.table
        table.border_subtitle = summary(sessions)
        self.empty.display = not sessions
        self.body.display = bool(sessions)
        self.preview.thread_id = table.selected_thread

    @on(DataTable.RowHighlighted, "#sessions")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.preview.thread_id = event.row_key.value
        self._requests_changed()  # only redraws the footer when o / a / d come or go: it is not free

    def _requests_changed(self) -> None:
        answerable = isinstance(self.preview.request, PermissionRequest)
        if answerable != self._answerable:
            self._answerable = answerable
            self.refresh_bindings()

    def apply_events(self, events: tuple[object, ...], *, visible: bool = True) -> None:
        """The selected session's transcript moved: the preview shows its new last lines."""
        shown = self.preview.thread_id
        if (
            visible
            and self.preview.display
            and any(isinstance(e, DomainEvent) and e.thread_id == shown for e in events)
        ):
            self.preview.show()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "approve":
            return isinstance(self.preview.request, PermissionRequest)
        return True

    def action_approve(self, reply: PermissionReply) -> None:
        if isinstance(request := self.preview.request, PermissionRequest):
            self._answer(request.request_id, reply)

    @work(name="answer-permission", group="answers")
    async def _answer(self, request_id: str, reply: PermissionReply) -> None:
        model = self.model
        result = await model.core.approvals.answer_permission(
            request_id, reply, by=model.user_name, origin=model.origin
        )
        if result.ok:
            self.notify({"once": "Approved once.", "always": "Approved always.", "reject": "Denied."}[reply])
        else:
            self.notify(result.message or result.status.replace("_", " "), severity="warning")

    @on(DataTable.RowSelected, "#sessions")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.post_message(OpenSession(event.row_key.value))

    def action_abort(self) -> None:
        thread_id = self.table.selected_thread
        view = next((v for v in self.app_state.sessions if v.thread_id == thread_id), None)
        if view is None:
            return
        if not view.busy:
            self.notify("That session is not running a turn.", severity="information")
            return
        title = view.title or f"thread {view.thread_id}"

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.post_message(AbortSession(view.thread_id))

        self.app.push_screen(
            ConfirmScreen("Abort turn", f"Abort the running turn of “{title}”?", confirm="Abort"), answered
        )
