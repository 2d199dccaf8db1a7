"""Answering an OpenCode question from the keyboard: pick an option or type an answer.

Each question gets an option list (a selection list when several answers are allowed) and an
input for a free answer. Picking an option (Enter) or submitting the input answers that question
and moves to the next; when every question has an answer the form posts `QuestionForm.Answer`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList, SelectionList, Static
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection

from kimaki_tui.core.events import QuestionRequest


def _options(question: Mapping[str, Any]) -> list[tuple[str, str]]:
    raw = question.get("options")
    options = raw if isinstance(raw, list) else []
    return [
        (str(o.get("label") or ""), str(o.get("description") or ""))
        for o in options
        if isinstance(o, Mapping) and o.get("label")
    ]


def _prompt(label: str, description: str) -> Text:
    text = Text(label, style="bold")
    if description:
        text.append(f"  {description}", style="dim")
    return text


def question_title(question: Mapping[str, Any]) -> Text:
    header = str(question.get("header") or "")
    text = Text(f"{header} — " if header else "", style="bold")
    text.append(str(question.get("question") or ""))
    if question.get("multiple"):
        text.append("  (several answers allowed: Space to toggle, Ctrl+S to send)", style="dim")
    return text


class QuestionForm(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Send answer", tooltip="Send the picked and typed answers")
    ]

    class Answer(Message):
        def __init__(self, request_id: str, answers: list[list[str]]) -> None:
            super().__init__()
            self.request_id = request_id
            self.answers = answers

    def __init__(self, request: QuestionRequest) -> None:
        super().__init__(classes="question-form")
        self.request = request
        self._questions: Sequence[Mapping[str, Any]] = request.questions
        self._picked: dict[int, list[str]] = {}
        self._typed: dict[int, str] = {}

    def compose(self) -> ComposeResult:
        for index, question in enumerate(self._questions):
            yield Static(question_title(question), classes="question-title")
            options = _options(question)
            if question.get("multiple"):
                yield SelectionList[str](
                    *(Selection(_prompt(label, description), label) for label, description in options),
                    id=f"choices-{index}",
                    classes="choices",
                )
            elif options:
                yield OptionList(
                    *(
                        Option(_prompt(label, description), id=str(n))
                        for n, (label, description) in enumerate(options)
                    ),
                    id=f"choices-{index}",
                    classes="choices",
                )
            yield Input(placeholder="…or type an answer and press Enter", id=f"other-{index}")

    def focus_first(self) -> None:
        self.query(".choices, Input").first().focus()

    @on(OptionList.OptionSelected)
    def _picked_option(self, event: OptionList.OptionSelected) -> None:
        if isinstance(event.option_list, SelectionList):
            return
        event.stop()
        index = _index(event.option_list.id)
        self._picked[index] = [_options(self._questions[index])[int(event.option_id or 0)][0]]
        self._advance(index)

    @on(Input.Submitted)
    def _typed_answer(self, event: Input.Submitted) -> None:
        event.stop()
        index = _index(event.input.id)
        if event.value.strip():
            self._typed[index] = event.value.strip()
            self._advance(index)

    def _answer_for(self, index: int) -> list[str]:
        typed = [self._typed[index]] if index in self._typed else []
        if self._questions[index].get("multiple"):
            chosen = self.query_one(f"#choices-{index}", SelectionList).selected
            return [*(str(value) for value in chosen), *typed]
        return typed or self._picked.get(index, [])

    def _advance(self, index: int) -> None:
        missing = [i for i in range(len(self._questions)) if not self._answer_for(i)]
        if not missing:
            self.action_send()
            return
        after = [i for i in missing if i > index] or missing
        self.query(f"#choices-{after[0]}, #other-{after[0]}").first().focus()

    def action_send(self) -> None:
        answers = [self._answer_for(i) for i in range(len(self._questions))]
        if any(not answer for answer in answers):
            self.notify("Answer every question first (pick an option or type one).", severity="warning")
            return
        self.post_message(self.Answer(self.request.request_id, answers))


def _index(widget_id: str | None) -> int:
    return int((widget_id or "x-0").rsplit("-", 1)[1])
