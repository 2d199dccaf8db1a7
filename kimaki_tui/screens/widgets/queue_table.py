"""A session's queued prompts, with remove / move up / move down from the keyboard.

The table only asks (messages up); the session screen calls the core, and the core's
`QueueChanged` event redraws the table with the cursor kept on the moved item.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from kimaki_tui.core.events import QueuedItem
from kimaki_tui.screens.format import clip


class QueueTable(DataTable[Text]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x,delete", "remove", "Remove", tooltip="Remove the selected prompt from the queue"),
        Binding("K,shift+up", "move(-1)", "Move up", tooltip="Send the selected prompt earlier"),
        Binding("J,shift+down", "move(1)", "Move down", tooltip="Send the selected prompt later"),
    ]

    class Remove(Message):
        def __init__(self, item_id: int) -> None:
            super().__init__()
            self.item_id = item_id

    class Move(Message):
        def __init__(self, item_id: int, delta: int) -> None:
            super().__init__()
            self.item_id = item_id
            self.delta = delta

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")

    def on_mount(self) -> None:
        self.add_column("#", key="position", width=2)
        self.add_column("Prompt", key="prompt")
        self.add_column("From", key="author", width=12)

    @property
    def selected_item(self) -> int | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return int(key) if key is not None else None

    def show(self, items: Iterable[QueuedItem]) -> None:
        selected = self.selected_item
        self.clear()
        for position, item in enumerate(items, 1):
            self.add_row(
                Text(str(position), style="dim"),
                Text(clip(item.prompt, 60)),
                Text(clip(item.author or item.origin, 12), style="dim"),
                key=str(item.item_id),
            )
        if selected is not None and str(selected) in {key.value for key in self.rows}:
            self.move_cursor(row=self.get_row_index(str(selected)))

    def action_remove(self) -> None:
        if (item := self.selected_item) is not None:
            self.post_message(self.Remove(item))

    def action_move(self, delta: int) -> None:
        if (item := self.selected_item) is not None:
            self.post_message(self.Move(item, delta))
