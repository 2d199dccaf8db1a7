"""The dashboard's status bar: Discord connection, OpenCode server, scheduler.

It watches the app's `discord_status`, `server_status` and `scheduler_status` (the app's state) and
samples OpenCode's resident memory every few seconds when its pid is known.
"""

from __future__ import annotations

from typing import cast

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from kimaki_tui.core.events import ChatStatus
from kimaki_tui.opencode.status import ServerStatus
from kimaki_tui.screens.format import Palette, clip, megabytes
from kimaki_tui.screens.model import rss_bytes
from kimaki_tui.screens.state import AppState

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


def discord_text(status: ChatStatus, palette: Palette, *, compact: bool = False) -> Text:
    """`compact` (a narrow terminal) keeps the state and the warning, not the details."""
    text = _lamp("Discord", status.state, _DISCORD.get(status.state, _OFF), palette)
    for detail in [] if compact else _discord_details(status):
        text.append(f" · {detail}", style=palette.muted)
    if status.public_bot:  # anyone can add it to their server: the tooltip and the log say more
        text.append(" · ⚠ public", style=palette.busy)
    return text


def _discord_details(status: ChatStatus) -> list[str]:
    details: list[str] = [status.user] if status.user else []
    if status.state == "connected":
        details.append(f"{status.guilds} guild" + ("" if status.guilds == 1 else "s"))
        if status.latency_ms is not None:
            details.append(f"{status.latency_ms:.0f} ms")
    elif status.detail:
        details.append(clip(status.detail, 60))
    return details


def server_text(status: ServerStatus, rss: int | None, palette: Palette, *, compact: bool = False) -> Text:
    text = _lamp("OpenCode", status.state, _SERVER.get(status.state, _OFF), palette)
    details: list[str] = []
    if status.port is not None and not compact:
        details.append(f"port {status.port}")
    if rss is not None and not compact:
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


COMPACT_BELOW = 110


class StatusBar(Horizontal):
    def __init__(self, palette: Palette) -> None:
        super().__init__(id="status-bar")
        self._palette = palette
        self._rss: int | None = None  # OpenCode's memory, sampled here (it is not in the app's state)
        self.discord_line = Static(id="discord-status")
        self.opencode_line = Static(id="opencode-status")
        self.scheduler_line = Static(id="scheduler-status")

    @property
    def _state(self) -> AppState:
        return cast(AppState, self.app)

    def compose(self) -> ComposeResult:
        yield self.discord_line
        yield self.opencode_line
        yield self.scheduler_line

    def on_mount(self) -> None:
        self.watch(self.app, "discord_status", self._show_discord)
        self.watch(self.app, "server_status", self._show_server)
        self.watch(self.app, "scheduler_status", self._show_scheduler)
        self.set_interval(MEMORY_INTERVAL, self._sample_memory)

    def _show_scheduler(self, status: str | None) -> None:
        self.scheduler_line.update(scheduler_text(status, self._palette))

    @property
    def _compact(self) -> bool:
        """Below this width the details would push OpenCode's state off the line (80×24)."""
        return 0 < self.size.width < COMPACT_BELOW

    def on_resize(self) -> None:
        self._show_discord(self._state.discord_status)
        self._paint_server()

    def _show_discord(self, status: ChatStatus) -> None:
        widget = self.discord_line
        widget.update(discord_text(status, self._palette, compact=self._compact))
        if status.public_bot:
            from kimaki_tui.setup.guide import PUBLIC_BOT  # the wizard's words, loaded when needed

            widget.tooltip = PUBLIC_BOT
        else:
            widget.tooltip = None

    def _show_server(self, status: ServerStatus) -> None:
        if status.pid is None or status.state != "healthy":
            self._rss = None
        elif self._rss is None:
            self._rss = rss_bytes(status.pid)
        self._paint_server()

    def _sample_memory(self) -> None:
        server = self._state.server_status
        if server.pid is None or server.state != "healthy":
            return
        rss = rss_bytes(server.pid)
        if rss != self._rss:
            self._rss = rss
            self._paint_server()

    def _paint_server(self) -> None:
        text = server_text(self._state.server_status, self._rss, self._palette, compact=self._compact)
        self.opencode_line.update(text)
