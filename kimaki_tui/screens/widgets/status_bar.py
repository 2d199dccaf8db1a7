"""The dashboard's status bar: Discord connection, OpenCode server, scheduler.

It watches the app's `discord_status`, `server_status` and `scheduler_status` (the app's state) and
samples OpenCode's resident memory every few seconds when its pid is known.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from kimaki_tui.core.events import ChatStatus
from kimaki_tui.opencode.status import ServerStatus
from kimaki_tui.screens.format import Palette, clip, megabytes
from kimaki_tui.screens.model import rss_bytes

MEMORY_INTERVAL = 5.0
_GOOD, _BUSY, _BAD, _OFF = "good", "busy", "bad", "off"
_DISCORD = {"connected": _GOOD, "connecting": _BUSY, "disconnected": _BAD, "failed": _BAD, "stopped": _OFF}
_SERVER = {"healthy": _GOOD, "starting": _BUSY, "restarting": _BUSY, "failed": _BAD, "stopped": _OFF}
_GLYPH = {_GOOD: "●", _BUSY: "◌", _BAD: "✗", _OFF: "○"}


def _lamp(title: str, state: str, mood: str, palette: Palette) -> Text:
    colour = {_GOOD: palette.idle, _BUSY: palette.busy, _BAD: palette.error}.get(mood, palette.muted)
    text = Text(f"{title} ", style="bold")
    text.append(f"{_GLYPH[mood]} {state}", style=colour)
    return text


def discord_text(status: ChatStatus, palette: Palette) -> Text:
    text = _lamp("Discord", status.state, _DISCORD.get(status.state, _OFF), palette)
    details: list[str] = []
    if status.user:
        details.append(status.user)
    if status.state == "connected":
        details.append(f"{status.guilds} guild" + ("" if status.guilds == 1 else "s"))
        if status.latency_ms is not None:
            details.append(f"{status.latency_ms:.0f} ms")
    elif status.detail:
        details.append(clip(status.detail, 60))
    for detail in details:
        text.append(f" · {detail}", style=palette.muted)
    if status.public_bot:  # anyone can add it to their server: the tooltip and the log say more
        text.append(" · ⚠ public", style=palette.busy)
    return text


def server_text(status: ServerStatus, rss: int | None, palette: Palette) -> Text:
    text = _lamp("OpenCode", status.state, _SERVER.get(status.state, _OFF), palette)
    details: list[str] = []
    if status.port is not None:
        details.append(f"port {status.port}")
    if rss is not None:
        details.append(megabytes(rss))
    if status.detail and status.state != "healthy":
        details.append(clip(status.detail, 60))
    for detail in details:
        text.append(f" · {detail}", style=palette.muted)
    if status.warning and status.state != "failed":
        text.append(f" · ⚠ {clip(status.warning, 60)}", style=palette.busy)
    return text


def scheduler_text(status: str | None, palette: Palette) -> Text:
    text = Text("Scheduler ", style="bold")
    text.append(status or "—", style=palette.muted if status is None else "")
    return text


class StatusBar(Horizontal):
    def __init__(self, palette: Palette) -> None:
        super().__init__(id="status-bar")
        self._palette = palette
        self._server = ServerStatus("stopped")
        self._rss: int | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="discord-status")
        yield Static(id="opencode-status")
        yield Static(id="scheduler-status")

    def on_mount(self) -> None:
        self.watch(self.app, "discord_status", self._show_discord)
        self.watch(self.app, "server_status", self._show_server)
        self.watch(self.app, "scheduler_status", self._show_scheduler)
        self.set_interval(MEMORY_INTERVAL, self._sample_memory)

    def _show_scheduler(self, status: str | None) -> None:
        self.query_one("#scheduler-status", Static).update(scheduler_text(status, self._palette))

    def _show_discord(self, status: ChatStatus) -> None:
        widget = self.query_one("#discord-status", Static)
        widget.update(discord_text(status, self._palette))
        if status.public_bot:
            from kimaki_tui.setup.guide import PUBLIC_BOT  # the wizard's words, loaded when needed

            widget.tooltip = PUBLIC_BOT
        else:
            widget.tooltip = None

    def _show_server(self, status: ServerStatus) -> None:
        self._server = status
        if status.pid is None or status.state != "healthy":
            self._rss = None
        elif self._rss is None:
            self._rss = rss_bytes(status.pid)
        self._paint_server()

    def _sample_memory(self) -> None:
        if self._server.pid is None or self._server.state != "healthy":
            return
        rss = rss_bytes(self._server.pid)
        if rss != self._rss:
            self._rss = rss
            self._paint_server()

    def _paint_server(self) -> None:
        self.query_one("#opencode-status", Static).update(server_text(self._server, self._rss, self._palette))
