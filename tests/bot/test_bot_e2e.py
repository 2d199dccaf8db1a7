"""The Discord bot end to end: the twin (real discord.py client) + real OpenCode + scripted model.

Conversations: a message starts a thread and gets its answer and footer, long answers are split,
busy sessions queue or interrupt, threads run in parallel, unmapped channels stay silent, typing.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from kimaki_tui.bot.output import OutputRouter
from kimaki_tui.settings import SessionSettings
from tests.bot.rig import BotRig, is_footer

pytestmark = pytest.mark.opencode
MakeRig = Callable[..., AbstractAsyncContextManager[BotRig]]


async def test_message_starts_a_thread_and_gets_the_answer_and_footer(versioned_bot_rig: BotRig) -> None:
    bot_rig = versioned_bot_rig
    msg = await bot_rig.user_says("owner", "hello <@123> there   friend")
    thread = await bot_rig.wait_thread()
    assert thread.id == msg.id
    assert thread.name == "hello there friend"
    answer = await bot_rig.wait_bot_message(thread, lambda m: "Echo:" in m.content)
    assert answer.content.startswith("⬥ Echo: hello")
    footer = await bot_rig.wait_bot_message(thread, is_footer, after=answer)
    fields = footer.content.strip("*").split(" · ")
    assert fields[0] == bot_rig.project_dir.name
    assert fields[1] in ("⎇ main", "⎇ master")
    assert "fake-model" in fields and "build" not in fields  # the default agent goes unsaid
    await bot_rig.settle()
    # Nothing else: no duplicate answer, no notices.
    assert [m.id for m in bot_rig.bot_messages(thread)] == [answer.id, footer.id]
    assert bot_rig.core.conversations.get(str(thread.id)) is not None


async def test_a_message_that_mentions_the_bot_first_is_a_prompt(bot_rig: BotRig) -> None:
    await bot_rig.user_says("owner", f"<@{bot_rig.twin.bot_user.id}> REPLY: at your service")
    thread = await bot_rig.wait_thread()
    assert thread.name == "REPLY: at your service"
    await bot_rig.wait_bot_message(thread, lambda m: m.content == "⬥ at your service")


async def test_subagent_tasks_are_announced_as_they_start_and_thinking_is_not_posted(
    bot_rig: BotRig,
) -> None:
    await bot_rig.user_says("owner", "THINK SUBAGENTS:2")
    thread = await bot_rig.wait_thread()
    footer = await bot_rig.wait_bot_message(thread, is_footer)
    await bot_rig.settle()
    posted = [m.content for m in bot_rig.bot_messages(thread)]
    # Task 2 finishes first; the lines follow the order the tasks started, once each.
    tasks = ["┣ task **sleep task 1**", "┣ task **sleep task 2**"]
    assert posted == [*tasks, "⬥ Tool said: subtask 2 done", footer.content]


async def test_later_messages_in_the_thread_continue_the_same_session(bot_rig: BotRig) -> None:
    await bot_rig.user_says("owner", "first question")
    thread = await bot_rig.wait_thread()
    first = await bot_rig.wait_bot_message(thread, is_footer)
    session = bot_rig.core.conversations.runtime(str(thread.id)).session_id
    await bot_rig.user_says("kimaki_user", "second question", thread)
    answer = await bot_rig.wait_bot_message(
        thread, lambda m: "Echo: second question" in m.content, after=first
    )
    await bot_rig.wait_bot_message(thread, is_footer, after=answer)
    assert bot_rig.core.conversations.runtime(str(thread.id)).session_id == session
    assert len(bot_rig.twin.threads(bot_rig.channel)) == 1


async def test_a_long_answer_is_split_with_balanced_fences(bot_rig: BotRig) -> None:
    await bot_rig.user_says("owner", "LONG:5000")
    thread = await bot_rig.wait_thread()
    await bot_rig.wait_bot_message(thread, is_footer)
    texts = [m.content for m in bot_rig.bot_messages(thread) if not is_footer(m)]
    assert len(texts) >= 3
    assert all(len(text) <= 2000 for text in texts)
    for text in texts:
        fences = [line for line in text.splitlines() if line.startswith("```")]
        assert len(fences) % 2 == 0, f"unbalanced fences in:\n{text[:300]}"
    reopened = [t for t in texts[1:] if t.startswith("```python")]
    assert reopened, "the code block was not reopened with its language"
    whole = "\n".join(texts)
    for i in range(80):
        assert whole.count(f"def step_{i}(") == 1


async def test_two_threads_run_in_parallel(bot_rig: BotRig) -> None:
    await bot_rig.user_says("owner", "SLOW:2 first")
    await bot_rig.user_says("admin", "SLOW:2 second")
    first = await bot_rig.wait_thread(predicate=lambda t: "first" in t.name)
    second = await bot_rig.wait_thread(predicate=lambda t: "second" in t.name)
    runtimes = [bot_rig.core.conversations.runtime(str(t.id)) for t in (first, second)]
    # Both sessions work at the same moment: neither waits for the other.
    await bot_rig.twin.wait_until(lambda: all(r.busy for r in runtimes) or None, 10, "both turns at once")
    for thread in (first, second):
        await bot_rig.wait_bot_message(thread, is_footer)
    for thread in (first, second):
        messages = bot_rig.bot_messages(thread)
        assert [is_footer(m) for m in messages] == [False, True]
        assert messages[0].content.startswith("⬥ tick 0")


async def test_a_message_while_busy_interrupts_after_a_short_delay(make_bot_rig: MakeRig) -> None:
    async with make_bot_rig(sessions=SessionSettings(interrupt_delay=0.3)) as rig:
        await rig.user_says("owner", "SLOW:8 take your time")
        thread = await rig.wait_thread()
        runtime = rig.core.conversations.runtime(str(thread.id))
        await rig.twin.wait_until(lambda: runtime.busy, 10, "the first turn to run")
        await rig.user_says("owner", "actually do this", thread)
        notice = await rig.wait_bot_message(thread, lambda m: "interrupts the current answer" in m.content)
        answer = await rig.wait_bot_message(
            thread, lambda m: "Echo: actually do this" in m.content, after=notice
        )
        await rig.wait_bot_message(thread, is_footer, after=answer)
        texts = [m.content for m in rig.bot_messages(thread)]
        assert "» **owner:** actually do this" in texts
        # The interrupted turn gets no footer; the new one does.
        assert sum(is_footer(m) for m in rig.bot_messages(thread)) == 1


async def test_a_message_while_busy_is_queued_under_the_queue_policy(make_bot_rig: MakeRig) -> None:
    async with make_bot_rig(sessions=SessionSettings(busy_policy="queue")) as rig:
        await rig.user_says("owner", "SLOW:1.5 warm up")
        thread = await rig.wait_thread()
        runtime = rig.core.conversations.runtime(str(thread.id))
        await rig.twin.wait_until(lambda: runtime.busy, 10, "the first turn to run")
        await rig.user_says("owner", "then this", thread)
        notice = await rig.wait_bot_message(thread, lambda m: m.content.startswith("⏳ Queued"))
        assert "goes next" in notice.content
        answer = await rig.wait_bot_message(thread, lambda m: "Echo: then this" in m.content)
        await rig.wait_bot_message(thread, is_footer, after=answer)
        texts = [m.content for m in rig.bot_messages(thread)]
        order = [
            next(i for i, t in enumerate(texts) if t.startswith("⬥ tick 0")),
            next(i for i, t in enumerate(texts) if t == "» **owner:** then this"),
            texts.index(answer.content),
        ]
        assert order == sorted(order)
        assert sum(is_footer(m) for m in rig.bot_messages(thread)) == 2


async def test_unmapped_channels_are_ignored_silently(bot_rig: BotRig) -> None:
    other = bot_rig.guild.add_text_channel("random")
    await bot_rig.user_says("owner", "hello random", other)
    await bot_rig.user_says("member", "hello again", other)
    # A message the bot handles afterwards proves it has seen (and skipped) the earlier ones.
    await bot_rig.user_says("owner", "sentinel")
    sentinel = await bot_rig.wait_thread()
    await bot_rig.wait_bot_message(sentinel, is_footer)
    assert bot_rig.bot_messages(other) == []
    assert bot_rig.twin.threads(other) == []


async def test_typing_shows_during_the_turn_and_stops_after(make_bot_rig: MakeRig) -> None:
    async with make_bot_rig(typing_interval=0.3) as rig:
        await rig.user_says("owner", "SLOW:2 type for me")
        thread = await rig.wait_thread()
        await rig.wait_bot_message(thread, is_footer)
        bot_id = rig.twin.bot_user.id
        pulses = [t for t in rig.twin.typing_events(thread) if t.user_id == bot_id]
        assert len(pulses) >= 4, f"expected repeated typing during a 2 s turn, got {len(pulses)}"
        await asyncio.sleep(1.0)
        assert len(rig.twin.typing_events(thread)) == len(pulses), "typing went on after the turn"


def test_thread_names_follow_kimaki() -> None:
    from kimaki_tui.bot.threads import thread_name

    assert thread_name("  fix <@123> the   <#456> bug  ") == "fix the bug"
    assert thread_name("<@&99>") == "kimaki thread"
    long = thread_name("word " * 40)
    assert len(long) == 80 and long.endswith("…")
    assert not re.search(r"\s{2}", long)


async def test_messages_sent_as_soon_as_the_thread_appears_are_answered_in_order(
    make_bot_rig: MakeRig,
) -> None:
    """A follow-up can reach the bot before its own request that opened the thread has returned:
    it must still wait behind the message that opened the thread, and so must each other."""
    async with make_bot_rig(sessions=SessionSettings(busy_policy="queue")) as rig:
        # The bot hears that its thread was created only after the follow-ups arrived.
        rig.twin.delay_responses("POST /channels/*/messages/*/threads", 0.5)
        await rig.user_says("owner", "REPLY: answer zero")
        thread = await rig.wait_thread()
        for n in (1, 2):
            await rig.user_says("owner", f"REPLY: answer {n}", thread)
        # The answer itself: a queued prompt's "» owner: REPLY: answer 2" echo also says "answer 2".
        last = await rig.wait_bot_message(thread, lambda m: m.content == "⬥ answer 2")
        await rig.wait_bot_message(thread, is_footer, after=last)
        answers = [m.content for m in rig.bot_messages(thread) if m.content.startswith("⬥ answer")]
        assert answers == ["⬥ answer zero", "⬥ answer 1", "⬥ answer 2"]


async def test_a_quiet_thread_keeps_no_tasks_and_posts_again_when_spoken_to(
    make_bot_rig: MakeRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bot up for weeks must not keep two tasks for every thread it ever posted in."""
    monkeypatch.setattr(OutputRouter, "release_after", 0.3)

    def workers(thread_id: int) -> list[str]:
        names = (f"kimaki-output-{thread_id}", f"kimaki-delivery-{thread_id}")
        return [t.get_name() for t in asyncio.all_tasks() if t.get_name() in names and not t.done()]

    async with make_bot_rig() as rig:
        await rig.user_says("owner", "REPLY: first answer")
        thread = await rig.wait_thread()
        await rig.wait_bot_message(thread, is_footer)
        assert workers(thread.id)
        await rig.twin.wait_until(lambda: not workers(thread.id), 10, "the thread's workers to stop")
        await rig.user_says("owner", "REPLY: second answer", thread)
        second = await rig.wait_bot_message(thread, lambda m: "second answer" in m.content)
        await rig.wait_bot_message(thread, is_footer, after=second)
        texts = [m.content for m in rig.bot_messages(thread) if "answer" in m.content]
        assert texts == ["⬥ first answer", "⬥ second answer"]
