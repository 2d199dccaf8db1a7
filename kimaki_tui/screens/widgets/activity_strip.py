"""The dashboard's activity strip: the newest few lines of the app's activity feed (prompts,
answers, approvals asked for, aborts, failures), so a glance shows what just happened.

It declares what it shows from the app's `activity` reactive; each line says how long ago it
happened, by the model's clock (the dashboard's timer moves the ages on).
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widgets import Static

from kimaki_tui.screens.activity import ActivityLine
from kimaki_tui.screens.format import Palette, age

SHOWN = 3
EMPTY = "No activity yet: prompts, answers and requests for approval show here as they happen."


def activity_text(lines: tuple[ActivityLine, ...], palette: Palette, now: float) -> Text:
    if not lines:
        return Text(EMPTY, style=palette.muted)
    text = Text()
    for index, line in enumerate(lines[-SHOWN:]):
        if index:
            text.append("\n")
        text.append(f"{age(now - line.at):>4}  ", style=palette.muted)
        colour = {"warning": palette.waiting, "error": palette.error}.get(line.level, "")
        text.append(line.text, style=colour)
    return text


class ActivityStrip(Static):
    def __init__(self, palette: Palette, clock: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._palette = palette
        self._clock = clock
        self._lines: tuple[ActivityLine, ...] = ()

    def on_mount(self) -> None:
        self.border_title = "Activity"
        self.watch(self.app, "activity", self._show)

    def _show(self, lines: tuple[ActivityLine, ...]) -> None:
        self._lines = lines
        self.refresh_ages()

    def refresh_ages(self) -> None:
        self.update(activity_text(self._lines, self._palette, self._clock()))
