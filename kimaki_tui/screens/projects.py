"""Projects: the linked directories and their Discord channels; add one, unlink or remove one."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from kimaki_tui.screens.add_project import AddProjectScreen
from kimaki_tui.screens.base import KimakiScreen
from kimaki_tui.screens.confirm import ConfirmScreen
from kimaki_tui.screens.format import clip
from kimaki_tui.screens.servers import ServersScreen

NONE = "No projects yet. Press n to add the folder of one."


def home_relative(directory: str) -> str:
    home = str(Path.home())
    return (
        "~" + directory[len(home) :] if directory == home or directory.startswith(home + "/") else directory
    )


class ProjectsScreen(KimakiScreen):
    NAV = "projects"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "add", "Add project", tooltip="Add a project folder"),
        Binding(
            "x,delete", "remove", "Remove", tooltip="Unlink the channel, or forget a project without one"
        ),
        Binding("s", "servers", "Servers", tooltip="Discord servers: allow or deny"),
    ]

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        table: DataTable[Text] = DataTable(id="projects", cursor_type="row", zebra_stripes=True)
        table.border_title = "Projects"
        yield table
        yield Static(NONE, id="no-projects")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#projects", DataTable)
        table.add_column("Directory", key="directory", width=52)
        table.add_column("Channel", key="channel", width=20)
        table.add_column("Guild", key="guild", width=20)
        table.add_column("Sessions", key="sessions", width=8)

    def sync(self) -> None:
        core = self.model.core
        table = self.query_one("#projects", DataTable)
        row = table.cursor_row
        table.clear()
        sessions = Counter(view.directory for view in core.conversations.all() if view.session_id)
        linked = set()
        projects = core.projects.known()
        for link in core.projects.links():
            linked.add(link.directory)
            table.add_row(
                *self._cells(link.directory, link.channel_id, link.guild_id, sessions),
                key=f"channel:{link.channel_id}",
            )
        for project in projects:
            if project.directory not in linked:
                table.add_row(
                    *self._cells(project.directory, "", "", sessions), key=f"project:{project.directory}"
                )
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        table.border_subtitle = f"{len(projects)} projects · {len(linked)} with a channel"
        self.query_one("#no-projects").display = table.row_count == 0

    @staticmethod
    def _cells(directory: str, channel: str, guild: str, sessions: Counter[str]) -> tuple[Text, ...]:
        return (
            Text(clip(home_relative(directory), 52), style="bold"),
            Text(f"#{channel}" if channel else "no channel", style="" if channel else "dim"),
            Text(guild or "—", style="dim"),
            Text(str(sessions.get(directory, 0))),
        )

    def _selected_key(self) -> str | None:
        table = self.query_one("#projects", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def action_servers(self) -> None:
        self.app.push_screen(ServersScreen(self.model))

    def action_add(self) -> None:
        def picked(directory: str | None) -> None:
            if directory:
                self._add(directory)

        self.app.push_screen(AddProjectScreen(self.model.picker_root or Path.home()), picked)

    @work(name="add-project", group="projects")
    async def _add(self, directory: str) -> None:
        try:
            message = await self.model.add_project_directory(directory)
        except Exception as exc:  # a worker's boundary: no failure may close the control center
            self.notify_failure(f"Could not add {directory}", exc)
        else:
            self.notify(message)
        self.sync()

    def action_remove(self) -> None:
        key = self._selected_key()
        if key is None:
            return
        kind, _, value = key.partition(":")
        projects = self.model.core.projects
        if kind == "channel":
            directory = projects.directory_of(value) or "?"
            question = f"Unlink channel #{value} from {home_relative(directory)}?"
        else:
            question = f"Forget the project {home_relative(value)}? (Its sessions keep their history.)"

        def answered(confirmed: bool | None) -> None:
            if not confirmed:
                return
            if kind == "channel":
                projects.unlink(value)
            else:
                projects.forget(value)
            self.notify("Removed.")
            self.sync()

        self.app.push_screen(ConfirmScreen("Remove", question, confirm="Remove"), answered)
