"""One Discord message in the Discord view: author, text (Discord's markdown, lightly rendered),
notes, and its buttons and select menus as real widgets that post `ChatAction`s when used."""

from __future__ import annotations

from typing import cast

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Select, Static
from textual.widgets.button import ButtonVariant

from kimaki_tui.screens.chat_model import ChatComponent, ChatMessage
from kimaki_tui.screens.format import inline_markdown

_VARIANTS = {"primary": "primary", "success": "success", "danger": "error", "secondary": "default"}


def discord_text(content: str) -> Text:
    """Discord markdown as a terminal shows it: inline code/bold/italic, `-#` subtext dimmed,
    headings bold, fenced code blocks as a barred block (the fences themselves are not shown;
    a block's language is its dim first line)."""
    lines: list[Text] = []
    fenced = False
    # Without the emoji variation selector, terminals agree on the width of ⚠ and friends.
    for line in content.replace("\ufe0f", "").split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            language = line.lstrip()[3:].strip()
            if fenced and language:
                lines.append(Text(f"▏{language}", style="dim italic"))
            continue
        if fenced:
            lines.append(Text.assemble(("▏", "dim"), (line, "cyan")))
        elif line.startswith("-# "):
            lines.append(inline_markdown(line[3:], code_style="bold", base_style="dim"))
        elif line.startswith("#"):
            lines.append(inline_markdown(line.lstrip("#").strip(), code_style="bold", base_style="bold"))
        else:
            lines.append(inline_markdown(line, code_style="bold cyan"))
    return Text("\n").join(lines)


def message_text(message: ChatMessage, *, continued: bool = False) -> Text:
    """The message as shown; a `continued` one (same author as the one above) has no header."""
    body = Text()
    if message.thinking:
        body.append(f"{message.author} is thinking…", style="dim italic")
    body.append_text(discord_text(message.content))
    for note in message.notes:
        body.append(f"\n{note}", style="dim")
    if continued and not message.ephemeral:
        return body
    head = Text()
    head.append(message.author, style="bold magenta" if message.bot else "bold green")
    if message.bot:
        head.append(" ")
        head.append(" BOT ", style="reverse blue")
    tags = [t for t, on in (("only you can see this", message.ephemeral), ("edited", message.edited)) if on]
    if tags:
        head.append(f"  ({', '.join(tags)})", style="dim italic")
    head.append("\n")
    head.append_text(body)
    return head


class ChatAction(Message):
    """The user pressed a button or picked from a menu on a message."""

    def __init__(self, message_id: int, custom_id: str, values: list[str] | None = None) -> None:
        super().__init__()
        self.message_id = message_id
        self.custom_id = custom_id
        self.values = values  # None for a button


class ChatButton(Button):
    def __init__(self, message_id: int, component: ChatComponent) -> None:
        label = component.label + (" ↗" if component.kind == "link" else "")
        variant = cast(ButtonVariant, _VARIANTS.get(component.style, "default"))
        disabled = component.disabled or component.kind == "link"
        super().__init__(label, variant, disabled=disabled, compact=True)
        self.message_id = message_id
        self.custom_id = component.custom_id


class ChatSelect(Select[str]):
    def __init__(self, message_id: int, component: ChatComponent) -> None:
        options = [(o.label, o.value) for o in component.options]
        super().__init__(options, prompt=component.label, disabled=component.disabled, compact=True)
        self.message_id = message_id
        self.custom_id = component.custom_id
        self.labels = {o.label: o.value for o in component.options}


class MessageView(Vertical):
    """Shows one message; `show()` updates it in place when the bot edits it."""

    def __init__(self, message: ChatMessage, *, continued: bool = False) -> None:
        classes = "chat-message -bot" if message.bot else "chat-message -user"
        classes += " -ephemeral" if message.ephemeral else ""
        super().__init__(classes=classes + (" -continued" if continued else ""))
        self.message = message
        self.continued = continued

    def compose(self) -> ComposeResult:
        yield Static(message_text(self.message, continued=self.continued), classes="chat-text")
        yield from self._rows(self.message)

    def _rows(self, message: ChatMessage) -> list[Horizontal]:
        rows: list[Horizontal] = []
        for row in message.rows:
            widgets: list[Button | Select[str]] = [
                ChatSelect(message.id, c) if c.kind == "select" else ChatButton(message.id, c) for c in row
            ]
            rows.append(Horizontal(*widgets, classes="chat-row"))
        return rows

    async def show(self, message: ChatMessage) -> None:
        old, self.message = self.message, message
        if (old.content, old.notes, old.edited, old.thinking) != (
            message.content,
            message.notes,
            message.edited,
            message.thinking,
        ):
            self.query_one(".chat-text", Static).update(message_text(message, continued=self.continued))
        if old.rows != message.rows:
            await self.query(".chat-row").remove()
            await self.mount_all(self._rows(message))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if isinstance(event.button, ChatButton):
            event.stop()
            self.post_message(ChatAction(event.button.message_id, event.button.custom_id))

    def on_select_changed(self, event: Select.Changed) -> None:
        select = event.select
        if isinstance(select, ChatSelect) and isinstance(event.value, str):
            event.stop()
            self.post_message(ChatAction(select.message_id, select.custom_id, [event.value]))
