"""kimaki dies mid-turn or with a permission prompt showing: on the next start the thread is told
its answer was cut off, and the prompt says why it expired and loses its buttons (they would
answer nothing)."""

from __future__ import annotations

import pytest

from kimaki_tui.core.events import PromptDispatched
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.presentation.notices import INTERRUPTED_NOTICE
from tests.bot.rig import BotRig, custom_ids
from tests.faults.restart import after_a_crash

pytestmark = pytest.mark.opencode


async def test_a_prompt_left_by_a_dead_run_is_edited_on_the_next_start(
    bot_rig: BotRig, opencode_client: OpenCodeClient
) -> None:
    await bot_rig.user_says("owner", "RUN_BASH: echo left > left.txt")
    thread = await bot_rig.wait_thread()
    prompt = await bot_rig.wait_bot_message(thread, lambda m: bool(m.components))
    assert custom_ids(prompt)
    store = bot_rig.core.store
    [request] = bot_rig.core.approvals.pending_permissions()
    await bot_rig.twin.wait_until(
        lambda: (row := store.get_pending(request.request_id)) is not None and row.external_message_id,
        10, "the prompt to be recorded",
    )
    # OpenCode (kimaki's child) goes with it and forgets the request.
    forget = opencode_client.reply_permission(request.request_id, "reject", directory=bot_rig.project_dir)
    async with after_a_crash(bot_rig, opencode_client, lambda: forget) as fresh:
        await bot_rig.twin.wait_until(lambda: not prompt.components, 30, "the buttons to go")
        await bot_rig.settle()
        row = fresh.store.get_pending(request.request_id)
        assert row is not None and row.status == "expired" and row.answered_by == "restart"
    assert prompt.content.startswith("⌛ Expired — kimaki restarted before it was answered")
    assert "echo left" in prompt.content
    assert not (bot_rig.project_dir / "left.txt").exists()


async def test_a_turn_cut_off_by_a_crash_is_reported_in_its_thread_once(
    bot_rig: BotRig, opencode_client: OpenCodeClient
) -> None:
    await bot_rig.user_says("owner", "SLOW:3 a long answer")
    thread = await bot_rig.wait_thread()
    started = await bot_rig.core_rig.wait_for(PromptDispatched, lambda e: e.thread_id == str(thread.id))
    # OpenCode (kimaki's child) goes with it: the turn ends unanswered.
    stop = opencode_client.abort(started.session_id, directory=bot_rig.project_dir)
    async with after_a_crash(bot_rig, opencode_client, lambda: stop) as fresh:
        await bot_rig.wait_bot_message(thread, lambda m: m.content == INTERRUPTED_NOTICE, timeout=30)
        await bot_rig.settle()
        assert fresh.store.take_open_turns() == []
        await bot_rig.restart_bot()  # told once, not at every start
        await bot_rig.settle()
    texts = [m.content for m in bot_rig.bot_messages(thread)]
    assert texts.count(INTERRUPTED_NOTICE) == 1


async def test_a_prompt_whose_request_died_with_opencode_says_so_and_loses_its_buttons(
    bot_rig: BotRig, opencode_client: OpenCodeClient
) -> None:
    await bot_rig.user_says("owner", "RUN_BASH: echo gone > gone.txt")
    thread = await bot_rig.wait_thread()
    prompt = await bot_rig.wait_bot_message(thread, lambda m: bool(m.components))
    [request] = bot_rig.core.approvals.pending_permissions()
    # What the composition root does when the supervisor restarted a crashed OpenCode.
    await bot_rig.core.server_restarted()
    await bot_rig.twin.wait_until(lambda: not prompt.components, 30, "the buttons to go")
    assert prompt.content.startswith("⌛ Expired — OpenCode restarted before it was answered")
    assert "echo gone" in prompt.content
    # (This OpenCode did not really restart: let its request go too.)
    await opencode_client.reply_permission(request.request_id, "reject", directory=bot_rig.project_dir)
    assert not (bot_rig.project_dir / "gone.txt").exists()
