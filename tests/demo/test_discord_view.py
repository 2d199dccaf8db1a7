"""The control center's Discord view (demo mode) driven by Pilot: the real bot on a real core and
OpenCode, against the twin through the demo's adapter. Type a message, press Accept, pick from a
menu, run /queue and /abort, and approve from the Approvals screen — the view shows each result."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select

from kimaki_tui.demo.chat_adapter import TwinChat
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.screens.app import KimakiApp
from kimaki_tui.screens.discord_view import DiscordScreen
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.screens.widgets.chat_message import ChatButton, ChatSelect, MessageView
from tests.bot.rig import BotRig, bot_rig_context
from tests.screens.conftest import until

pytestmark = pytest.mark.opencode
SIZE = (120, 40)


@pytest.fixture
async def rig(opencode_client: OpenCodeClient, project_dir: Path, tmp_path: Path) -> AsyncIterator[BotRig]:
    async with bot_rig_context(opencode_client, project_dir, tmp_path) as rig:
        yield rig


def demo_app(rig: BotRig) -> KimakiApp:
    chat = TwinChat(rig.twin, rig.users.owner, rig.guild, [rig.channel], intro="Say something.")
    model = ControlCenterModel(core=rig.core, settings=rig.settings, chat=chat)
    return KimakiApp(model)


def view(app: KimakiApp) -> DiscordScreen:
    screen = app.screen
    assert isinstance(screen, DiscordScreen)
    return screen


def shown(app: KimakiApp) -> str:
    """Every message the view shows, as plain text."""
    return "\n".join(str(v.query_one(".chat-text").render()) for v in view(app).query(MessageView))


async def type_line(pilot: Pilot[Any], text: str) -> None:
    prompt = view(pilot.app).query_one("#chat-input", Input)  # type: ignore[arg-type]
    prompt.focus()
    prompt.value = text
    await pilot.press("enter")


def button(app: KimakiApp, label: str) -> ChatButton | None:
    return next((b for b in view(app).query(ChatButton) if str(b.label) == label and not b.disabled), None)


async def test_a_conversation_in_the_discord_view(rig: BotRig) -> None:
    app = demo_app(rig)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, DiscordScreen)  # the demo opens on the Discord view
        await until(
            pilot, lambda: "Say something." in str(app.screen.query_one("#chat-intro").render()), "intro"
        )

        # A message in the channel starts a thread; the view follows it and shows the answer.
        await type_line(pilot, "Hello from the view")
        thread = await rig.wait_thread()
        await until(pilot, lambda: view(app).channel_id == thread.id, "the view to follow the thread")
        await until(pilot, lambda: "Echo: Hello from the view" in shown(app), "the answer")
        await rig.wait_idle(thread)

        # A permission prompt: press Accept in the view.
        await type_line(pilot, "RUN_BASH: echo view > view.txt")
        accept = await until(pilot, lambda: button(app, "Accept"), "the Accept button")
        await pilot.click(accept)
        await until(pilot, lambda: "Accepted once by owner" in shown(app), "the prompt to be edited")
        await rig.wait_idle(thread)
        assert (rig.project_dir / "view.txt").read_text() == "view\n"
        await until(pilot, lambda: button(app, "Accept") is None, "the buttons to go")

        # A question: pick Blue from the select menu with the keyboard.
        await type_line(pilot, "ASK_QUESTION")
        menu = await until(pilot, lambda: next(iter(view(app).query(ChatSelect)), None), "the menu")
        menu.focus()
        await pilot.press("enter", "down", "down", "down", "enter")
        await until(pilot, lambda: "Color — Blue" in shown(app), "the answer to show")
        await rig.wait_idle(thread)
        assert not view(app).query(Select)

        # /queue behind a slow answer, then /abort: the queued message runs next.
        await type_line(pilot, "SLOW:30")
        await rig.twin.wait_until(
            lambda: rig.core.conversations.runtime(str(thread.id)).busy, 20, "the slow turn"
        )
        await type_line(pilot, "/queue message=REPLY: from the queue")
        await until(pilot, lambda: "Queued (position 1)" in shown(app), "the queue reply")
        await type_line(pilot, "/abort")
        await until(pilot, lambda: "from the queue" in shown(app).split("Aborted")[-1], "the queued answer")
        await rig.wait_idle(thread)


async def test_approving_from_the_approvals_screen_updates_the_view(rig: BotRig) -> None:
    app = demo_app(rig)
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "RUN_BASH: echo tui > tui.txt")
        await until(pilot, lambda: button(app, "Accept"), "the Accept button")
        await app.action_goto("approvals")
        await until(pilot, lambda: rig.core.approvals.pending_permissions(), "the pending request")
        await pilot.press("o")
        await until(pilot, lambda: not rig.core.approvals.pending_permissions(), "the answer")
        await app.action_goto("discord")
        await until(pilot, lambda: "Accepted once by control center" in shown(app), "the edited prompt")
        assert button(app, "Accept") is None
        thread = await rig.wait_thread()
        await rig.wait_idle(thread)
        assert (rig.project_dir / "tui.txt").exists()


async def test_keys_typing_indicator_and_new_messages(rig: BotRig) -> None:
    """Focus starts on the chat, so the nav bar's digits switch screens; `m` opens the box. While
    the thread's turn runs the bot is shown typing. Scrolled up, new messages are announced and End
    jumps to them; one's own message always jumps to the end."""
    app = demo_app(rig)
    async with app.run_test(size=SIZE) as pilot:
        screen = view(app)
        assert screen.focused is screen.chat_log
        await pilot.press("2")
        assert app.current_mode == "approvals"
        await pilot.press("6", "m")
        assert view(app).focused is view(app).prompt
        await pilot.press(*"LONG:3000", "enter")
        thread = await rig.wait_thread()
        await until(pilot, lambda: view(app).channel_id == thread.id, "the view to follow the thread")
        await rig.wait_idle(thread)
        await pilot.press(*"SLOW:6", "enter")
        typing = view(app).typing_line
        await until(pilot, lambda: typing.display and "is typing" in str(typing.render()), "typing")
        chat = view(app).chat_log
        await until(pilot, lambda: chat.max_scroll_y > 0, "a chat longer than the screen")
        await pilot.press("escape")
        chat.scroll_home(animate=False)
        await rig.wait_idle(thread)
        await until(pilot, lambda: not typing.display, "the typing line to go when the turn ends")
        await until(pilot, lambda: "new messages" in str(chat.border_subtitle), "the new-message note")
        assert chat.scroll_y < chat.max_scroll_y, "scrolled up: the reader is not yanked down"
        await pilot.press("end")
        await until(pilot, lambda: chat.scroll_y >= chat.max_scroll_y, "the newest message")
        assert "new messages" not in str(chat.border_subtitle)


async def test_arrows_select_a_message_and_c_copies_it(rig: BotRig) -> None:
    app = demo_app(rig)
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "REPLY: the answer to copy")
        thread = await rig.wait_thread()
        await until(pilot, lambda: view(app).channel_id == thread.id, "the view to follow the thread")
        await rig.wait_idle(thread)
        await until(pilot, lambda: "the answer to copy" in shown(app), "the answer")
        await pilot.press("escape")  # back to reading: c is a key, not a letter
        chat = view(app).chat_log
        messages = list(chat.query(MessageView))
        await pilot.press("up")
        assert chat.selected is messages[-1] and chat.selected.has_class("-selected")
        while chat.selected is not None and "the answer to copy" not in chat.selected.message.content:
            before = chat.selected
            await pilot.press("up")
            assert chat.selected is not before, "no message holds the answer"
        await pilot.press("c")
        assert app.clipboard == "⬥ the answer to copy"
        await pilot.press("end", "c")
        assert chat.selected is None and "Kimaki: ⬥ the answer to copy" in app.clipboard
