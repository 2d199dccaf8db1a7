"""Discord trouble mid-turn: a gateway drop (resumed) and rate limits (retried) lose and duplicate
nothing; a bot restart does not post a part twice."""

from __future__ import annotations

import pytest

from kimaki_tui.core.events import PartCompleted
from tests.bot.rig import BotRig, is_footer

pytestmark = pytest.mark.opencode


async def test_a_gateway_drop_mid_turn_resumes_and_loses_nothing(bot_rig: BotRig) -> None:
    await bot_rig.user_says("owner", "SLOW:2 keep going")
    thread = await bot_rig.wait_thread()
    runtime = bot_rig.core.conversations.runtime(str(thread.id))
    await bot_rig.twin.wait_until(lambda: runtime.busy, 10, "the turn to start")
    await bot_rig.twin.drop_gateway(resumable=True)
    await bot_rig.twin.wait_for_connection("resume", timeout=10)
    footer = await bot_rig.wait_bot_message(thread, is_footer)
    # Messages sent during the gap still reach the bot once it resumed.
    await bot_rig.user_says("owner", "REPLY: after the drop", thread)
    await bot_rig.wait_bot_message(thread, lambda m: m.content == "⬥ after the drop", after=footer)
    await bot_rig.wait_idle(thread)
    messages = bot_rig.bot_messages(thread)
    assert [is_footer(m) for m in messages] == [False, True, False, True]
    ticks = messages[0].content
    assert ticks.startswith("⬥ tick 0") and ticks.rstrip().endswith("tick 9")
    assert messages[2].content == "⬥ after the drop"


async def test_rate_limited_sends_are_retried_without_loss_or_duplicates(bot_rig: BotRig) -> None:
    bot_rig.twin.inject_429("POST /channels/*/messages", count=3, retry_after=0.1)
    await bot_rig.user_says("owner", "LONG:3000")
    thread = await bot_rig.wait_thread()
    await bot_rig.wait_bot_message(thread, is_footer)
    await bot_rig.settle()
    assert len(bot_rig.twin.rate_limited_requests) == 3
    messages = bot_rig.bot_messages(thread)
    texts = [m.content for m in messages]
    assert len(texts) == len(set(texts))
    whole = "".join(texts)
    for i in range(80):
        assert whole.count(f"def step_{i}(") == 1
    # Every finished part was posted exactly once and recorded with its message ids.
    parts = [e for e in bot_rig.core_rig.of_type(PartCompleted) if e.kind == "text"]
    posted = bot_rig.core.store.posted_part(parts[0].part_id)
    assert posted is not None and list(posted.message_ids) == [str(m.id) for m in messages[:-1]]


async def test_a_restarted_bot_does_not_post_a_part_twice(bot_rig: BotRig) -> None:
    await bot_rig.user_says("owner", "REPLY: only once")
    thread = await bot_rig.wait_thread()
    await bot_rig.wait_bot_message(thread, is_footer)
    [part] = [e for e in bot_rig.core_rig.of_type(PartCompleted) if e.kind == "text"]
    await bot_rig.restart_bot()
    # The core announcing the same part again (a replay after reconnecting) posts nothing new.
    bot_rig.core.publish(part)
    await bot_rig.user_says("owner", "REPLY: next", thread)
    await bot_rig.wait_bot_message(thread, lambda m: m.content == "⬥ next")
    await bot_rig.wait_idle(thread)
    assert [m.content for m in bot_rig.bot_messages(thread)].count("⬥ only once") == 1
