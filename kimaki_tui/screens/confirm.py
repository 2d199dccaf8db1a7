"""A yes/no question in a small modal: `y` or Enter confirms, `n` or Escape cancels."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "Yes", priority=True),
        Binding("n,escape", "answer(False)", "No", priority=True),
    ]

    def __init__(self, title: str, question: str, *, confirm: str = "Yes") -> None:
        super().__init__(classes="confirm")
        self._title = title
        self._question = question
        self._confirm = confirm

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as dialog:
            dialog.border_title = self._title
            yield Static(Text(self._question), id="question")
            with Horizontal(id="buttons"):
                yield Button(f"{self._confirm} (y)", variant="error", id="yes")
                yield Button("Cancel (n)", id="no")
        yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
