"""Discord trouble while a turn is answered: unreachable for seconds, 429s in a row, answers lost
on the way back, a restart with posts still waiting. Every answer reaches its thread exactly once
and in order."""

from __future__ import annotations

import pytest

from kimaki_tui.bot.output import OutputRouter
from kimaki_tui.core.events import PartCompleted
from kimaki_tui.testing.scripted_model import long_answer
from tests.bot.rig import BotRig, is_footer

pytestmark = pytest.mark.opencode


def assert_whole_long_answer(texts: list[str], size: int) -> None:
    whole = "".join(texts)
    steps = long_answer(size).count("def step_")
    assert steps > 10
    for i in range(steps):
        assert whole.count(f"def step_{i}(") == 1, f"step {i}"


async def test_discord_unreachable_mid_turn_delays_but_loses_nothing(bot_rig: BotRig) -> None:
    await bot_rig.user_says("owner", "SLOW:1 keep going")
    thread = await bot_rig.wait_thread()
    runtime = bot_rig.core.conversations.runtime(str(thread.id))
    await bot_rig.twin.wait_until(lambda: runtime.busy, 10, "the turn to start")
    # Discord stays unreachable until the whole turn was answered (seconds), then comes back.
    bot_rig.twin.refuse_rest(3600)
    await bot_rig.twin.wait_until(lambda: not runtime.busy, 60, "the turn to end during the outage")
    bot_rig.twin.refuse_rest(0)
    footer = await bot_rig.wait_bot_message(thread, is_footer, timeout=30)
    await bot_rig.user_says("owner", "REPLY: after the outage", thread)
    await bot_rig.wait_bot_message(thread, lambda m: m.content == "⬥ after the outage", after=footer)
    await bot_rig.wait_idle(thread)
    assert any(r.startswith("POST /channels/") for r in bot_rig.twin.dropped_requests)
    messages = bot_rig.bot_messages(thread)
    assert [is_footer(m) for m in messages] == [False, True, False, True]
    assert messages[0].content.startswith("⬥ tick 0") and messages[0].content.rstrip().endswith("tick 4")
    assert messages[2].content == "⬥ after the outage"
    assert bot_rig.core.store.threads_with_deliveries() == []


async def test_five_429s_in_a_row_on_one_post_do_not_truncate_the_answer(bot_rig: BotRig) -> None:
    await bot_rig.user_says("owner", "REPLY: warm up")
    thread = await bot_rig.wait_thread()
    first_footer = await bot_rig.wait_bot_message(thread, is_footer)
    # discord.py itself gives up after 5 tries; the outbox tries again.
    bot_rig.twin.inject_429("POST /channels/*/messages", count=5, retry_after=0.05)
    await bot_rig.user_says("owner", "LONG:6000", thread)
    await bot_rig.wait_bot_message(thread, is_footer, after=first_footer, timeout=60)
    await bot_rig.wait_idle(thread)
    assert len(bot_rig.twin.rate_limited_requests) == 5
    answer = [m for m in bot_rig.bot_messages(thread) if m.id > first_footer.id]
    texts = [m.content for m in answer]
    assert len(texts) > 3 and is_footer(answer[-1]) and not any(is_footer(m) for m in answer[:-1])
    assert len(texts) == len(set(texts))
    assert_whole_long_answer(texts, 6000)


async def test_an_answer_lost_on_the_way_back_is_not_posted_twice(bot_rig: BotRig) -> None:
    # Discord posts the message but the bot never hears so: the retry carries the same nonce.
    bot_rig.twin.lose_answers("POST /channels/*/messages", count=2)
    await bot_rig.user_says("owner", "REPLY: exactly once")
    thread = await bot_rig.wait_thread()
    await bot_rig.wait_bot_message(thread, is_footer)
    await bot_rig.wait_idle(thread)
    assert len(bot_rig.twin.dropped_requests) == 2
    texts = [m.content for m in bot_rig.bot_messages(thread)]
    assert texts.count("⬥ exactly once") == 1 and len(texts) == 2
    [part] = [e for e in bot_rig.core_rig.of_type(PartCompleted) if e.kind == "text"]
    posted = bot_rig.core.store.posted_part(part.part_id)
    assert posted is not None and list(posted.message_ids) == [str(bot_rig.bot_messages(thread)[0].id)]


async def test_posts_waiting_when_the_outbox_stops_are_sent_once_after_a_restart(bot_rig: BotRig) -> None:
    await bot_rig.user_says("owner", "REPLY: first")
    thread = await bot_rig.wait_thread()
    first_footer = await bot_rig.wait_bot_message(thread, is_footer)
    await bot_rig.wait_idle(thread)
    bot = bot_rig.bot
    assert bot is not None and bot.output is not None
    bot_rig.twin.refuse_rest(3600)
    await bot_rig.user_says("owner", "REPLY: while stopping", thread)
    runtime = bot_rig.core.conversations.runtime(str(thread.id))
    store = bot_rig.core.store
    await bot_rig.twin.wait_until(
        lambda: not runtime.busy and len(store.waiting_deliveries(str(thread.id))) == 2, 30,
        "the answer and its footer to wait in the outbox",
    )
    await bot.output.close(timeout=0.1)  # the outbox's sender stops with both rows unsent
    bot_rig.twin.refuse_rest(0)
    router = bot.output = OutputRouter(bot)
    await router.start()
    footer = await bot_rig.wait_bot_message(thread, is_footer, after=first_footer)
    await router.drain()
    after = [m.content for m in bot_rig.bot_messages(thread) if m.id > first_footer.id]
    assert after == ["⬥ while stopping", footer.content]
    assert store.threads_with_deliveries() == []
