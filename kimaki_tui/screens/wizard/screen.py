"""The first-run wizard as a Textual screen: a step header, one pane per step, the footer.

`WizardScreen(setup)` is pushed by the app when no bot token is available and dismisses itself
with a `SetupResult` (completed=False when the user cancels).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, ContentSwitcher, Footer, Static

from kimaki_tui.screens.confirm import ConfirmScreen
from kimaki_tui.screens.wizard.panes import (
    DonePane,
    GeminiPane,
    InfoPane,
    InstallPane,
    Pane,
    ProjectsPane,
    StepDone,
    TokenPane,
    WaitPane,
)
from kimaki_tui.setup import SetupController, SetupError, SetupResult, Step, guide
from kimaki_tui.setup.browser import can_open_browser


class WizardScreen(Screen[SetupResult]):
    CSS_PATH = "wizard.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Go back one step"),
        Binding(
            "ctrl+x",
            "cancel",
            "Cancel setup",
            tooltip="Leave the wizard; nothing more is saved",
            priority=True,
        ),
    ]

    def __init__(
        self,
        setup: SetupController,
        *,
        open_url: Callable[[str], None] | None = None,
        poll_interval: float = 2.0,
    ) -> None:
        super().__init__()
        self.setup = setup
        self._open_url = open_url
        self._poll_interval = poll_interval

    def compose(self) -> ComposeResult:
        setup = self.setup
        with Vertical(id="wizard"):
            self.title_line = Static("", id="wizard-title")
            yield self.title_line
            self.error_line = Static("", id="wizard-error", classes="error")
            yield self.error_line
            with ContentSwitcher(id="steps") as self.steps:
                yield InfoPane(setup, Step.CREATE_APP, guide.CREATE_APP)
                yield InfoPane(setup, Step.INTENTS, guide.INTENTS)
                yield TokenPane(setup)
                yield InstallPane(setup, self._browser())
                yield WaitPane(setup, self._poll_interval)
                yield ProjectsPane(setup)
                yield GeminiPane(setup)
                yield DonePane(setup)
        yield Footer()

    def on_mount(self) -> None:
        if self.setup.starts_after_token:
            self._prepare()
            return
        self._show()
        offer = self.setup.kimaki_offer
        if offer:
            question = f"{offer}\n\nImport its bot token, channels, threads, tasks and preferences now?"
            confirm = ConfirmScreen("Moving from kimaki", question, confirm="Import")
            self.app.push_screen(confirm, self._kimaki_answer)

    def _kimaki_answer(self, accepted: bool | None) -> None:
        if accepted:
            self._import_kimaki()

    @work(exclusive=True, group="kimaki")
    async def _import_kimaki(self) -> None:
        """Import kimaki's database; with its token the wizard moves on to waiting for a server."""
        self._pane(self.setup.step).left()
        try:
            report = await self.setup.import_from_kimaki()
        except SetupError as exc:
            self.notify(str(exc), title="kimaki import failed", severity="error", timeout=15)
        else:
            self.notify(report, title="Imported from kimaki", timeout=20)
        self._show()

    def _browser(self) -> Callable[[str], None] | None:
        if self._open_url is not None:
            return self._open_url
        return self.app.open_url if can_open_browser() else None

    @work(exclusive=True, group="prepare")
    async def _prepare(self) -> None:
        """A run that starts at the projects step checks the saved token and servers first."""
        self.title_line.update("Checking the saved bot token…")
        try:
            await self.setup.prepare()
        except SetupError as exc:
            error = self.error_line
            error.update(f"{exc}\n(ctrl+x to leave)")
            error.display = True
            return
        self._show()

    def _pane(self, step: Step) -> Pane:
        return self.query_one(f"#{step.value}", Pane)

    def _show(self) -> None:
        number, total = self.setup.position
        self.title_line.update(f"Kimaki setup · step {number} of {total} · {self.setup.title}")
        self.steps.current = self.setup.step.value
        self._pane(self.setup.step).entered()

    @on(StepDone)
    def _step_done(self, event: StepDone) -> None:
        event.stop()
        self._pane(self.setup.step).left()
        try:
            self.setup.advance()
        except SetupError as exc:
            self._pane(self.setup.step).show_error(str(exc))
            return
        self._show()

    @on(Button.Pressed, "#done-finish")
    def _finish(self) -> None:
        self.dismiss(self.setup.result())

    def action_back(self) -> None:
        before = self.setup.step
        self._pane(before).left()
        if self.setup.back() is not before:
            self._show()
        else:
            self._pane(before).entered()

    def action_cancel(self) -> None:
        self.workers.cancel_all()
        self.dismiss(self.setup.result(completed=False))
