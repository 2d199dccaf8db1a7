"""The live log: every record of this run, with a level filter and a search that filters as you type.

Lines come from the app's `LogBook` (fed by the bridge from the log ring); the view renders only
what is visible, so 100,000 lines scroll as fast as 100. The filter is the screen's state: `level`
and `needle` are reactives, and the view, the level bar and the count follow them.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.reactive import reactive
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
        Binding(
            "c", "copy", "Copy", tooltip="Copy the selected line (↑/↓), else the lines on screen (OSC 52)"
        ),
        Binding("escape", "focus_log", "Back to log", show=False),
    ]

    level: reactive[int] = reactive(0, init=False)  # an index into LEVELS: the minimum shown
    needle: reactive[str] = reactive("", init=False)  # the search text

    def __init__(self, model: ControlCenterModel, book: LogBook) -> None:
        super().__init__(model)
        self.book = book

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        with Horizontal(id="log-toolbar"):
            self.levels = Static(levels_markup(0), id="levels")
            yield self.levels
            self.search = Input(placeholder="Search (/)", id="search")
            yield self.search
            self.line_count = Static(id="log-count")
            yield self.line_count
        self.view = LogView(self.book, self.palette, id="log")
        yield self.view
        yield Footer()

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
        self.line_count.update(label)

    def watch_level(self, level: int) -> None:
        self.levels.update(levels_markup(level))
        self._refilter()

    def watch_needle(self) -> None:
        self._refilter()

    def _refilter(self) -> None:
        self.view.set_filter(LEVELS[self.level][1], self.needle)
        self._count()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.needle = event.value

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.view.focus()

    def action_search(self) -> None:
        self.search.focus()

    def action_focus_log(self) -> None:
        self.view.focus()

    def action_level(self, index: int | None = None) -> None:
        self.level = (self.level + 1) % len(LEVELS) if index is None else index

    def action_copy(self) -> None:
        selected = self.view.selected_line()
        if selected is not None:
            self.app.copy_to_clipboard(selected)
            self.notify("Copied the selected log line.", timeout=2)
            return
        lines = self.view.shown_lines()
        self.app.copy_to_clipboard("\n".join(lines))
        self.notify(f"Copied {len(lines)} log line" + ("" if len(lines) == 1 else "s") + ".", timeout=2)

    def action_clear(self) -> None:
        self.level = 0
        self.search.value = ""  # Input.Changed clears the needle
