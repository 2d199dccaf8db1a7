"""The `?` screen: every key the screen under it answers to, with what it does.

It is built from the bindings active on that screen (its own, its widgets' and the app's), so it
cannot drift from the footer.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static


def keys_table(screen: Screen[Any]) -> Table:
    """Key, name and what it does, for each enabled binding of `screen`, in the footer's order."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(style="dim")
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if not active.enabled or not binding.description or binding.action in seen:
            continue
        seen.add(binding.action)
        table.add_row(screen.app.get_key_display(binding), binding.description, binding.tooltip or "")
    return table


class KeysScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", tooltip="Back to the screen"),
    ]

    def __init__(self, screen: Screen[Any], title: str) -> None:
        super().__init__(classes="keys")
        self._table = keys_table(screen)
        self._title = title

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="keys-dialog") as dialog:
            dialog.border_title = f"Keys · {self._title}"
            yield Static(self._table, id="keys-table")
            yield Static(Text("Ctrl+P opens the command palette: every action by name.", style="dim"))
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)
