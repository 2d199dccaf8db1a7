"""The live log: every record of this run, with a level filter and a search that filters as you type.

Lines come from the app's `LogBook` (fed by the bridge from the log ring); the view renders only
what is visible, so 100,000 lines scroll as fast as 100.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Footer, Input, Static

from kimaki_tui.screens.base import KimakiScreen
from kimaki_tui.screens.logbook import LEVELS, LogBook
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.screens.widgets.log_view import LogView


def levels_markup(active: int) -> str:
    parts = []
    for index, (name, _) in enumerate(LEVELS):
        label = f" {name} "
        style = "b $text-accent on $accent-muted" if index == active else "$text-muted"
        parts.append(f"[@click=screen.level({index})][{style}]{label}[/][/]")
    return "".join(parts)


class LogsScreen(KimakiScreen):
    NAV = "logs"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", tooltip="Filter the log by a text"),
        Binding("l", "level", "Level", tooltip="Cycle the minimum level: all, debug, info, warning, error"),
        Binding("x", "clear", "Clear filter", tooltip="Show every line again"),
        Binding("c", "copy", "Copy", tooltip="Copy the lines on screen to the clipboard (OSC 52)"),
        Binding("escape", "focus_log", "Back to log", show=False),
    ]

    def __init__(self, model: ControlCenterModel, book: LogBook) -> None:
        super().__init__(model)
        self.book = book
        self._level = 0

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        with Horizontal(id="log-toolbar"):
            yield Static(levels_markup(0), id="levels")
            yield Input(placeholder="Search (/)", id="search")
            yield Static(id="log-count")
        yield LogView(self.book, self.palette, id="log")
        yield Footer()

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    def on_mount(self) -> None:
        self.view.set_filter(0, "")
        self.view.focus()
        self._count()

    def sync(self) -> None:
        self.apply_log()

    def apply_log(self) -> None:
        """Lines were added to the book."""
        self.view.extend()
        self._count()

    def _count(self) -> None:
        view = self.view
        total = self.book.size
        filtered = view.min_level > 0 or bool(view.needle)
        label = f"{view.count:,} of {total:,} lines" if filtered else f"{total:,} lines"
        self.query_one("#log-count", Static).update(label)

    def _refilter(self) -> None:
        needle = self.query_one("#search", Input).value
        self.view.set_filter(LEVELS[self._level][1], needle)
        self.query_one("#levels", Static).update(levels_markup(self._level))
        self._count()

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self._refilter()

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.view.focus()

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_focus_log(self) -> None:
        self.view.focus()

    def action_level(self, index: int | None = None) -> None:
        self._level = (self._level + 1) % len(LEVELS) if index is None else index
        self._refilter()

    def action_copy(self) -> None:
        lines = self.view.shown_lines()
        self.app.copy_to_clipboard("\n".join(lines))
        self.notify(f"Copied {len(lines)} log line" + ("" if len(lines) == 1 else "s") + ".", timeout=2)

    def action_clear(self) -> None:
        self._level = 0
        self.query_one("#search", Input).value = ""  # Input.Changed refilters
        self._refilter()
