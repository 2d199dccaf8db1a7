"""Side questions through the real bot and OpenCode: a thread message ending in `. btw` and
`/btw prompt:` fork the whole session into a `btw: …` thread that answers there, without replaying
the history and without touching the main thread's running turn or queue."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from kimaki_tui.core.events import TextDelta
from kimaki_tui.settings import SessionSettings
from tests.bot.rig import BotRig, is_footer
from tests.harness import texts

pytestmark = pytest.mark.opencode

MakeRig = Callable[..., AbstractAsyncContextManager[BotRig]]


async def session_texts(rig: BotRig, session_id: str | None, directory: str) -> list[str]:
    assert session_id is not None
    return [t for m in await rig.core.client.messages(session_id, directory) for t in texts(m)]


async def test_a_btw_suffix_answers_in_a_fork_while_the_main_turn_runs(make_bot_rig: MakeRig) -> None:
    m = uuid.uuid4().hex[:8]
    async with make_bot_rig(sessions=SessionSettings(busy_policy="queue")) as rig:
        await rig.user_says("owner", f"SLOW:4 main-{m}")
        thread = await rig.wait_thread()
        runtime = rig.core.conversations.runtime(str(thread.id))
        # Streaming text: OpenCode has stored the main prompt (the fork below copies it).
        await rig.core_rig.wait_for(TextDelta, lambda e: e.thread_id == str(thread.id))
        await rig.user_says("owner", f"REPLY: later-{m}", thread)
        await rig.twin.wait_until(lambda: len(runtime.queue()) == 1, 10, "a message queued")

        await rig.user_says("owner", f"REPLY: aside-{m}. btw", thread)
        aside = await rig.wait_thread(predicate=lambda t: t.name.startswith("btw: "))
        assert aside.name == f"btw: REPLY: aside-{m}"
        answer = await rig.wait_bot_message(aside, lambda msg: msg.content.endswith(f"aside-{m}"))
        await rig.wait_bot_message(aside, is_footer, after=answer)
        notice = await rig.wait_bot_message(thread, lambda msg: msg.content.startswith("💬 Side question"))
        assert f"<#{aside.id}>" in notice.content

        # The main thread was not disturbed: its turn ran to its end, then the queued message.
        later = await rig.wait_bot_message(thread, lambda msg: msg.content.endswith(f"later-{m}"), timeout=40)
        await rig.wait_bot_message(thread, is_footer, after=later)
        await rig.wait_idle(thread)
        assert sum(is_footer(msg) for msg in rig.bot_messages(thread)) == 2  # neither turn was cut
        main = await session_texts(rig, runtime.session_id, runtime.directory)
        assert main[0] == f"SLOW:4 main-{m}" and main[1].rstrip().endswith("tick 19")
        assert main[2:] == [f"REPLY: later-{m}", f"later-{m}"]

        # The fork holds the main history and the framed question; its thread shows no replay.
        forked = rig.core.conversations.runtime(str(aside.id))
        assert forked.session_id not in (None, runtime.session_id)
        fork_texts = await session_texts(rig, forked.session_id, forked.directory)
        assert fork_texts[0] == f"SLOW:4 main-{m}"
        asked = [t for t in fork_texts if "side question" in t]
        assert len(asked) == 1 and asked[0].endswith(f"Question:\nREPLY: aside-{m}")
        assert runtime.session_id is not None and runtime.session_id in asked[0]
        shown = [msg.content for msg in rig.bot_messages(aside)]
        assert shown[0].startswith(f"**btw** — a side question from <#{thread.id}>")
        assert not any("tick" in s or f"main-{m}" in s for s in shown)
        assert rig.users.owner.id in aside.thread_members


async def test_the_btw_command_asks_aside(bot_rig: BotRig) -> None:
    m = uuid.uuid4().hex[:8]
    await bot_rig.user_says("owner", f"REPLY: first-{m}")
    thread = await bot_rig.wait_thread()
    first = await bot_rig.wait_bot_message(thread, lambda msg: f"first-{m}" in msg.content)
    await bot_rig.wait_bot_message(thread, is_footer, after=first)

    asked = await bot_rig.users.owner.slash(thread, "btw", prompt=f"REPLY: side-{m}")
    reply = await asked.wait_response(30)
    aside = await bot_rig.wait_thread(predicate=lambda t: t.name.startswith("btw: "))
    assert reply.content == f"💬 Side question asked in <#{aside.id}> — this thread goes on undisturbed."
    answer = await bot_rig.wait_bot_message(aside, lambda msg: msg.content.endswith(f"side-{m}"))
    await bot_rig.wait_bot_message(aside, is_footer, after=answer)
    forked = bot_rig.core.conversations.runtime(str(aside.id))
    fork_texts = await session_texts(bot_rig, forked.session_id, forked.directory)
    assert fork_texts[:2] == [f"REPLY: first-{m}", f"first-{m}"]

