"""kimaki killed while a turn runs and a prompt waits in the queue: on the next start the thread is
told its answer was cut off, and the queued prompt runs (it is in the database, never dropped) once
the bot can post its answer: the core starts before the bot, and a prompt it ran meanwhile was
answered where nobody saw it (seen in CI)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from kimaki_tui.core.events import PromptDispatched, TurnFinished
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.presentation.notices import INTERRUPTED_NOTICE
from kimaki_tui.settings.tree import SessionSettings
from tests.bot.rig import BotRig
from tests.core_rig import CoreRig
from tests.faults.restart import after_a_crash

pytestmark = pytest.mark.opencode

QUEUE = SessionSettings(busy_policy="queue")


async def test_a_prompt_queued_when_kimaki_died_runs_after_the_restart(
    make_bot_rig: Callable[..., AbstractAsyncContextManager[BotRig]], opencode_client: OpenCodeClient
) -> None:
    async with make_bot_rig(sessions=QUEUE) as rig:
        await rig.user_says("owner", "SLOW:5 a long answer")
        thread = await rig.wait_thread()
        started = await rig.core_rig.wait_for(PromptDispatched, lambda e: e.thread_id == str(thread.id))
        await rig.user_says("owner", "REPLY: queued before the crash", thread)
        store = rig.core.store
        await rig.twin.wait_until(lambda: store.queue_items(str(thread.id)), 30, "the prompt to be queued")
        # OpenCode (kimaki's child) goes with it: the running turn ends unanswered.
        stop = opencode_client.abort(started.session_id, directory=rig.project_dir)
        async def another_turn_first(fresh: CoreRig) -> None:
            """A whole turn elsewhere before the bot connects: time for the queue to run early."""
            other = fresh.thread(rig.project_dir, thread_id="77", channel_id="78")
            await fresh.core.conversations.submit(other.thread_id, fresh.prompt("REPLY: elsewhere"))
            await fresh.wait_for(TurnFinished, lambda e: e.thread_id == "77", timeout=60)

        async with after_a_crash(
            rig, opencode_client, lambda: stop, options=QUEUE, before_the_bot=another_turn_first
        ):
            await rig.wait_bot_message(thread, lambda m: m.content == INTERRUPTED_NOTICE, timeout=30)
            await rig.wait_bot_message(thread, lambda m: m.content == "⬥ queued before the crash", timeout=60)
            await rig.wait_idle(thread, timeout=60)
            assert rig.core.store.queue_items(str(thread.id)) == []
        answers = [m.content for m in rig.bot_messages(thread) if m.content.startswith("⬥ ")]
        assert answers.count("⬥ queued before the crash") == 1
