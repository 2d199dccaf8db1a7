"""Discord servers: the ones the bot is in, whether kimaki serves them, and allow / deny.

Opened from the Projects screen (key s) or the command palette. The rule and the decisions are
the core's (kimaki_tui.core.guilds); the bot follows a decision at once (commands appear in an
allowed server and disappear from a denied one).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from kimaki_tui.core.events import GuildAccessChanged
from kimaki_tui.core.guilds import reason
from kimaki_tui.screens.base import KimakiScreen
from kimaki_tui.screens.format import clip

NONE = "No servers yet: the bot lists each server it is in once it has connected to Discord."
STYLES = {"allowed": "green", "pending": "bold yellow", "denied": "red"}


class ServersScreen(KimakiScreen):
    NAV = "projects"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "decide('allowed')", "Allow", tooltip="Serve this server"),
        Binding("d", "decide('denied')", "Deny", tooltip="Never serve this server"),
        Binding("escape", "app.pop_screen", "Back", tooltip="Back to the projects"),
    ]

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        self.table: DataTable[Text] = DataTable(id="servers", cursor_type="row", zebra_stripes=True)
        self.table.border_title = "Discord servers"
        yield self.table
        self.empty = Static(NONE, id="no-servers")
        yield self.empty
        yield Footer()

    def on_mount(self) -> None:
        table = self.table
        table.add_column("Server", key="name", width=30)
        table.add_column("Id", key="id", width=20)
        table.add_column("Status", key="status", width=9)
        table.add_column("Why", key="why", width=44)
        self.sync()

    def sync(self) -> None:
        table = self.table
        row = table.cursor_row
        table.clear()
        records = self.model.core.guilds.records()
        for record in records:
            table.add_row(
                Text(clip(record.name or "(not seen yet)", 30), style="bold"),
                Text(record.guild_id, style="dim"),
                Text(record.status, style=STYLES.get(record.status, "")),
                Text(clip(reason(record), 44)),
                key=record.guild_id,
            )
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        pending = sum(1 for record in records if record.status == "pending")
        table.border_subtitle = f"{len(records)} servers · {pending} waiting for you"
        self.empty.display = table.row_count == 0

    def apply_events(self, events: tuple[object, ...], *, visible: bool = True) -> None:
        if visible and any(isinstance(event, GuildAccessChanged) for event in events):
            self.sync()

    def action_decide(self, decision: str) -> None:
        table = self.table
        if not table.row_count:
            return
        guild_id = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        guilds = self.model.core.guilds
        decide = guilds.allow if decision == "allowed" else guilds.deny
        record = decide(guild_id, by=self.model.user_name)
        self.notify(f"{record.name or guild_id} is now {record.status}.")
        self.sync()
