"""The Discord view (demo mode): the project channel and its threads as a chat, as the demo user.

`m` opens the message box (focus starts on the chat, so the nav bar's digits switch screens);
Enter sends (in the channel it starts a thread, which the view then follows); a line starting with
`/` runs a slash command (`/queue message=hi`, `/abort`). The bot's buttons and select menus are
real widgets. Everything shown is read back from the `ChatWorld` (the demo's Discord twin)
whenever it changes, so an approval given on the Approvals screen shows here exactly as Discord
would show it. The chat stays at its newest message (anchored) until the reader scrolls up; then
the border says new messages arrived and End jumps to them. "Kimaki is typing…" shows while the
shown thread's session runs a turn (the app's `sessions`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from kimaki_tui.core.api import ConversationView
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


class ChatLog(VerticalScroll):
    """The messages, anchored to the newest; `released` while the reader is scrolled away from it.
    ↑/↓ select a message (`selected`, outlined: what `c` copies); End drops the selection."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # List keys: shown on the keys screen (?), and End in the "new messages (End)" note.
        Binding("end", "newest", "Newest", tooltip="Jump to the newest message and follow again", show=False),
        Binding("up", "select(-1)", "Message up", tooltip="Select the message above (c copies)", show=False),
        Binding("down", "select(1)", "Message down", tooltip="Select the one below (c copies)", show=False),
    ]
    released: reactive[bool] = reactive(False)
    selected: reactive[MessageView | None] = reactive(None, init=False)

    def action_newest(self) -> None:
        self.selected = None
        self.anchor()  # scrolls to the end and follows again
        self.released = False

    def action_select(self, step: int) -> None:
        views = list(self.query(MessageView))
        if not views:
            return
        if self.selected not in views:  # start from the last message on screen
            bottom = self.scroll_y + self.scrollable_content_region.height
            visible = [i for i, view in enumerate(views) if view.virtual_region.y < bottom]
            index = visible[-1] if visible else len(views) - 1
        else:
            index = min(max(views.index(self.selected) + step, 0), len(views) - 1)
        self.selected = views[index]

    def watch_selected(self, old: MessageView | None, new: MessageView | None) -> None:
        if old is not None:
            old.remove_class("-selected")
        if new is not None:
            new.add_class("-selected")
            self.scroll_to_widget(new, animate=False, immediate=True)

    def release_anchor(self) -> None:
        super().release_anchor()
        self.released = True

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.released and new_value >= self.max_scroll_y:
            self.released = False


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
    #chat-typing { height: 1; padding: 0 2; color: $text-muted; text-style: italic; }
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
    .chat-message.-selected { outline: round $accent; }
    .chat-row { height: auto; margin-top: 1; }
    .chat-row Button { margin-right: 1; }
    .chat-row Select { width: 40; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "focus_input", "Message", tooltip="Type a message (Enter sends; / runs a command)"),
        Binding("escape", "focus_chat", "Read", tooltip="Leave the message box: the digits switch screens"),
        Binding("ctrl+l", "focus_channels", "Channels", tooltip="Pick a channel or thread"),
        Binding("c", "copy", "Copy", tooltip="Copy the selected message (↑/↓), else the conversation"),
    ]
    # New messages arrived below while the reader was scrolled up.
    unread: reactive[bool] = reactive(False)
    # The shown thread's session is running a turn (the bot is "typing").
    typing: reactive[bool] = reactive(False)

    def __init__(self, model: ControlCenterModel, chat: ChatWorld) -> None:
        super().__init__(model)
        self.chat = chat
        self.channel_id: int | None = None
        self._views: dict[int, MessageView] = {}
        self._shown_channels: list[ChatChannel] = []
        self._queued = False
        self._follow_from: set[int] | None = None  # thread ids before our message in a channel
        self._unsubscribe: Callable[[], None] | None = None
        self._to_prompt = False  # `m` was pressed: keys are text until the focus goes elsewhere

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        with Horizontal(id="chat-body"):
            self.channel_list = OptionList(id="chat-channels")
            self.channel_list.border_title = "Channels"
            yield self.channel_list
            self.chat_log = ChatLog(id="chat-log")
            yield self.chat_log
        self.typing_line = Static(id="chat-typing")
        yield self.typing_line
        self.hint = Static(id="chat-hint")
        yield self.hint
        self.prompt = Input(id="chat-input", placeholder="Message (or /command)")
        yield self.prompt
        yield Footer()

    def on_mount(self) -> None:
        self._unsubscribe = self.chat.subscribe(self._changed)
        # Not the message box: the digits of the nav bar must switch screens, not type (`m` types).
        self.chat_log.focus()
        self.chat_log.anchor()
        self.hint.display = False
        self.watch(self.app, "discord_status", self._show_border)
        self.watch(self.app, "sessions", self._follow_turn)
        self.watch(self.chat_log, "released", self._scrolled)

    def on_key(self, event: events.Key) -> None:
        """A character typed on the chat goes to the message box (keys bound here, like the nav
        bar's digits and `m`, stay keys — unless typing has begun and the box is about to take
        the focus: then every character is text, so typing fast after `m` loses nothing)."""
        # With the box focused a character only gets here if it was sent to the chat first.
        if self.focused not in (self.chat_log, self.prompt) or not event.is_printable or not event.character:
            return
        if event.key in self.active_bindings and not self._to_prompt:
            return
        event.stop()
        event.prevent_default()
        self._to_prompt = True  # typing now: the next `m` is a letter
        self.prompt.focus()
        self.prompt.insert_text_at_cursor(event.character)

    # ---- what the view declares -----------------------------------------------------------------
    def _show_border(self) -> None:
        """Whether the bot is there to answer (messages sent before it connects go unseen), and
        whether new messages wait below."""
        status: ChatStatus = self.app_state.discord_status
        shown = {"connected": "bot online", "connecting": "bot connecting…"}.get(
            status.state, f"bot {status.state}"
        )
        self.chat_log.border_subtitle = f"↓ new messages (End) · {shown}" if self.unread else shown

    def watch_unread(self) -> None:
        self._show_border()

    def _follow_turn(self, sessions: tuple[ConversationView, ...]) -> None:
        shown = str(self.channel_id)
        self.typing = any(view.thread_id == shown and view.busy for view in sessions)

    def watch_typing(self, typing: bool) -> None:
        name = self.app_state.discord_status.user or "Kimaki"
        self.typing_line.update(f"{name.split('#')[0]} is typing…")
        self.typing_line.display = typing

    def _scrolled(self, released: bool) -> None:
        if not released:
            self.unread = False

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
        self._follow_turn(self.app_state.sessions)
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
        options = self.channel_list
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
        """Mount new messages, update changed ones, drop deleted ones (by message id)."""
        log_view = self.chat_log
        messages = self.chat.messages(self.channel_id) if self.channel_id is not None else []
        self._show_title(log_view)
        keep = {m.id for m in messages}
        gone = [view for mid, view in self._views.items() if mid not in keep]
        for view in gone:
            del self._views[view.message.id]
        if log_view.selected in gone:
            log_view.selected = None
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
            # Anchored, the log follows by itself; scrolled up, the reader is told instead.
            self.unread = self.unread or (log_view.released and len(added) < len(messages))
            await log_view.mount_all(added)

    def _show_title(self, log_view: VerticalScroll) -> None:
        current = next((c for c in self._shown_channels if c.id == self.channel_id), None)
        if current is not None:
            log_view.border_title = f"↳ {current.name}" if current.is_thread else f"# {current.name}"
            prompt = self.prompt
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
        await self.chat_log.remove_children()
        self.action_newest()
        await self.refresh_chat()

    @on(OptionList.OptionSelected, "#chat-channels")
    async def _channel_picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            await self.show_channel(int(event.option.id))
            self.prompt.focus()

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
        self.action_newest()  # one's own message, and the answer, are what one wants to see
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
        hint = self.hint
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer offers the way into the message box, or the way out of it, not both."""
        if action == "focus_input":
            return self.focused is not self.prompt
        if action == "focus_chat":
            return self.focused is not self.chat_log
        return True

    def action_focus_input(self) -> None:
        self._to_prompt = True
        self.prompt.focus()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget is not self.prompt:
            self._to_prompt = False

    def action_focus_chat(self) -> None:
        self.chat_log.focus()

    def action_focus_channels(self) -> None:
        self.channel_list.focus()

    def action_newest(self) -> None:
        self.chat_log.action_newest()

    def action_copy(self) -> None:
        selected = self.chat_log.selected
        if selected is not None:
            self.app.copy_to_clipboard(selected.message.content)
            self.notify("Copied the selected message.", timeout=2)
            return
        messages = self.chat.messages(self.channel_id) if self.channel_id is not None else []
        self.app.copy_to_clipboard("\n\n".join(f"{m.author}: {m.content}" for m in messages))
        self.notify(f"Copied the conversation ({len(messages)} messages).", timeout=2)
