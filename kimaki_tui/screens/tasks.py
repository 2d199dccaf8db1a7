"""Tasks: the scheduled sends (`kimaki send --send-at`), soonest first; run one now, delete one,
show finished ones.

Tasks are read from the shared database (the CLI adds them from another process), so the table is
re-read every few seconds. Deleting goes through the core, which tells the running scheduler (its
timer goes at once).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from kimaki_tui.scheduling.request import SendRequest
from kimaki_tui.screens.base import KimakiScreen
from kimaki_tui.screens.confirm import ConfirmScreen
from kimaki_tui.screens.format import clip
from kimaki_tui.screens.model import ControlCenterModel

if TYPE_CHECKING:
    from kimaki_tui.core.api import ScheduledTask

REFRESH = 5.0
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

    def __init__(self, model: ControlCenterModel, *, id: str | None = None) -> None:
        super().__init__(model, id=id)
        self.show_all = False

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        table: DataTable[Text] = DataTable(id="tasks", cursor_type="row", zebra_stripes=True)
        table.border_title = "Scheduled tasks"
        yield table
        yield Static(NONE, id="no-tasks")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#tasks", DataTable)
        for label, key, width in (
            ("ID", "id", 5),
            ("Status", "status", 10),
            ("Next run", "next", 17),
            ("Schedule", "schedule", 26),
            ("Target", "target", 28),
            ("Prompt", "prompt", 40),
        ):
            table.add_column(label, key=key, width=width)
        self.set_interval(REFRESH, self.sync)

    def sync(self) -> None:
        table = self.query_one("#tasks", DataTable)
        row = table.cursor_row
        tasks = self.model.core.tasks.all(all_states=self.show_all)
        table.clear()
        for task in tasks:
            table.add_row(*self._cells(task), key=str(task.id))
        if table.row_count:
            table.move_cursor(row=min(max(row, 0), table.row_count - 1))
        shown = "all tasks" if self.show_all else "active tasks"
        table.border_subtitle = f"{len(tasks)} {shown} · scheduler: {self.model.scheduler_status or '—'}"
        self.query_one("#no-tasks").display = table.row_count == 0

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
        table = self.query_one("#tasks", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key is not None else None

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.sync()

    async def action_run_now(self) -> None:
        task_id = self._selected()
        if task_id is None:
            return
        problem = await self.model.core.tasks.run_now(task_id)
        self.notify(f"Ran task {task_id}." if not problem else f"Task {task_id} did not run: {problem}")
        self.sync()

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
            self.sync()

        question = f"Delete task {task.id} ({task.schedule_text}): “{clip(task.prompt_preview, 60)}”?"
        self.app.push_screen(ConfirmScreen("Delete task", question, confirm="Delete"), answered)
