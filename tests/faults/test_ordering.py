"""Many threads at once: every message of a thread is answered once and in Discord order, also the
ones sent while the thread's first message is still creating the session; /queue sent then is held
until the session exists, not refused."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from kimaki_tui.settings.tree import SessionSettings
from kimaki_tui.testing.discord_twin.model import Channel
from tests.bot.rig import BotRig

pytestmark = pytest.mark.opencode

THREADS = 10
MESSAGES = 5


def answers(rig: BotRig, thread: Channel) -> list[str]:
    return [m.content for m in rig.bot_messages(thread) if m.content.startswith("⬥ ")]


def all_answered(rig: BotRig, thread: Channel) -> Callable[[], bool]:
    return lambda: len(answers(rig, thread)) >= MESSAGES


async def burst_thread(rig: BotRig, index: int) -> Channel:
    """The thread's first message, then the others as soon as the thread exists."""
    first = f"REPLY: t{index} m0"
    await rig.users.owner.send(rig.channel, first)
    thread = await rig.wait_thread(predicate=lambda c: c.name == first, timeout=60)
    for n in range(1, MESSAGES):
        await rig.users.owner.send(thread, f"REPLY: t{index} m{n}")
    return thread


async def test_a_burst_is_answered_once_and_in_order_per_thread(
    make_bot_rig: Callable[..., AbstractAsyncContextManager[BotRig]],
) -> None:
    async with make_bot_rig(sessions=SessionSettings(busy_policy="queue")) as rig:
        threads = await asyncio.gather(*(burst_thread(rig, i) for i in range(THREADS)))
        for index, thread in enumerate(threads):
            await rig.twin.wait_until(all_answered(rig, thread), 240, f"thread {index}'s answers")
        for thread in threads:
            await rig.wait_idle(thread, timeout=60)
        for index, thread in enumerate(threads):
            assert answers(rig, thread) == [f"⬥ t{index} m{n}" for n in range(MESSAGES)]


async def test_queue_while_the_session_is_being_created_is_held(bot_rig: BotRig) -> None:
    await bot_rig.user_says("owner", "REPLY: first")
    thread = await bot_rig.wait_thread()
    inter = await bot_rig.users.owner.slash(thread, "queue", message="REPLY: queued early")
    reply = await inter.wait_response(30)
    assert not reply.ephemeral, reply.content
    await bot_rig.wait_bot_message(thread, lambda m: m.content == "⬥ queued early", timeout=60)
    await bot_rig.wait_idle(thread)
    assert answers(bot_rig, thread) == ["⬥ first", "⬥ queued early"]
