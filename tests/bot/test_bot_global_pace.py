"""The bot keeps under Discord's global rate limit instead of learning it from 429s, and a thread
being started goes before other waiting requests (bot/global_pace.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from kimaki_tui.bot.global_pace import GlobalPace
from kimaki_tui.testing.discord_twin.rate_limits import RateLimits
from tests.bot.rig import BotRig

MakeRig = Callable[..., AbstractAsyncContextManager[BotRig]]


async def test_a_burst_over_the_global_rate_gets_no_429(make_bot_rig: MakeRig) -> None:
    limits = RateLimits()
    async with make_bot_rig(discord_limits=limits) as rig:
        assert rig.bot is not None
        first = len(limits.refused)
        # 120 reads at once: more than Discord's 50 a second, none in a per-channel bucket.
        found = await asyncio.gather(*(rig.bot.fetch_channel(rig.channel.id) for _ in range(120)))
        assert [channel.id for channel in found] == [rig.channel.id] * 120
        assert [refusal for refusal in limits.refused[first:] if refusal.startswith("global")] == []


async def test_waiting_requests_leave_threads_first_in_arrival_order() -> None:
    pace = GlobalPace(per_second=3, window=0.2)
    started: list[str] = []

    async def request(name: str, urgent: bool = False) -> None:
        await pace.take(urgent)
        started.append(name)

    tasks = [asyncio.create_task(request(f"post {n}")) for n in range(6)]
    await asyncio.sleep(0)  # every request has asked once
    assert started == ["post 0", "post 1", "post 2"]  # the window's three go at once
    tasks += [asyncio.create_task(request(f"thread {n}", urgent=True)) for n in range(2)]
    await asyncio.gather(*tasks)
    assert started[3:] == ["thread 0", "thread 1", "post 3", "post 4", "post 5"]


async def test_a_cancelled_waiter_gives_its_turn_away() -> None:
    pace = GlobalPace(per_second=1, window=0.1)
    await pace.take()
    gone = asyncio.create_task(pace.take())
    kept = asyncio.create_task(pace.take())
    await asyncio.sleep(0)
    gone.cancel()
    await kept  # the next slot goes to the request still waiting
    with pytest.raises(asyncio.CancelledError):
        await gone
