"""The bar on top of every main screen: the screens with their keys and the approvals badge."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

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


def tabs_markup(active: str, pending: int, discord: bool = False) -> str:
    parts: list[str] = []
    for mode, key, label in tabs(discord):
        badge = f"[b $text-warning]⚠{pending}[/]" if mode == "approvals" and pending else ""
        if mode == active:
            parts.append(f"[@click=app.goto('{mode}')][b $text-accent] {key} {label} [/][/]{badge}")
        else:
            parts.append(f"[@click=app.goto('{mode}')][$text-muted] {key} [/]{label} [/]{badge}")
    return "  ".join(parts)


class NavBar(Horizontal):
    def __init__(self, active: str, where: str = "", *, discord: bool = False) -> None:
        super().__init__(id="nav")
        self._active = active
        self._where = where
        self._discord = discord

    def compose(self) -> ComposeResult:
        yield Static("◆ kimaki", id="brand")
        yield Static(tabs_markup(self._active, 0, self._discord), id="tabs")
        yield Static(self._where, id="where", markup=False)

    def on_mount(self) -> None:
        self.watch(self.app, "pending_approvals", self._show_pending)

    def _show_pending(self, pending: int) -> None:
        self.query_one("#tabs", Static).update(tabs_markup(self._active, pending, self._discord))
