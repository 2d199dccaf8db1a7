"""Sandboxed threads: each thread's sandbox and whether it runs, is paused or was destroyed.

Opened from the Projects screen (key b) or the command palette. The states are the core's
(`core.sandboxes.rows`, read from the processes and folders themselves), re-read every few
seconds in a named worker: a sandbox pauses or is destroyed without anyone asking.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from kimaki_tui.core.api import SandboxRow
from kimaki_tui.screens.base import KimakiScreen
from kimaki_tui.screens.format import clip, home_relative

OFF = (
    "Sandbox mode is off: every thread runs on the one OpenCode server. Install bubblewrap "
    "(apt-get install bubblewrap), then start kimaki with --sandbox bwrap or use /sandbox bwrap in a channel."
)
NONE = (
    "No sandboxed threads yet: new threads get one in channels set with /sandbox bwrap, or everywhere "
    "with --sandbox bwrap."
)
STYLES = {"running": "green", "paused": "yellow", "destroyed": "dim"}
REREAD_SECONDS = 2.0


class SandboxesScreen(KimakiScreen):
    NAV = "projects"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", tooltip="Back to the projects"),
    ]

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        self.table: DataTable[Text] = DataTable(id="sandboxes", cursor_type="row", zebra_stripes=True)
        self.table.border_title = "Sandboxes"
        yield self.table
        self.empty = Static(NONE, id="no-sandboxes")
        yield self.empty
        yield Footer()

    def on_mount(self) -> None:
        table = self.table
        table.add_column("Thread", key="thread", width=20)
        table.add_column("State", key="state", width=10)
        table.add_column("Worktree", key="worktree", width=60)
        if not self.model.core.sandboxes.available:
            self.empty.update(OFF)
            table.display = False
            return
        self.reread()
        self.set_interval(REREAD_SECONDS, self.reread)

    @work(name="read-sandboxes", exclusive=True, group="sandboxes")
    async def reread(self) -> None:
        self.show(await self.model.core.sandboxes.rows())

    def show(self, rows: list[SandboxRow]) -> None:
        table = self.table
        cursor = table.cursor_row
        table.clear()
        for row in rows:
            table.add_row(
                Text(row.thread_id, style="bold"),
                Text(row.state, style=STYLES.get(row.state, "")),
                Text(clip(home_relative(row.directory), 60), style="dim"),
                key=row.key,
            )
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))
        running = sum(1 for row in rows if row.state == "running")
        paused = sum(1 for row in rows if row.state == "paused")
        table.border_subtitle = f"{running} running · {paused} paused · {len(rows)} in all"
        self.empty.display = table.row_count == 0
