"""Tasks: the scheduled sends (`kimaki send --send-at`), soonest first; run one now, delete one,
show finished ones.

Tasks are read from the shared database (the CLI adds them from another process): the app re-reads
them into its state (`tasks`) every few seconds, and this screen watches that state and its own
`show_all`. Deleting goes through the core, which tells the running scheduler (its timer goes at
once).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widgets import DataTable, Footer, Static

from kimaki_tui.scheduling.request import SendRequest
from kimaki_tui.screens.base import KimakiScreen
from kimaki_tui.screens.confirm import ConfirmScreen
from kimaki_tui.screens.format import clip

if TYPE_CHECKING:
    from kimaki_tui.core.api import ScheduledTask

ACTIVE = ("scheduled", "running")
NONE = "No scheduled tasks. Schedule one with `kimaki send --send-at WHEN --prompt …`."
_STATUS_STYLE = {"scheduled": "", "running": "bold", "done": "dim", "missed": "yellow", "failed": "red"}


def when_text(moment: datetime | None) -> str:
    return "—" if moment is None else f"{moment.astimezone():%Y-%m-%d %H:%M}"


class TasksScreen(KimakiScreen):
    NAV = "tasks"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run_now", "Run now", tooltip="Send the selected task now"),
        Binding("x,delete", "delete", "Delete", tooltip="Delete the selected task"),
        Binding("a", "toggle_all", "Show finished", tooltip="Also list done, missed and failed tasks"),
    ]

    show_all: reactive[bool] = reactive(False, init=False)

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        self.table: DataTable[Text] = DataTable(id="tasks", cursor_type="row", zebra_stripes=True)
        self.table.border_title = "Scheduled tasks"
        yield self.table
        self.empty = Static(NONE, id="no-tasks")
        yield self.empty
        yield Footer()

    def on_mount(self) -> None:
        for label, key, width in (
            ("ID", "id", 5),
            ("Status", "status", 10),
            ("Next run", "next", 17),
            ("Schedule", "schedule", 26),
            ("Target", "target", 28),
            ("Prompt", "prompt", 40),
        ):
            self.table.add_column(label, key=key, width=width)
        self.watch(self.app, "tasks", self._show)
        self.watch(self.app, "scheduler_status", self._show)

    def watch_show_all(self) -> None:
        self._show()

    def _show(self) -> None:
        table = self.table
        row = table.cursor_row
        tasks = [t for t in self.app_state.tasks if self.show_all or t.status in ACTIVE]
        table.clear()
        for task in tasks:
            table.add_row(*self._cells(task), key=str(task.id))
        if table.row_count:
            table.move_cursor(row=min(max(row, 0), table.row_count - 1))
        shown = "all tasks" if self.show_all else "active tasks"
        table.border_subtitle = f"{len(tasks)} {shown} · scheduler: {self.app_state.scheduler_status or '—'}"
        self.empty.display = not tasks

    @staticmethod
    def _cells(task: ScheduledTask) -> tuple[Text, ...]:
        request = SendRequest.from_json(task.payload)
        target = (
            "new thread in #" + request.target_id
            if request.target == "channel"
            else "thread " + request.target_id
        )
        return (
            Text(str(task.id), style="bold"),
            Text(task.status, style=_STATUS_STYLE.get(task.status, "")),
            Text(when_text(task.next_run_at)),
            Text(clip(task.schedule_text, 26), style="dim" if task.kind == "at" else ""),
            Text(clip(target, 28), style="dim"),
            Text(clip(task.prompt_preview, 40)),
        )

    def _selected(self) -> int | None:
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key is not None else None

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all

    def _reread(self) -> None:
        """A task changed: re-read the app's state now rather than at its next tick."""
        self.app_state.read_state()

    async def action_run_now(self) -> None:
        task_id = self._selected()
        if task_id is None:
            return
        problem = await self.model.core.tasks.run_now(task_id)
        self.notify(f"Ran task {task_id}." if not problem else f"Task {task_id} did not run: {problem}")
        self._reread()

    def action_delete(self) -> None:
        task_id = self._selected()
        tasks = self.model.core.tasks
        task = tasks.get(task_id) if task_id is not None else None
        if task is None:
            return

        def answered(confirmed: bool | None) -> None:
            if not confirmed:
                return
            deleted = tasks.delete(task.id)
            self.notify(f"Deleted task {task.id}." if deleted else f"Task {task.id} was already gone.")
            self._reread()

        question = f"Delete task {task.id} ({task.schedule_text}): “{clip(task.prompt_preview, 60)}”?"
        self.app.push_screen(ConfirmScreen("Delete task", question, confirm="Delete"), answered)
