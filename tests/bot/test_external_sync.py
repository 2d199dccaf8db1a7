"""External session sync: a session started outside kimaki (here straight through OpenCode's API,
as `opencode` in a terminal does) in a linked project gets a "Sync:" thread that follows its output;
kimaki's own sessions and their subagents never do; `disable_sync` turns it off."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from kimaki_tui.settings import SessionSettings
from kimaki_tui.testing.discord_twin.model import Channel
from tests.bot.rig import BotRig, is_footer
from tests.harness import wait_until

pytestmark = pytest.mark.opencode


def text_part(text: str) -> dict[str, str]:
    return {"type": "text", "text": text}


def sync_threads(rig: BotRig) -> list[Channel]:
    return [t for t in rig.guild.threads if t.parent_id == rig.channel.id and t.name.startswith("Sync:")]


async def test_an_outside_session_gets_a_thread_that_follows_it(bot_rig: BotRig) -> None:
    rig = bot_rig
    client = rig.core.client
    outside = await client.create_session(rig.project_dir, title="terminal work")
    await client.prompt_async(outside.id, rig.project_dir, [text_part("REPLY: hello from the terminal 77")])
    thread = await rig.wait_thread(predicate=lambda t: t.name.startswith("Sync:"), timeout=30)
    assert thread.name == "Sync: terminal work"
    intro = (await rig.wait_bot_message(thread, lambda m: "External session" in m.content)).content
    assert f"`{outside.id}`" in intro and "> REPLY: hello from the terminal 77" in intro
    answer = "hello from the terminal 77"
    await rig.wait_bot_message(thread, lambda m: answer in m.content and "External session" not in m.content)
    row = rig.core.store.thread_for_session(outside.id)
    assert row is not None and row.thread_id == str(thread.id) and row.origin == "external"

    # A second turn of the same session goes to the same thread: no second thread.
    await wait_until(lambda: not rig.core.conversations.runtime(str(thread.id)).busy, 30, message="idle")
    await client.prompt_async(outside.id, rig.project_dir, [text_part("REPLY: second turn 88")])
    await rig.wait_bot_message(thread, lambda m: "second turn 88" in m.content)
    assert [t.id for t in sync_threads(rig)] == [thread.id]


async def test_kimakis_own_sessions_and_subagents_are_not_synced(bot_rig: BotRig) -> None:
    rig = bot_rig
    await rig.user_says("owner", "SUBAGENTS:2")
    thread = await rig.wait_thread()
    await rig.wait_bot_message(thread, is_footer, timeout=60)
    # The outside session starts after kimaki's: once it has its thread, kimaki's busy sessions
    # (the thread's and its subagents') were all seen before it and offered nothing.
    client = rig.core.client
    outside = await client.create_session(rig.project_dir, title="after")
    await client.prompt_async(outside.id, rig.project_dir, [text_part("REPLY: later one")])
    await rig.wait_thread(predicate=lambda t: t.name == "Sync: after", timeout=30)
    assert [t.name for t in sync_threads(rig)] == ["Sync: after"]
    assert len([t for t in rig.guild.threads if t.parent_id == rig.channel.id]) == 2


async def test_disable_sync_gives_outside_sessions_no_thread(
    make_bot_rig: Callable[..., AbstractAsyncContextManager[BotRig]],
) -> None:
    async with make_bot_rig(sessions=SessionSettings(disable_sync=True)) as rig:
        client = rig.core.client
        outside = await client.create_session(rig.project_dir, title="quiet")
        await client.prompt_async(outside.id, rig.project_dir, [text_part("REPLY: unseen")])

        async def finished() -> bool:
            messages = await client.messages(outside.id, rig.project_dir)
            return bool(messages) and messages[-1].info.finished

        await wait_until(finished, 30, message="the outside session to answer")
        await rig.user_says("owner", "REPLY: mine")  # kimaki still works, and saw the whole turn
        thread = await rig.wait_thread()
        await rig.wait_bot_message(thread, is_footer)
        assert sync_threads(rig) == [] and rig.core.store.thread_for_session(outside.id) is None
