"""Both front ends on one core: the control center and the Discord bot see each other's actions."""

from __future__ import annotations

import pytest

from kimaki_tui.core.events import (
    PermissionAskedEvent,
    PermissionResolved,
    PromptDispatched,
    QuestionAskedEvent,
    QuestionResolved,
    TurnAborted,
)
from kimaki_tui.screens.app import KimakiApp
from kimaki_tui.screens.model import ControlCenterModel
from tests.bot.rig import BotRig, is_footer
from tests.screens.conftest import SIZE, until
from tests.screens.test_approvals import rows

pytestmark = pytest.mark.opencode


def control_center(rig: BotRig) -> KimakiApp:
    return KimakiApp(ControlCenterModel(core=rig.core, settings=rig.settings))


async def test_approve_in_the_terminal_edits_the_discord_prompt(bot_rig: BotRig) -> None:
    app = control_center(bot_rig)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await bot_rig.user_says("owner", "RUN_BASH: echo tui > tui.txt")
        thread = await bot_rig.wait_thread()
        prompt = await bot_rig.wait_bot_message(thread, lambda m: bool(m.components))
        asked = await bot_rig.core_rig.wait_for(PermissionAskedEvent)
        await until(pilot, lambda: rows(app) == [asked.request.request_id], "the request in Approvals")
        await pilot.press("o")
        resolved = await bot_rig.core_rig.wait_for(PermissionResolved)
        assert resolved.origin == "control-center"
        # OpenCode got the answer: the command ran.
        await bot_rig.wait_idle(thread)
        assert (bot_rig.project_dir / "tui.txt").exists()
        # Discord's prompt now says who answered, and its buttons are gone.
        edited = await bot_rig.twin.wait_for_message(
            thread, lambda m: m.id == prompt.id and not m.components and "control center" in m.content
        )
        assert "once" in edited.content.lower()
        await until(pilot, lambda: rows(app) == [], "the row to go")


async def test_answer_in_discord_removes_the_terminal_row(bot_rig: BotRig) -> None:
    app = control_center(bot_rig)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await bot_rig.user_says("owner", "RUN_BASH: echo discord > d.txt")
        thread = await bot_rig.wait_thread()
        prompt = await bot_rig.wait_bot_message(thread, lambda m: bool(m.components))
        await until(pilot, lambda: len(rows(app)) == 1, "the request in Approvals")
        custom_id = next(
            c["custom_id"]
            for row in prompt.components
            for c in row["components"]
            if c["custom_id"].startswith("kimaki:perm:once:")
        )
        await bot_rig.users.owner.click(prompt, custom_id)
        await until(pilot, lambda: rows(app) == [], "the row to disappear after the Discord click")
        await bot_rig.wait_idle(thread)
        assert (bot_rig.project_dir / "d.txt").exists()


async def test_prompt_from_the_terminal_appears_in_the_thread(bot_rig: BotRig) -> None:
    app = control_center(bot_rig)
    async with app.run_test(size=SIZE) as pilot:
        await bot_rig.user_says("owner", "REPLY: first answer")
        thread = await bot_rig.wait_thread()
        await bot_rig.wait_idle(thread)
        await app.open_session(str(thread.id))
        await pilot.press("m", *"REPLY: typed in the terminal", "enter")
        marked = await bot_rig.wait_bot_message(
            thread, lambda m: "sent from the kimaki control center" in m.content
        )
        assert "typed in the terminal" in marked.content
        answer = await bot_rig.wait_bot_message(
            thread, lambda m: m.content.endswith("typed in the terminal") and not m.content.startswith("»")
        )
        assert answer.id > marked.id


async def test_a_message_typed_in_the_terminal_answers_the_waiting_question(bot_rig: BotRig) -> None:
    """The shared rule: while a question waits, a message typed in the Session screen answers it,
    exactly as one typed in the Discord thread does."""
    app = control_center(bot_rig)
    async with app.run_test(size=SIZE) as pilot:
        await bot_rig.user_says("owner", "ASK_QUESTION please")
        thread = await bot_rig.wait_thread()
        question = await bot_rig.wait_bot_message(
            thread, lambda m: m.content.startswith("❓") and bool(m.components)
        )
        asked = await bot_rig.core_rig.wait_for(QuestionAskedEvent)
        await app.open_session(str(thread.id))
        await pilot.press("m", *"Teal, from the terminal", "enter")
        resolved = await bot_rig.core_rig.wait_for(QuestionResolved)
        assert resolved.request.request_id == asked.request.request_id
        assert (resolved.answers, resolved.by, resolved.origin) == (
            (("Teal, from the terminal",),),
            "control center",
            "control-center",
        )
        # OpenCode got the answer: the question tool returned it to the model.
        said = await bot_rig.wait_bot_message(thread, lambda m: "Tool said" in m.content)
        assert "Teal, from the terminal" in said.content
        # Discord's question message says who answered, and its menu is gone.
        await bot_rig.twin.wait_until(lambda: question.components == [], 10, "the question to be closed")
        assert question.content == "✅ **Color** — Teal, from the terminal\n-# answered by control center"
        await bot_rig.wait_idle(thread)
        # The message answered the question; it was not sent as a new prompt.
        assert not bot_rig.core_rig.of_type(PromptDispatched, lambda e: "Teal" in e.prompt)
        assert sum(is_footer(m) for m in bot_rig.bot_messages(thread)) == 1


async def test_an_abort_from_the_terminal_is_announced_in_the_thread(bot_rig: BotRig) -> None:
    app = control_center(bot_rig)
    async with app.run_test(size=SIZE) as pilot:
        await bot_rig.user_says("owner", "SLOW:30 abort me from the terminal")
        thread = await bot_rig.wait_thread()
        runtime = bot_rig.core.conversations.runtime(str(thread.id))
        await bot_rig.twin.wait_until(lambda: runtime.busy, 30, "the slow answer to start")
        await app.open_session(str(thread.id))
        await pilot.press("ctrl+b")
        aborted = await bot_rig.core_rig.wait_for(TurnAborted)
        assert (aborted.thread_id, aborted.by, aborted.origin) == (
            str(thread.id),
            "control center",
            "control-center",
        )
        notice = await bot_rig.wait_bot_message(thread, lambda m: m.content.startswith("⏹"))
        assert notice.content == "⏹ **Aborted** by control center (from the kimaki control center)."
        await bot_rig.wait_idle(thread)
        assert not any(is_footer(m) for m in bot_rig.bot_messages(thread))
