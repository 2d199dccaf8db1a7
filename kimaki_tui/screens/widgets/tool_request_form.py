"""The answer form of an agent tool request: one button per label, or a box for local file paths.

It only says what was chosen (a `Chosen` message); the screen answers the core's request.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Static

from kimaki_tui.core.api import AnswerResult, ToolRequestsApi
from kimaki_tui.core.events import ToolRequest


class ToolRequestForm(Vertical):
    class Chosen(Message):
        """A label clicked (`label`), or file paths typed (`paths`, separated by spaces)."""

        def __init__(self, request_id: str, label: str | None, paths: str = "") -> None:
            super().__init__()
            self.request_id = request_id
            self.label = label
            self.paths = paths

    DEFAULT_CSS = """
    ToolRequestForm { height: auto; }
    ToolRequestForm Horizontal { height: auto; }
    ToolRequestForm Button { margin-right: 1; }
    """

    def __init__(self, request: ToolRequest) -> None:
        super().__init__()
        self.request = request

    def compose(self) -> ComposeResult:
        request = self.request
        yield Static(request.prompt, classes="tool-prompt")
        if request.kind == "buttons":
            with Horizontal():
                for index, label in enumerate(request.labels):
                    yield Button(label, id=f"tool-choice-{index}")
        else:
            yield Static(f"Up to {request.max_files} file(s): type local paths, Enter sends.")
            yield Input(placeholder="~/path/to/file …", id="tool-paths")

    def focus_first(self) -> None:
        first = next(iter(self.query("Button, Input")), None)
        if first is not None:
            first.focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        index = int(str(event.button.id).rsplit("-", 1)[1])
        self.post_message(self.Chosen(self.request.request_id, self.request.labels[index]))

    @on(Input.Submitted, "#tool-paths")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.post_message(self.Chosen(self.request.request_id, None, event.value))


def answer(
    requests: ToolRequestsApi, chosen: ToolRequestForm.Chosen, *, by: str, origin: str
) -> AnswerResult:
    """Answer the core's request with what the form said (a label, or typed file paths)."""
    if chosen.label is not None:
        return requests.choose(chosen.request_id, chosen.label, by=by, origin=origin)
    return requests.give_local_files(chosen.request_id, chosen.paths.split(), by=by, origin=origin)
