"""The session transcript: one block per entry, updated in place by key as text streams in.

Streaming text is shown as plain text with a cursor, and only its last STREAM_TAIL characters:
the view re-renders it up to twenty times a second, and wrapping a 200,000-character answer takes
half a second. Once the part is complete it is rendered once: as markdown, or as plain text when it
is longer than MARKDOWN_LIMIT (rich's markdown with highlighted code costs ~20 ms per 1,000
characters). The view is anchored to its bottom (Textual keeps it there through any change of
content or layout) until the reader scrolls up; scrolling back to the end anchors it again.

↑/↓ select a block (`selected`, outlined: what the screen's `c` copies); End drops the selection
and follows the newest output again.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import RenderableType
from rich.markdown import Markdown
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from kimaki_tui.screens.format import Palette, clip, inline_markdown
from kimaki_tui.screens.transcript import Entry

REASONING_LIMIT = 400
STREAM_TAIL = 4000
MARKDOWN_LIMIT = 30_000


def streaming_tail(text: str) -> str:
    """The end of a streaming text, from a line start, with a note of how much came before."""
    if len(text) <= STREAM_TAIL:
        return text
    start = len(text) - STREAM_TAIL
    line = text.find("\n", start, len(text) - 1)
    start = line + 1 if line >= 0 else start
    return f"… {start:,} characters above\n{text[start:]}"


def render_entry(entry: Entry, palette: Palette) -> RenderableType:
    kind = entry.kind
    if kind == "user":
        text = Text(entry.text)
        if entry.meta:
            text.append(f"\n{entry.meta}", style=palette.muted)
        return text
    if kind == "text":
        if not entry.done:
            return Text(streaming_tail(entry.text) + "▍")
        if len(entry.text) > MARKDOWN_LIMIT:
            return Text(entry.text)
        return Markdown(entry.text, code_theme="monokai", justify="left")
    if kind == "reasoning":
        return Text(f"thinking · {clip(entry.text, REASONING_LIMIT)}", style=f"italic {palette.muted}")
    if kind == "tool":
        colour = palette.error if entry.meta == "error" else ""
        text = inline_markdown(entry.text, code_style=f"bold {palette.accent}", base_style=colour)
        if not entry.done:
            text.append("  running…", style=palette.busy)
        return text
    if kind == "footer":
        return inline_markdown(entry.text.strip("*"), code_style="bold", base_style=f"italic {palette.muted}")
    if kind == "error":
        return Text(entry.text, style=palette.error)
    style = palette.waiting if entry.meta == "waiting" else palette.muted
    return inline_markdown(entry.text, base_style=style)


def _signature(entry: Entry) -> tuple[str, str, bool, str]:
    return (entry.kind, entry.text, entry.done, entry.meta)


class EntryView(Static):
    def __init__(self, entry: Entry, palette: Palette) -> None:
        super().__init__(render_entry(entry, palette), classes=f"entry -{entry.kind}")
        self.signature = _signature(entry)
        self.key = entry.key
        self.text = entry.text

    def show(self, entry: Entry, palette: Palette) -> None:
        self.signature = _signature(entry)
        self.text = entry.text
        self.set_classes(f"entry -{entry.kind}")
        self.update(render_entry(entry, palette))


class TranscriptView(VerticalScroll):
    BINDINGS: ClassVar[list[BindingType]] = [
        # List keys: shown on the keys screen (?), not in the session screen's crowded footer.
        Binding("end", "follow", "Follow", tooltip="Jump to the newest output and follow it", show=False),
        Binding("up", "select(-1)", "Block up", tooltip="Select the block above (c copies it)", show=False),
        Binding("down", "select(1)", "Block down", tooltip="Select the next block (c copies it)", show=False),
    ]
    selected: reactive[str | None] = reactive(None, init=False)  # the selected block's key

    def __init__(self, palette: Palette, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._palette = palette
        self._views: dict[str, EntryView] = {}

    def on_mount(self) -> None:
        self.anchor()

    def selected_text(self) -> str | None:
        view = self._views.get(self.selected) if self.selected else None
        return view.text if view is not None else None

    def action_follow(self) -> None:
        self.selected = None
        self.scroll_end(animate=False)
        self.anchor()

    def action_select(self, step: int) -> None:
        views = list(self._views.values())
        if not views:
            return
        keys = [view.key for view in views]
        if self.selected not in keys:  # start from the last block on screen
            bottom = self.scroll_y + self.scrollable_content_region.height
            visible = [i for i, view in enumerate(views) if view.virtual_region.y < bottom]
            index = visible[-1] if visible else len(views) - 1
        else:
            index = min(max(keys.index(self.selected) + step, 0), len(views) - 1)
        self.selected = keys[index]

    def watch_selected(self, old: str | None, new: str | None) -> None:
        if old in self._views:
            self._views[old].remove_class("-selected")
        if new in self._views:
            view = self._views[new]
            view.add_class("-selected")
            self.scroll_to_widget(view, animate=False, immediate=True)

    def show(self, entries: list[Entry], *, rebuild: bool = False) -> None:
        """Bring the view in line with `entries` (appended or updated since the last call)."""
        if rebuild:
            self.remove_children()
            self._views.clear()
        wanted = {entry.key for entry in entries}
        for key in [key for key in self._views if key not in wanted]:
            self._views.pop(key).remove()
        if self.selected is not None and self.selected not in self._views:
            self.selected = None
        fresh: list[EntryView] = []
        for entry in entries:
            view = self._views.get(entry.key)
            if view is None:
                view = EntryView(entry, self._palette)
                self._views[entry.key] = view
                fresh.append(view)
            elif view.signature != _signature(entry):
                view.show(entry, self._palette)
        if fresh:
            self.mount_all(fresh)
