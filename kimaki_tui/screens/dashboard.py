"""The dashboard: every session live (status, model, queue, tokens, activity) and the statuses.

Events update only the rows of the sessions they concern; a timer resyncs (ages move on, and
a thread may be opened before its session sends anything). Enter opens a session, `x` aborts its turn.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from kimaki_tui.core.events import (
    PromptDispatched,
    QueueChanged,
    SessionFailed,
    StatusChanged,
    TitleChanged,
    TurnFinished,
)
from kimaki_tui.screens.base import APPROVAL_EVENTS, KimakiScreen
from kimaki_tui.screens.confirm import ConfirmScreen
from kimaki_tui.screens.messages import AbortSession, OpenSession
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.screens.widgets.session_table import SessionTable
from kimaki_tui.screens.widgets.status_bar import StatusBar

AGE_INTERVAL = 5.0
# Events that change a row's cells; token deltas and parts only move the age.
ROW_EVENTS = (
    QueueChanged,
    PromptDispatched,
    StatusChanged,
    TurnFinished,
    TitleChanged,
    SessionFailed,
    *APPROVAL_EVENTS,
)
EMPTY = (
    "No sessions yet.\n\nSend a message in a project's Discord channel to start one, "
    "or press 4 to add a project."
)


class DashboardScreen(KimakiScreen):
    NAV = "dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "abort", "Abort turn", tooltip="Abort the selected session's running turn"),
    ]

    def __init__(self, model: ControlCenterModel) -> None:
        super().__init__(model)
        self._dirty: set[str] = set()  # threads whose rows changed since the last sync

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        table = SessionTable(self.palette, self.model.clock, id="sessions")
        table.border_title = "Sessions"
        yield table
        yield Static(EMPTY, id="empty")
        yield StatusBar(self.palette, self.model.scheduler_status)
        yield Footer()

    @property
    def table(self) -> SessionTable:
        return self.query_one(SessionTable)

    def on_mount(self) -> None:
        # Ages move on, and a thread can be opened before any event of its session arrives.
        self.set_interval(AGE_INTERVAL, self.sync)

    def sync(self) -> None:
        """Rebuild when sessions came or went; else redraw the touched rows and the ages.

        Only rows whose conversation had a state-changing event are redrawn; the others only
        move their age on.
        """
        views = self.model.core.conversations.all()
        table = self.table
        if {view.thread_id for view in views} != table.threads:
            table.rebuild(views)
        else:
            for view in views:
                if view.thread_id in self._dirty:
                    table.update_row(view)
            table.refresh_ages(views)
        self._dirty.clear()
        self._summarise()
        self.query_one(StatusBar).show_scheduler(self.model.scheduler_status)

    def apply_events(self, events: tuple[object, ...], *, visible: bool = True) -> None:
        for event in events:
            if isinstance(event, ROW_EVENTS) and event.thread_id:
                self._dirty.add(event.thread_id)
        if visible and self._dirty:
            self._sync_dirty()

    def _sync_dirty(self) -> None:
        """Redraw only the touched rows: reading every session's view costs O(sessions), too much
        for each batch of events with thousands of sessions (the timer's `sync` does the rest)."""
        conversations, table = self.model.core.conversations, self.table
        views = [conversations.get(thread_id) for thread_id in self._dirty]
        if any(view is None or not table.shows(view.thread_id) for view in views):
            self.sync()  # a session came or went
            return
        for view in views:
            if view is not None:
                table.update_row(view)
        self._dirty.clear()
        self._summarise()

    def _summarise(self) -> None:
        table = self.table
        table.border_subtitle = table.summary()
        self.query_one("#empty").display = table.row_count == 0

    @on(DataTable.RowSelected, "#sessions")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.post_message(OpenSession(event.row_key.value))

    def action_abort(self) -> None:
        thread_id = self.table.selected_thread
        view = self.model.core.conversations.get(thread_id) if thread_id else None
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
