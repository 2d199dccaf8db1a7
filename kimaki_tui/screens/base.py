"""The base of every main screen: the model, the theme's palette, live events and resyncs.

The app hands each batch of core events to every screen (`apply_events`), saying whether it is
in the active stack; a hidden screen at most notes what changed and catches up in `sync` when it
is shown again, so screens in other modes cost next to nothing while hidden.
"""

from __future__ import annotations

import logging
from typing import cast

from textual.notifications import SeverityLevel
from textual.screen import Screen

from kimaki_tui.errors import KimakiError, describe
from kimaki_tui.screens.format import Palette, palette_from_theme, project_name
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.screens.state import APPROVAL_EVENTS, AppState
from kimaki_tui.screens.widgets.nav_bar import NavBar

__all__ = ["APPROVAL_EVENTS", "KimakiScreen"]
log = logging.getLogger(__name__)


class KimakiScreen(Screen[None]):
    NAV = ""

    def __init__(self, model: ControlCenterModel, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model

    @property
    def app_state(self) -> AppState:
        """The app's one state (read it; watch `self.app` by the same names to follow it)."""
        return cast(AppState, self.app)

    @property
    def palette(self) -> Palette:
        return palette_from_theme(self.app.current_theme)

    def nav_bar(self) -> NavBar:
        return NavBar(self.NAV, where=str(self.model.data_dir), discord=self.model.chat is not None)

    def notify_failure(self, what: str, exc: BaseException, *, severity: SeverityLevel = "error") -> None:
        """`what` failed: say why as the bot and the command line would (`describe`); a bug (not a
        KimakiError) is also logged with its traceback."""
        if not isinstance(exc, KimakiError):
            log.error("%s", what, exc_info=exc)
        message, hint = describe(exc)
        self.notify(f"{what}: {message}" + (f" {hint}" if hint else ""), severity=severity)

    def apply_events(self, events: tuple[object, ...], *, visible: bool = True) -> None:
        """Live core events. Hidden screens (`visible` False) only take notes; `sync` catches up."""

    def apply_log(self) -> None:
        """Lines were added to the app's log book."""

    def sync(self) -> None:
        """Re-read from the core what may have changed while this screen was hidden."""

    def on_screen_resume(self) -> None:
        self.sync()

    def session_label(self, session_id: str) -> tuple[str, str]:
        """(project, session title) for a session id, as the dashboard names them."""
        view = self.model.core.conversations.for_session(session_id)
        if view is None:
            return ("?", session_id)
        return (project_name(view.directory), view.title or f"thread {view.thread_id}")
