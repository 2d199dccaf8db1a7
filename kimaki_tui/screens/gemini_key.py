"""Set the Gemini API key that transcribes voice messages, from the control center (Ctrl+P).

The key goes to the same SecretStore the bot reads on every voice message, so it applies at once;
a voice message that was waiting for a key is transcribed when someone clicks its "Set Gemini API
key" button in Discord (no modal then). Keyring calls run in a worker thread (D-Bus can be slow).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static

from kimaki_tui.secrets import ENV_VARS, GEMINI_API_KEY, SecretStore, SecretsUnavailable, mask

if TYPE_CHECKING:
    from kimaki_tui.screens.app import KimakiApp

INTRO = (
    "Voice messages sent to the bot are transcribed with Google Gemini. Paste an API key from "
    "https://aistudio.google.com/apikey and press Enter."
)


class GeminiKeyScreen(ModalScreen[str | None]):
    """Dismissed with a confirmation to show, or None when cancelled."""

    DEFAULT_CSS = """
    GeminiKeyScreen { align: center middle; background: $background 60%; }
    GeminiKeyScreen #dialog {
        width: 80; max-width: 96%; height: auto; border: round $accent; background: $surface;
        padding: 1 2;
    }
    GeminiKeyScreen #current { color: $text-muted; margin: 1 0; }
    GeminiKeyScreen #key-error { color: $text-error; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, store: SecretStore) -> None:
        super().__init__()
        self.store = store

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as dialog:
            dialog.border_title = "Gemini API key"
            yield Static(INTRO)
            yield Static("Checking the current key…", id="current")
            yield Input(placeholder="AIza…", password=True, id="key")
            yield Static(id="key-error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#key", Input).focus()
        self._show_current()

    @work(thread=True, group="gemini-key-show")
    def _show_current(self) -> None:
        source = self.store.source_of(GEMINI_API_KEY)
        if source is None:
            text = "No key is set yet."
        else:
            text = f"A key is set ({mask(self.store.get_gemini_key())}, from the {source})."
            if source == "env":
                text += f" {ENV_VARS[GEMINI_API_KEY]} overrides a key saved here."
        self.app.call_from_thread(self.query_one("#current", Static).update, text)

    @on(Input.Submitted, "#key")
    def _submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.query_one("#key-error", Static).update("✗ Paste a key first (Escape cancels).")
            return
        self._save(event.value)

    @work(thread=True, exclusive=True, group="gemini-key-save")
    def _save(self, value: str) -> None:
        try:
            where = self.store.set_gemini_key(value)
        except (SecretsUnavailable, ValueError) as exc:
            self.app.call_from_thread(self.query_one("#key-error", Static).update, f"✗ {exc}")
            return
        self.app.call_from_thread(self.dismiss, f"Gemini API key saved in the {where}.")

    def action_cancel(self) -> None:
        self.dismiss(None)


def open_gemini_key(app: KimakiApp) -> None:
    """The palette action: show the dialog, then a notification with the outcome."""

    def done(message: str | None) -> None:
        if message:
            app.notify(message)

    if app.model.secrets is None:
        app.notify("Secrets are not available in this control center.", severity="warning")
        return
    app.push_screen(GeminiKeyScreen(app.model.secrets), done)
