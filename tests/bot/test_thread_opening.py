"""A new thread's prompt goes to OpenCode while Discord creates the thread (Discord limits thread
creation per channel, so with many new threads at once the wait was seconds to minutes); its
posts wait for the thread, and a thread Discord refuses loses no post silently."""

from __future__ import annotations

import pytest

from kimaki_tui.core.events import PromptDispatched, TitleChanged
from tests.bot.rig import BotRig, is_footer

pytestmark = pytest.mark.opencode

THREADS = "POST /channels/*/messages/*/threads"


async def test_the_prompt_leaves_before_the_thread_exists_and_the_answer_follows(bot_rig: BotRig) -> None:
    thread_existed: list[bool] = []

    def on_dispatch(event: object) -> None:
        if isinstance(event, PromptDispatched):
            thread_existed.append(bot_rig.twin.world.channels.get(int(event.thread_id or 0)) is not None)
            creating.set()

    bot_rig.core.bus.add_callback(on_dispatch)
    # Discord creates the thread only once the prompt went to OpenCode (a slow, busy channel).
    creating = bot_rig.twin.hold_requests(THREADS)
    message = await bot_rig.user_says("owner", "REPLY: answered in the thread")
    thread = await bot_rig.wait_thread()
    assert thread.id == message.id
    await bot_rig.wait_bot_message(thread, lambda m: m.content == "⬥ answered in the thread")
    await bot_rig.wait_bot_message(thread, is_footer)
    await bot_rig.wait_idle(thread)
    assert thread_existed == [False]


async def test_a_thread_discord_refuses_gets_a_reply_and_leaves_nothing_waiting(bot_rig: BotRig) -> None:
    dispatched: list[PromptDispatched] = []
    bot_rig.core.bus.add_callback(lambda e: dispatched.append(e) if isinstance(e, PromptDispatched) else None)
    bot_rig.twin.inject_5xx(THREADS, count=1, status=403)
    message = await bot_rig.user_says("owner", "SLOW:5 a story nobody will read")
    reply = await bot_rig.wait_bot_message(bot_rig.channel, lambda m: "could not start a thread" in m.content)
    assert reply.reference is not None and int(reply.reference["message_id"]) == message.id
    runtime = bot_rig.core.conversations.runtime(str(message.id))
    # The prompt went out while Discord was asked for the thread; the refusal then aborts its turn.
    await bot_rig.twin.wait_until(lambda: dispatched and not runtime.busy, 30, "the turn to be aborted")
    await bot_rig.twin.wait_until(
        lambda: not bot_rig.core.outbox.waiting(str(message.id)), 30, "the thread's posts to be dropped"
    )
    assert bot_rig.twin.world.channels.get(message.id) is None


async def test_a_title_that_comes_before_the_thread_is_applied_once_it_exists(bot_rig: BotRig) -> None:
    """OpenCode titles the session within a second; with Discord slow to create the thread, the
    rename used to go first and fail (404 Unknown Channel): the thread kept its first message."""
    titled: list[TitleChanged] = []
    bot_rig.core.bus.add_callback(lambda e: titled.append(e) if isinstance(e, TitleChanged) else None)
    creating = bot_rig.twin.hold_requests(THREADS)
    message = await bot_rig.user_says("owner", "REPLY: fix the login bug on the settings page please")
    await bot_rig.twin.wait_until(lambda: titled, 30, "OpenCode to title the session")
    creating.set()
    thread = await bot_rig.wait_thread()
    assert thread.id == message.id
    await bot_rig.twin.wait_until(lambda: thread.name == "REPLY: fix the login bug", 30, "the title")


async def test_posts_go_out_once_discord_announces_the_thread(bot_rig: BotRig) -> None:
    """discord.py holds the request that used a rate-limit bucket's last slot until the bucket
    resets (with many new threads, 25 s here); the thread exists as soon as Discord announces it,
    so its answer goes out then, not when that request returns."""
    answering = bot_rig.twin.hold_answers(THREADS)  # the thread is made at once; the answer waits
    try:
        await bot_rig.user_says("owner", "REPLY: answered while the request still waits")
        thread = await bot_rig.wait_thread()
        said = "⬥ answered while the request still waits"
        await bot_rig.wait_bot_message(thread, lambda m: m.content == said)
        await bot_rig.wait_bot_message(thread, is_footer)
        requests = bot_rig.twin.world.requests
        assert not any(r.path.endswith("/threads") for r in requests), "the creation was still unanswered"
        assert not any(r.path.endswith("/typing") and r.status == 404 for r in requests)
    finally:
        answering.set()
