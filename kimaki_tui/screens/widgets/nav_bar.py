"""The bar on top of every main screen: the screens with their keys and the approvals badge."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Static

COMPACT_BELOW = 120  # columns: below this the bar drops the data dir and the tabs' padding

# (mode, key, label): the order of the bar and the app's `1`..`5` bindings.
TABS: tuple[tuple[str, str, str], ...] = (
    ("dashboard", "1", "Dashboard"),
    ("approvals", "2", "Approvals"),
    ("logs", "3", "Logs"),
    ("projects", "4", "Projects"),
    ("tasks", "5", "Tasks"),
)
DISCORD_TAB = ("discord", "6", "Discord")  # only in `kimaki demo` (the model has a chat world)


def tabs(discord: bool) -> tuple[tuple[str, str, str], ...]:
    return (*TABS, DISCORD_TAB) if discord else TABS


def tabs_markup(active: str, pending: int, discord: bool = False, *, compact: bool = False) -> str:
    """The tabs; `compact` (a narrow terminal) drops the padding so all of them fit in 80 columns."""
    pad = "" if compact else " "
    parts: list[str] = []
    for mode, key, label in tabs(discord):
        badge = f"[b $text-warning]⚠{pending}[/]" if mode == "approvals" and pending else ""
        if mode == active:
            parts.append(f"[@click=app.goto('{mode}')][b $text-accent] {key} {label} [/][/]{badge}")
        else:
            parts.append(f"[@click=app.goto('{mode}')][$text-muted]{pad}{key} [/]{label}{pad}[/]{badge}")
    return (" " if compact else "  ").join(parts)


class NavBar(Horizontal):
    """Shows the app's `pending_approvals` (watched) and fits the tabs to its width."""

    pending: reactive[int] = reactive(0)
    compact: reactive[bool] = reactive(False)

    def __init__(self, active: str, where: str = "", *, discord: bool = False) -> None:
        super().__init__(id="nav")
        self._active = active
        self._where = where
        self._discord = discord
        self._tabs = Static(id="tabs")

    def compose(self) -> ComposeResult:
        yield Static("◆ kimaki", id="brand")
        yield self._tabs
        yield Static(self._where, id="where", markup=False)

    def on_mount(self) -> None:
        self.watch(self.app, "pending_approvals", lambda pending: setattr(self, "pending", pending))
        self._show_tabs()

    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < COMPACT_BELOW

    def watch_pending(self) -> None:
        self._show_tabs()

    def watch_compact(self) -> None:
        self._show_tabs()

    def _show_tabs(self) -> None:
        self._tabs.update(tabs_markup(self._active, self.pending, self._discord, compact=self.compact))
