"""The Discord view (demo mode): the project channel and its threads as a chat, as the demo user.

Typing sends a message (in the channel it starts a thread, which the view then follows); a line
starting with `/` runs a slash command (`/queue message=hi`, `/abort`). The bot's buttons and
select menus are real widgets. Everything shown is read back from the `ChatWorld` (the demo's
Discord twin) whenever it changes, so an approval given on the Approvals screen shows here exactly
as Discord would show it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from kimaki_tui.core.events import ChatStatus
from kimaki_tui.screens.base import KimakiScreen
from kimaki_tui.screens.chat_model import ChatChannel, ChatWorld, bind_slash, parse_slash
from kimaki_tui.screens.format import clip
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.screens.widgets.chat_message import ChatAction, MessageView

log = logging.getLogger(__name__)
HINTS_SHOWN = 6
CHANNEL_NAME_WIDTH = 19


class ChatChanged(Message, bubble=False):
    """Something changed in the chat world (posted at most once until handled)."""


class DiscordScreen(KimakiScreen):
    NAV = "discord"
    DEFAULT_CSS = """
    #chat-body { height: 1fr; }
    #chat-channels {
        width: 28;
        height: 1fr;
        border: round $primary 40%;
        border-title-color: $text-primary;
        &:focus { border: round $primary; }
    }
    #chat-log {
        width: 1fr;
        height: 1fr;
        border: round $accent 50%;
        border-title-color: $text-primary;
        border-title-style: bold;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    #chat-hint { height: auto; max-height: 7; padding: 0 1; background: $boost; }
    #chat-input {
        margin-bottom: 1;
        border: tall $accent 40%;
        &:focus { border: tall $accent; }
    }
    .chat-message { height: auto; margin-top: 1; }
    .chat-message.-continued { margin-top: 0; }
    #chat-intro { color: $text-muted; padding: 1 2; }
    .chat-message.-user { border-left: thick $success 60%; padding-left: 1; }
    .chat-message.-bot { border-left: thick $secondary 60%; padding-left: 1; }
    .chat-message.-ephemeral { background: $boost; }
    .chat-row { height: auto; margin-top: 1; }
    .chat-row Button { margin-right: 1; }
    .chat-row Select { width: 40; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "focus_input", "Type", tooltip="Back to the message box"),
        Binding("ctrl+l", "focus_channels", "Channels", tooltip="Pick a channel or thread"),
    ]

    def __init__(self, model: ControlCenterModel, chat: ChatWorld) -> None:
        super().__init__(model)
        self.chat = chat
        self.channel_id: int | None = None
        self._views: dict[int, MessageView] = {}
        self._shown_channels: list[ChatChannel] = []
        self._queued = False
        self._follow_from: set[int] | None = None  # thread ids before our message in a channel
        self._unsubscribe: Callable[[], None] | None = None

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        with Horizontal(id="chat-body"):
            channels = OptionList(id="chat-channels")
            channels.border_title = "Channels"
            yield channels
            yield VerticalScroll(id="chat-log")
        yield Static(id="chat-hint")
        yield Input(id="chat-input", placeholder="Message (or /command)")
        yield Footer()

    def on_mount(self) -> None:
        self._unsubscribe = self.chat.subscribe(self._changed)
        self.query_one("#chat-input").focus()
        self.query_one("#chat-hint").display = False
        self.watch(self.app, "discord_status", self._bot_status)

    def _bot_status(self, status: ChatStatus) -> None:
        """Whether the bot is there to answer (messages sent before it connects go unseen)."""
        shown = {"connected": "bot online", "connecting": "bot connecting…"}.get(
            status.state, f"bot {status.state}"
        )
        self.query_one("#chat-log").border_subtitle = shown

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    # ---- keeping up with the chat ---------------------------------------------------------------
    def _changed(self) -> None:
        if not self._queued:
            self._queued = True
            self.post_message(ChatChanged())

    def sync(self) -> None:
        self._changed()

    async def on_chat_changed(self, _: ChatChanged) -> None:
        self._queued = False
        if self.is_current:
            await self.refresh_chat()

    async def refresh_chat(self) -> None:
        channels = self.chat.channels()
        if self.channel_id is None or all(c.id != self.channel_id for c in channels):
            self.channel_id = channels[0].id if channels else None
        followed = self._followed_thread(channels)
        if followed is not None:
            self.channel_id = followed
        if channels != self._shown_channels or followed is not None:
            self._show_channels(channels)
        await self._show_messages()

    def _followed_thread(self, channels: list[ChatChannel]) -> int | None:
        """The thread our last message in a channel started, once it exists."""
        if self._follow_from is None:
            return None
        new = [c for c in channels if c.parent_id == self.channel_id and c.id not in self._follow_from]
        if not new:
            return None
        self._follow_from = None
        return new[-1].id

    def _show_channels(self, channels: list[ChatChannel]) -> None:
        self._shown_channels = channels
        options = self.query_one("#chat-channels", OptionList)
        options.clear_options()
        for channel in channels:
            name = clip(channel.name, CHANNEL_NAME_WIDTH)
            label = Text(f"  ↳ {name}" if channel.is_thread else f"# {name}", no_wrap=True)
            if channel.archived:
                label.stylize("dim")
            options.add_option(Option(label, id=str(channel.id)))
        if self.channel_id is not None:
            options.highlighted = options.get_option_index(str(self.channel_id))

    async def _show_messages(self) -> None:
        log_view = self.query_one("#chat-log", VerticalScroll)
        messages = self.chat.messages(self.channel_id) if self.channel_id is not None else []
        self._show_title(log_view)
        keep = {m.id for m in messages}
        gone = [view for mid, view in self._views.items() if mid not in keep]
        for view in gone:
            del self._views[view.message.id]
        if gone:
            await log_view.remove_children(gone)
        added: list[MessageView] = []
        previous: str | None = None
        for message in messages:
            shown = self._views.get(message.id)
            if shown is None:
                self._views[message.id] = MessageView(message, continued=message.author == previous)
                added.append(self._views[message.id])
            elif shown.message != message:
                await shown.show(message)
            previous = None if message.ephemeral else message.author
        await self._show_intro(log_view, bool(messages))
        if added:
            at_end = log_view.max_scroll_y - log_view.scroll_y <= 2
            await log_view.mount_all(added)
            if at_end or len(added) == len(messages):
                log_view.scroll_end(animate=False)

    def _show_title(self, log_view: VerticalScroll) -> None:
        current = next((c for c in self._shown_channels if c.id == self.channel_id), None)
        if current is not None:
            log_view.border_title = f"↳ {current.name}" if current.is_thread else f"# {current.name}"
            prompt = self.query_one("#chat-input", Input)
            prompt.placeholder = f"Message {log_view.border_title} (or /command)"

    async def _show_intro(self, log_view: VerticalScroll, has_messages: bool) -> None:
        """What to try, in a channel without messages yet."""
        intro = self.query("#chat-intro")
        if has_messages and intro:
            await intro.remove()
        elif not has_messages and not intro and self.chat.intro:
            await log_view.mount(Static(self.chat.intro, id="chat-intro", markup=False))

    async def show_channel(self, channel_id: int) -> None:
        if channel_id == self.channel_id:
            return
        self.channel_id = channel_id
        self._follow_from = None
        self._views.clear()
        await self.query_one("#chat-log", VerticalScroll).remove_children()
        await self.refresh_chat()

    @on(OptionList.OptionSelected, "#chat-channels")
    async def _channel_picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            await self.show_channel(int(event.option.id))
            self.query_one("#chat-input").focus()

    # ---- acting as the demo user ------------------------------------------------------------------
    @on(Input.Submitted, "#chat-input")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text or self.channel_id is None:
            return
        event.input.clear()
        if text.startswith("/"):
            self._slash(text)
            return
        current = next((c for c in self._shown_channels if c.id == self.channel_id), None)
        if current is not None and not current.is_thread:
            self._follow_from = {c.id for c in self._shown_channels}
        self._act(self.chat.send(text, self.channel_id))

    def _slash(self, text: str) -> None:
        name, options = parse_slash(text)
        command = next((c for c in self.chat.commands() if c.name == name), None)
        if command is None:
            self.notify(f"There is no /{name} command.", severity="warning")
            return
        assert self.channel_id is not None
        self._act(self.chat.slash(self.channel_id, name, bind_slash(command, options)))

    def on_chat_action(self, action: ChatAction) -> None:
        if action.values is None:
            self._act(self.chat.click(action.message_id, action.custom_id))
        else:
            self._act(self.chat.select(action.message_id, action.custom_id, action.values))

    @work(group="chat")
    async def _act(self, action: Awaitable[str | None]) -> None:
        try:
            note = await action
        except Exception as exc:  # the view must survive anything the twin refuses
            log.exception("Discord view action failed")
            note = str(exc)
        if note:
            self.notify(note, title="Discord", severity="warning")

    @on(Input.Changed, "#chat-input")
    def _hint(self, event: Input.Changed) -> None:
        hint = self.query_one("#chat-hint", Static)
        value = event.value
        if not value.startswith("/"):
            hint.display = False
            return
        typed = value[1:].split(" ")[0]
        matches = [c for c in self.chat.commands() if c.name.startswith(typed)][:HINTS_SHOWN]
        lines = Text()
        for command in matches:
            options = " ".join(f"{o.name}=…" if o.required else f"[{o.name}=…]" for o in command.options)
            lines.append(f"/{command.name} {options}".rstrip(), style="bold")
            lines.append(f"  {command.description}\n", style="dim")
        hint.update(lines if matches else Text("No such command", style="dim"))
        hint.display = True

    def action_focus_input(self) -> None:
        self.query_one("#chat-input").focus()

    def action_focus_channels(self) -> None:
        self.query_one("#chat-channels").focus()
