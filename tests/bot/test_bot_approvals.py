"""Permission prompts and questions in Discord: persistent buttons and menus, answers from any front
end editing the prompt, refusals for users without access, and clicks after a bot restart."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from kimaki_tui.settings import SessionSettings
from kimaki_tui.testing.discord_twin import Channel, Message
from tests.bot.rig import BotRig, custom_ids, is_footer

pytestmark = pytest.mark.opencode

MakeRig = Callable[..., AbstractAsyncContextManager[BotRig]]


def is_permission_prompt(message: Message) -> bool:
    return message.content.startswith("⚠️ **Permission needed**")


async def ask_permission(rig: BotRig, command: str = "echo hi > out.txt") -> tuple[Channel, Message, str]:
    await rig.user_says("owner", f"RUN_BASH: {command}")
    thread = await rig.wait_thread()
    prompt = await rig.wait_bot_message(thread, lambda m: is_permission_prompt(m) and bool(m.components))
    [request] = rig.core.approvals.pending_permissions()
    return thread, prompt, request.request_id


@pytest.mark.parametrize(
    ("reply", "label", "outcome", "created"),
    [
        ("once", "Accept", "✅ Accepted once by admin", True),
        ("always", "Accept Always", "✅ Always accepted by admin", True),
        ("reject", "Deny", "❌ Denied by admin", False),
    ],
)
async def test_permission_buttons(
    bot_rig: BotRig, reply: str, label: str, outcome: str, created: bool, project_dir: Path
) -> None:
    thread, prompt, request_id = await ask_permission(bot_rig)
    assert "bash: `echo hi > out.txt`" in prompt.content
    assert custom_ids(prompt) == [f"kimaki:perm:{r}:{request_id}" for r in ("once", "always", "reject")]
    assert f"[button: {label}]" in bot_rig.transcript(thread)
    click = await bot_rig.users.admin.click(prompt, f"kimaki:perm:{reply}:{request_id}")
    assert await click.wait_callback() == 6  # deferred update: the edit follows from the core's event
    await bot_rig.twin.wait_until(lambda: prompt.content.startswith(outcome), 10, "the prompt to be edited")
    assert prompt.components == []
    assert "bash: `echo hi > out.txt`" in prompt.content
    await bot_rig.wait_idle(thread)
    assert (project_dir / "out.txt").exists() == created
    tool_line = next(m.content for m in bot_rig.bot_messages(thread) if m.content.startswith("┣ bash"))
    assert tool_line.endswith("✗ The user rejected permission to use this specific tool call.") != created
    row = bot_rig.core.store.get_pending(request_id)
    assert row is not None and row.external_message_id == str(prompt.id) and row.answered_by == "admin"


async def test_a_click_by_someone_without_access_is_refused(bot_rig: BotRig, project_dir: Path) -> None:
    thread, prompt, request_id = await ask_permission(bot_rig)
    click = await bot_rig.users.member.click(prompt, f"kimaki:perm:once:{request_id}")
    response = await click.wait_response()
    assert response.ephemeral and "You need the **Kimaki** role" in response.content
    assert [r.request_id for r in bot_rig.core.approvals.pending_permissions()] == [request_id]
    assert is_permission_prompt(prompt) and prompt.components
    # Someone allowed finishes it.
    await bot_rig.users.kimaki_user.click(prompt, f"kimaki:perm:reject:{request_id}")
    await bot_rig.wait_idle(thread)
    assert prompt.content.startswith("❌ Denied by kimaki-user")
    assert not (project_dir / "out.txt").exists()


async def test_an_answer_from_the_control_center_edits_the_discord_prompt(
    bot_rig: BotRig, project_dir: Path
) -> None:
    thread, prompt, request_id = await ask_permission(bot_rig)
    result = await bot_rig.core.approvals.answer_permission(
        request_id, "once", by="control center", origin="control-center"
    )
    assert result.ok
    await bot_rig.twin.wait_until(lambda: prompt.components == [], 10, "the prompt to lose its buttons")
    assert prompt.content.startswith("✅ Accepted once by control center")
    await bot_rig.wait_bot_message(thread, is_footer)
    assert (project_dir / "out.txt").exists()
    # A late click on the (now stale) message is told it is over.
    late = await bot_rig.users.owner.click(
        _with_buttons(prompt, request_id), f"kimaki:perm:once:{request_id}"
    )
    await late.wait_callback()
    followup = await late.wait_followup()
    assert followup.ephemeral and "already answered" in followup.content


def _with_buttons(prompt: Message, request_id: str) -> Message:
    """The prompt as a client that has not refreshed yet still shows it (buttons present)."""
    prompt.components = [
        {
            "type": 1,
            "components": [
                {"type": 2, "style": 3, "label": "Accept", "custom_id": f"kimaki:perm:once:{request_id}"}
            ],
        }
    ]
    return prompt


async def test_the_buttons_survive_a_bot_restart(bot_rig: BotRig, project_dir: Path) -> None:
    thread, prompt, request_id = await ask_permission(bot_rig)
    first_bot = bot_rig.bot
    await bot_rig.restart_bot()
    assert bot_rig.bot is not first_bot
    click = await bot_rig.users.owner.click(prompt, f"kimaki:perm:once:{request_id}")
    assert await click.wait_callback() == 6
    await bot_rig.twin.wait_until(
        lambda: prompt.content.startswith("✅ Accepted once by owner"), 10, "the edit"
    )
    await bot_rig.wait_bot_message(thread, is_footer)
    assert (project_dir / "out.txt").exists()
    # The rest of the turn was posted once, by the new bot.
    tool_said = [m for m in bot_rig.bot_messages(thread) if "Tool said" in m.content]
    assert len(tool_said) == 1


async def ask_question(rig: BotRig) -> tuple[Channel, Message, str]:
    await rig.user_says("owner", "ASK_QUESTION please")
    thread = await rig.wait_thread()
    message = await rig.wait_bot_message(thread, lambda m: m.content.startswith("❓") and bool(m.components))
    [request] = rig.core.approvals.pending_questions()
    return thread, message, request.request_id


async def test_a_question_is_answered_from_the_menu(bot_rig: BotRig) -> None:
    thread, message, request_id = await ask_question(bot_rig)
    assert "Which color do you prefer?" in message.content
    assert custom_ids(message) == [f"kimaki:q:{request_id}:0", f"kimaki:qo:{request_id}"]
    assert "[select: Color | Red, Green, Blue]" in bot_rig.transcript(thread)
    pick = await bot_rig.users.manager.select(message, f"kimaki:q:{request_id}:0", ["1"])
    assert await pick.wait_callback() == 6
    await bot_rig.twin.wait_until(lambda: message.components == [], 10, "the question to be closed")
    assert message.content == "✅ **Color** — Green\n-# answered by manager"
    await bot_rig.wait_bot_message(thread, is_footer)
    row = bot_rig.core.store.get_pending(request_id)
    assert row is not None and row.answer == [["Green"]]


async def test_a_question_is_answered_by_typing_in_the_thread(bot_rig: BotRig) -> None:
    thread, message, request_id = await ask_question(bot_rig)
    other = await bot_rig.users.owner.click(message, f"kimaki:qo:{request_id}")
    response = await other.wait_response()
    assert response.ephemeral and "Type your answer" in response.content
    await bot_rig.user_says("owner", "Purple, obviously", thread)
    await bot_rig.twin.wait_until(lambda: message.components == [], 10, "the question to be closed")
    assert message.content.startswith("✅ **Color** — Purple, obviously")
    await bot_rig.wait_bot_message(thread, is_footer)
    # The typed text answered the question; it did not start another turn.
    assert bot_rig.core.store.queue_items(str(thread.id)) == []
    assert sum(is_footer(m) for m in bot_rig.bot_messages(thread)) == 1


async def test_a_permission_expires_after_the_timeout_but_a_question_waits(make_bot_rig: MakeRig) -> None:
    # --permission-timeout-minutes: a permission prompt nobody answers is rejected when it runs out;
    # a question asked before it, in another thread, is still open afterwards (questions never expire).
    async with make_bot_rig(sessions=SessionSettings(permission_timeout_minutes=1 / 60)) as rig:
        question_thread, question, question_id = await ask_question(rig)
        await rig.user_says("owner", "RUN_BASH: echo late > late.txt")
        thread = await rig.wait_thread(predicate=lambda t: t.id != question_thread.id)
        prompt = await rig.wait_bot_message(thread, lambda m: is_permission_prompt(m))
        await rig.twin.wait_until(lambda: prompt.components == [], 15, "the prompt to expire")
        assert prompt.content.startswith("⌛ Expired — no answer within 1 minute")
        await rig.wait_idle(thread)
        assert [q.request_id for q in rig.core.approvals.pending_questions()] == [question_id]
        assert question.components and question.content.startswith("❓")
        pick = await rig.users.owner.select(question, f"kimaki:q:{question_id}:0", ["2"])
        assert await pick.wait_callback() == 6
        await rig.twin.wait_until(lambda: question.components == [], 10, "the question to be answered")
        assert question.content.startswith("✅ **Color** — Blue")
