"""A storm of global 429s (every request refused for a while, more times in a row than discord.py
retries on its own): new channel messages still start their thread and get their answer, once."""

from __future__ import annotations

import pytest

from tests.bot.rig import BotRig

pytestmark = pytest.mark.opencode


async def test_a_global_429_storm_delays_but_drops_no_new_message(bot_rig: BotRig) -> None:
    twin = bot_rig.twin
    twin.inject_429("*", count=12, retry_after=0.05, is_global=True)
    await bot_rig.user_says("owner", "REPLY: through the storm")
    thread = await bot_rig.wait_thread(timeout=60)
    await bot_rig.wait_bot_message(thread, lambda m: m.content == "⬥ through the storm", timeout=60)
    await bot_rig.wait_idle(thread, timeout=60)
    assert len(twin.rate_limited_requests) == 12
    assert [t.name for t in twin.threads(bot_rig.channel)] == ["REPLY: through the storm"]
    answers = [m.content for m in bot_rig.bot_messages(thread) if m.content.startswith("⬥ ")]
    assert answers == ["⬥ through the storm"]


async def test_a_typing_request_stopped_during_a_global_limit_does_not_mute_the_bot(
    bot_rig: BotRig,
) -> None:
    """discord.py clears its global-limit lock while a request sleeps out a global 429; the turn's
    end stops the typing pulse in that sleep. Without the guard every later post waited forever."""
    twin = bot_rig.twin
    twin.inject_429("POST /channels/*/typing", count=1, retry_after=600, is_global=True)
    await bot_rig.user_says("owner", "REPLY: after the limit")
    thread = await bot_rig.wait_thread(timeout=60)
    await bot_rig.wait_bot_message(thread, lambda m: m.content == "⬥ after the limit", timeout=60)
    assert len(twin.rate_limited_requests) == 1  # the typing request did hit the global limit
    await bot_rig.user_says("owner", "REPLY: and after that", thread)
    await bot_rig.wait_bot_message(thread, lambda m: m.content == "⬥ and after that", timeout=60)
