"""Projects: the linked directories and their Discord channels; add one, unlink or remove one.

The screen declares what it shows: it watches the app's `projects` (channel and server names as
the bot knows them) and `sessions` (for the per-project counts) and redraws its table from them;
its actions go through the core, then ask the app to re-read the projects.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from kimaki_tui.core.api import ConversationView
from kimaki_tui.screens.add_project import AddProjectScreen
from kimaki_tui.screens.base import KimakiScreen
from kimaki_tui.screens.confirm import ConfirmScreen
from kimaki_tui.screens.format import clip, home_relative
from kimaki_tui.screens.sandboxes import SandboxesScreen
from kimaki_tui.screens.servers import ServersScreen
from kimaki_tui.screens.state import ProjectRow

NONE = "No projects yet. Press n to add the folder of one."
_COLUMNS = (("Directory", "directory", 52), ("Channel", "channel", 20), ("Server", "guild", 20))


def channel_label(row: ProjectRow) -> str:
    """`#name` when the bot knows the channel, else its id; "" for a project without one."""
    if not row.channel_id:
        return ""
    return f"#{row.channel_name}" if row.channel_name else f"#{row.channel_id}"


def row_key(row: ProjectRow) -> str:
    return f"channel:{row.channel_id}" if row.channel_id else f"project:{row.directory}"


class ProjectsTable(DataTable[Text]):
    """The projects, one row per linked channel (or per project without one)."""

    def on_mount(self) -> None:
        for label, key, width in _COLUMNS:
            self.add_column(label, key=key, width=width)
        self.add_column("Sessions", key="sessions", width=8)

    def show(self, projects: tuple[ProjectRow, ...], sessions: tuple[ConversationView, ...]) -> None:
        counts = Counter(view.directory for view in sessions if view.session_id)
        row = self.cursor_row
        self.clear()
        for project in projects:
            self.add_row(*_cells(project, counts), key=row_key(project))
        if self.row_count:
            self.move_cursor(row=min(max(row, 0), self.row_count - 1))
        linked = sum(1 for p in projects if p.channel_id)
        folders = len({p.directory for p in projects})
        self.border_subtitle = f"{folders} projects · {linked} channels"

    @property
    def selected(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value


def _cells(row: ProjectRow, sessions: Counter[str]) -> tuple[Text, ...]:
    channel = channel_label(row)
    return (
        Text(clip(home_relative(row.directory), 52), style="bold"),
        Text(clip(channel, 20) if channel else "no channel", style="" if channel else "dim"),
        Text(clip(row.guild_name or row.guild_id or "—", 20), style="dim"),
        Text(str(sessions.get(row.directory, 0))),
    )


class ProjectsScreen(KimakiScreen):
    NAV = "projects"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "add", "Add project", tooltip="Add a project folder"),
        Binding(
            "x,delete", "remove", "Remove", tooltip="Unlink the channel, or forget a project without one"
        ),
        Binding("s", "servers", "Servers", tooltip="Discord servers: allow or deny"),
        Binding("b", "sandboxes", "Sandboxes", tooltip="Sandboxed threads: running, paused, destroyed"),
    ]

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        self.table = ProjectsTable(id="projects", cursor_type="row", zebra_stripes=True)
        self.table.border_title = "Projects"
        yield self.table
        self.empty = Static(NONE, id="no-projects")
        yield self.empty
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "projects", self._show)
        self.watch(self.app, "sessions", self._show)

    def _show(self) -> None:
        projects = self.app_state.projects
        self.table.show(projects, self.app_state.sessions)
        self.empty.display = not projects

    def _reread(self) -> None:
        self.app_state.read_projects()

    def action_servers(self) -> None:
        self.app.push_screen(ServersScreen(self.model))

    def action_sandboxes(self) -> None:
        self.app.push_screen(SandboxesScreen(self.model))

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
        self._reread()

    def action_remove(self) -> None:
        key = self.table.selected
        if key is None:
            return
        kind, _, value = key.partition(":")
        projects = self.model.core.projects
        if kind == "channel":
            row = next((p for p in self.app_state.projects if p.channel_id == value), ProjectRow("?", value))
            question = f"Unlink channel {channel_label(row)} from {home_relative(row.directory)}?"
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
            self._reread()

        self.app.push_screen(ConfirmScreen("Remove", question, confirm="Remove"), answered)
