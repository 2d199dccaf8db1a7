"""What the Discord view shows and does, with no Discord in it: a `ChatWorld` protocol over channels,
threads and messages with buttons and select menus, implemented by the demo over its Discord twin.

The screens may not import discord (nor the twin, which does), so the composition code adapts the
twin to these plain values and injects the adapter through `ControlCenterModel.chat`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

ComponentKind = Literal["button", "select", "link"]


@dataclass(frozen=True, slots=True)
class ChatOption:
    label: str
    value: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class ChatComponent:
    """A button (style: primary/secondary/success/danger), a link, or a string select menu."""

    kind: ComponentKind
    custom_id: str
    label: str
    disabled: bool = False
    style: str = "secondary"
    options: tuple[ChatOption, ...] = ()
    min_values: int = 1
    max_values: int = 1


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message as the demo user sees it; `rows` are its action rows, `notes` its extras
    (attachments, embeds, the thread it started) as one-line texts."""

    id: int
    channel_id: int
    author: str
    content: str
    bot: bool = False
    rows: tuple[tuple[ChatComponent, ...], ...] = ()
    notes: tuple[str, ...] = ()
    ephemeral: bool = False
    thinking: bool = False
    edited: bool = False

    @property
    def components(self) -> tuple[ChatComponent, ...]:
        return tuple(c for row in self.rows for c in row)


@dataclass(frozen=True, slots=True)
class ChatChannel:
    id: int
    name: str
    parent_id: int | None = None
    archived: bool = False

    @property
    def is_thread(self) -> bool:
        return self.parent_id is not None


@dataclass(frozen=True, slots=True)
class SlashOption:
    name: str
    description: str = ""
    required: bool = False


@dataclass(frozen=True, slots=True)
class SlashCommand:
    name: str
    description: str = ""
    options: tuple[SlashOption, ...] = field(default=())


class ChatWorld(Protocol):
    """A Discord server seen by one user: read channels and messages, act, and hear of changes."""

    @property
    def user_name(self) -> str: ...

    @property
    def intro(self) -> str:
        """Shown in a channel without messages (what to try)."""
        ...

    def channels(self) -> list[ChatChannel]:
        """The project channel(s) first, each followed by its threads, oldest first."""
        ...

    def messages(self, channel_id: int) -> list[ChatMessage]: ...

    def commands(self) -> list[SlashCommand]: ...

    async def send(self, text: str, channel_id: int) -> None: ...

    async def click(self, message_id: int, custom_id: str) -> str | None:
        """Press a button; returns a short note if Discord would show an error instead."""
        ...

    async def select(self, message_id: int, custom_id: str, values: list[str]) -> str | None: ...

    async def slash(self, channel_id: int, command: str, options: Mapping[str, str]) -> str | None: ...

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener()` (cheaply, maybe often) after every change; returns the unsubscribe."""
        ...


def parse_slash(text: str) -> tuple[str, dict[str, str]]:
    """`/queue message=hi there` → ("queue", {"message": "hi there"}): a value runs to the next
    `name=`; a bare word after the command fills the command's first option (see `bind_slash`)."""
    body = text.strip().removeprefix("/").strip()
    name, _, rest = body.partition(" ")
    options: dict[str, str] = {}
    key: str | None = None
    words: list[str] = []
    for word in rest.split(" "):
        head, eq, value = word.partition("=")
        if eq and head.isidentifier():
            if key is not None or words:
                options[key or ""] = " ".join(words)
            key, words = head, [value] if value else []
        elif word:
            words.append(word)
    if key is not None or words:
        options[key or ""] = " ".join(words)
    return name, options


def bind_slash(command: SlashCommand, options: dict[str, str]) -> dict[str, str]:
    """Give a nameless value ("/queue hi") to the command's first option."""
    bound = dict(options)
    loose = bound.pop("", None)
    if loose and command.options:
        first = command.options[0].name
        bound[first] = f"{loose} {bound[first]}".strip() if first in bound else loose
    return bound
