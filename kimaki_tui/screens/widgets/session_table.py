"""The dashboard's sessions table: one row per thread, cells updated by key as sessions change.

Rows are keyed by thread id and columns by name, so a status change rewrites one cell, not the
table. A full rebuild (sorted by last activity, cursor kept on the same session) happens only
when sessions appear or disappear.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Self, cast

from rich.text import Text, TextType
from textual import events
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, Row, RowKey

from kimaki_tui.core.api import ConversationView
from kimaki_tui.screens.format import Palette, age, clip, elapsed, project_name, status_text, tokens
from kimaki_tui.screens.state import AppState

# (key, label, width)
Columns = tuple[tuple[str, str, int], ...]
COLUMNS: Columns = (
    ("project", "Project", 14),
    ("session", "Session", 25),
    ("status", "Status", 22),
    ("model", "Model", 16),
    ("agent", "Agent", 7),
    ("queued", "Queue", 5),
    ("tokens", "Tokens", 6),
    ("active", "Active", 6),
)
# Below COMPACT_BELOW columns the model, agent and tokens go first; the rest narrows to fit 80.
COMPACT_BELOW = 118
COMPACT_COLUMNS: Columns = (
    ("project", "Project", 11),
    ("session", "Session", 21),
    ("status", "Status", 15),
    ("queued", "Queue", 5),
    ("active", "Active", 6),
)


def row_cells(
    snap: ConversationView, now: float, palette: Palette, columns: Columns = COLUMNS
) -> dict[str, Text]:
    widths = {key: width for key, _, width in COLUMNS} | {key: width for key, _, width in columns}

    def cell(key: str, value: str, style: str = "") -> Text:
        return Text(clip(value, widths[key]), style=style)

    return {
        "project": cell("project", project_name(snap.directory), "bold"),
        "session": cell("session", snap.title or f"thread {snap.thread_id}"),
        "status": _clipped(status_cell(snap, now, palette), widths["status"]),
        "model": cell("model", snap.model or "—", "" if snap.model else palette.muted),
        "agent": cell("agent", snap.agent or "—", "" if snap.agent else palette.muted),
        "queued": cell(
            "queued", str(snap.queued) if snap.queued else "·", "bold" if snap.queued else palette.muted
        ),
        "tokens": cell("tokens", tokens(snap.tokens)),
        "active": cell("active", age(now - snap.last_activity), palette.muted),
    }


def status_cell(snap: ConversationView, now: float, palette: Palette) -> Text:
    """`● busy 1m05s` while a turn runs (how long it has run), else the state alone."""
    text = status_text(snap.state, palette)
    if snap.state == "busy" and snap.busy_since is not None:
        text.append(f" {elapsed(now - snap.busy_since)}", style=palette.muted)
    return text


def _clipped(text: Text, width: int) -> Text:
    text.truncate(width, overflow="ellipsis")
    return text


class SessionTable(DataTable[Text]):
    """Rows of the sessions it is given; `compact` (set from its width) picks the columns."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", tooltip="Open the session: transcript, prompt, queue"),
    ]

    def __init__(self, palette: Palette, clock: Callable[[], float], *, id: str | None = None) -> None:
        # DataTable recomputes its row order and line offsets (O(rows)) after every cell update;
        # here only rows coming, going or moving change them, so they are kept per layout.
        self._row_layout = 0
        self._rows_by_layout: tuple[int, list[Row], list[tuple[RowKey, int]]] | None = None
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._palette = palette
        self._clock = clock
        self._shown: dict[str, dict[str, str]] = {}  # thread -> column -> plain text drawn

    compact: reactive[bool] = reactive(False, init=False)

    @property
    def columns_shown(self) -> Columns:
        return COMPACT_COLUMNS if self.compact else COLUMNS

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        for key, label, width in self.columns_shown:
            self.add_column(label, key=key, width=width)

    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < COMPACT_BELOW

    def watch_compact(self) -> None:
        self.clear(columns=True)
        self._shown.clear()
        self._add_columns()
        self.rebuild(cast(AppState, self.app).sessions)

    # ---- DataTable's O(rows) caches, kept until rows come, go or move -------------------------------
    def add_row(
        self, *cells: Text, height: int | None = 1, key: str | None = None, label: TextType | None = None
    ) -> RowKey:
        self._row_layout += 1
        return super().add_row(*cells, height=height, key=key, label=label)

    def remove_row(self, row_key: RowKey | str) -> None:
        self._row_layout += 1
        super().remove_row(row_key)

    def clear(self, columns: bool = False) -> Self:
        self._row_layout += 1
        return super().clear(columns)

    def sort(
        self, *columns: ColumnKey | str, key: Callable[[Any], Any] | None = None, reverse: bool = False
    ) -> Self:
        self._row_layout += 1
        return super().sort(*columns, key=key, reverse=reverse)

    def _layout_rows(self) -> tuple[list[Row], list[tuple[RowKey, int]]]:
        cached = self._rows_by_layout
        if cached is None or cached[0] != self._row_layout:
            rows = super().ordered_rows
            cached = (self._row_layout, rows, [(row.key, y) for row in rows for y in range(row.height)])
            self._rows_by_layout = cached
        return cached[1], cached[2]

    @property
    def ordered_rows(self) -> list[Row]:
        return self._layout_rows()[0]

    @property
    def _y_offsets(self) -> list[tuple[RowKey, int]]:
        return self._layout_rows()[1]

    @property
    def threads(self) -> set[str]:
        return set(self._shown)

    @property
    def selected_thread(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def rebuild(self, snapshots: Iterable[ConversationView]) -> None:
        selected = self.selected_thread
        self.clear()
        self._shown.clear()
        now = self._clock()
        columns = self.columns_shown
        for snap in sorted(snapshots, key=lambda s: s.last_activity, reverse=True):
            cells = row_cells(snap, now, self._palette, columns)
            self.add_row(*(cells[key] for key, _, _ in columns), key=snap.thread_id)
            self._shown[snap.thread_id] = {key: cells[key].plain for key, _, _ in columns}
        if selected in self._shown:
            self.move_cursor(row=self.get_row_index(selected), scroll=True)

    def update_row(self, snap: ConversationView) -> None:
        """Rewrite the cells of one session that changed (the row must exist)."""
        shown = self._shown[snap.thread_id]
        columns = self.columns_shown
        for key, cell in row_cells(snap, self._clock(), self._palette, columns).items():
            if key in shown and shown[key] != cell.plain:
                shown[key] = cell.plain
                self.update_cell(snap.thread_id, key, cell)

    def refresh_ages(self, views: Iterable[ConversationView]) -> None:
        """Rewrite the "active" cells whose age moved on, and the elapsed time of running turns."""
        now = self._clock()
        for view in views:
            shown = self._shown.get(view.thread_id)
            if shown is None:
                continue
            label = age(now - view.last_activity)
            if shown.get("active") != label:
                shown["active"] = label
                self.update_cell(view.thread_id, "active", Text(label, style=self._palette.muted))
            if view.busy_since is not None:
                width = next(w for key, _, w in self.columns_shown if key == "status")
                status = _clipped(status_cell(view, now, self._palette), width)
                if shown.get("status") != status.plain:
                    shown["status"] = status.plain
                    self.update_cell(view.thread_id, "status", status)


def summary(sessions: Sequence[ConversationView]) -> str:
    """`5 sessions · 2 busy · 1 waiting · 3 queued`."""
    states: list[str] = [view.state for view in sessions]
    queued = sum(view.queued for view in sessions)
    parts = [f"{len(states)} session" + ("" if len(states) == 1 else "s")]
    for state, label in (("busy", "busy"), ("waiting", "waiting"), ("error", "failed")):
        if states.count(state):
            parts.append(f"{states.count(state)} {label}")
    if queued:
        parts.append(f"{queued} queued")
    return " · ".join(parts)
