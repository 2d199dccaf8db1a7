"""A virtual log view: renders only the visible lines of a filtered `LogBook`, however long.

The view holds the absolute indices of the lines that pass the level filter and the search;
new lines extend it, and it follows the tail while scrolled to the bottom. Up and Down select a
line (`cursor`, drawn reversed: what `c` copies); End drops the selection and follows again.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from kimaki_tui.screens.format import Palette
from kimaki_tui.screens.logbook import LogBook

_HEAD = 24  # "2025-01-01 12:00:00,123 " — the timestamp LOG_FORMAT starts with


class LogView(ScrollView, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("end", "follow", "Follow", tooltip="Jump to the newest line and follow the log"),
        # Arrow keys, as in any list: shown on the keys screen (?), not in the crowded footer.
        Binding("up", "select(-1)", "Line up", tooltip="Select the line above (c copies it)", show=False),
        Binding("down", "select(1)", "Line down", tooltip="Select the line below (c copies it)", show=False),
    ]
    cursor: reactive[int | None] = reactive(None, init=False)  # the selected line, an index in the view

    def __init__(self, book: LogBook, palette: Palette, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._book = book
        self._palette = palette
        self._view: list[int] = []
        self._seen = 0
        self._width = 0
        self._cache: LRUCache[int, Strip] = LRUCache(1024)
        self.min_level = 0
        self.needle = ""

    @property
    def count(self) -> int:
        """Lines passing the filter."""
        return len(self._view)

    def set_filter(self, min_level: int, needle: str) -> None:
        """Recompute the view for a new level filter or search text."""
        self.min_level, self.needle = min_level, needle
        self._view = self._book.select(min_level, needle)
        self._seen = self._book.end
        self._width = self._book.width(self._view)
        self._cache.clear()
        self.cursor = None
        self._resize(follow=True)

    def extend(self) -> None:
        """Take in the lines added to the book since the last call."""
        following = self.is_vertical_scroll_end
        dropped = self._book.dropped
        if self._view and self._view[0] < dropped:
            cut = bisect_left(self._view, dropped)
            del self._view[:cut]
            self._cache.clear()
            if self.cursor is not None:
                self.cursor = self.cursor - cut if self.cursor >= cut else None
        new = self._book.select(self.min_level, self.needle, start=self._seen)
        self._seen = self._book.end
        if not new and not following:
            return
        self._view.extend(new)
        self._width = max(self._width, self._book.width(new))
        self._resize(follow=following)

    def _resize(self, *, follow: bool) -> None:
        self.virtual_size = Size(self._width + 1, len(self._view))
        if follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
            if not self.size.height:  # not laid out yet: follow once it is
                self.call_after_refresh(self.scroll_end, animate=False, immediate=True, x_axis=False)
        self.refresh()

    def shown_lines(self) -> list[str]:
        """The lines in the window now (what `c` copies)."""
        top = self.scroll_offset.y
        return [self._book.line(index)[1] for index in self._view[top : top + self.size.height]]

    def selected_line(self) -> str | None:
        """The selected line's text, or None when no line is selected."""
        if self.cursor is None or self.cursor >= len(self._view):
            return None
        return self._book.line(self._view[self.cursor])[1]

    def action_follow(self) -> None:
        self.cursor = None
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def action_select(self, step: int) -> None:
        if not self._view:
            return
        if self.cursor is None:  # start from the bottom line on screen
            top = self.scroll_offset.y
            self.cursor = min(len(self._view), top + self.size.height) - 1
        elif step > 0 and self.cursor >= len(self._view) - 1:
            self.action_follow()  # down past the newest line: no selection, follow the log again
        else:
            self.cursor = max(0, self.cursor + step)

    def watch_cursor(self, cursor: int | None) -> None:
        if cursor is not None:
            top, height = self.scroll_offset.y, self.size.height
            if cursor < top:
                self.scroll_to(y=cursor, animate=False, immediate=True)
            elif cursor >= top + height:
                self.scroll_to(y=cursor - height + 1, animate=False, immediate=True)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        base = self.rich_style
        if index >= len(self._view):
            return Strip.blank(width, base)
        absolute = self._view[index]
        if index == self.cursor:  # not cached: it changes as the selection moves
            text = self._styled(*self._book.line(absolute), base)
            text.stylize("reverse")
            return Strip(text.render(self.app.console), text.cell_len).crop_extend(
                scroll_x, scroll_x + width, base
            )
        strip = self._cache.get(absolute)
        if strip is None:
            text = self._styled(*self._book.line(absolute), base)
            strip = Strip(text.render(self.app.console), text.cell_len)
            self._cache[absolute] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _styled(self, level: int, line: str, base: Style) -> Text:
        palette = self._palette
        colour = {logging.DEBUG: palette.muted, logging.WARNING: palette.busy}.get(level, "")
        if level >= logging.ERROR:
            colour = palette.error
        text = Text(line, style=base, no_wrap=True, end="")
        head_level = line[_HEAD : _HEAD + 8]
        if head_level.strip() and head_level.rstrip() in logging.getLevelNamesMapping():
            text.stylize(palette.muted, 0, _HEAD)
            text.stylize(f"bold {colour}" if colour else "bold", _HEAD, _HEAD + 8)
            name_end = line.find(": ", _HEAD + 8)
            if name_end > 0:
                text.stylize(palette.accent, _HEAD + 8, name_end)
        elif colour:
            text.stylize(colour)  # a traceback or continuation line of the record above
        if self.needle:
            text.highlight_words([self.needle], Style(color="black", bgcolor="#e5c07b"), case_sensitive=False)
        return text
