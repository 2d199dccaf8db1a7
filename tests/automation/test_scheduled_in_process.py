"""A due task in the running kimaki goes straight to the bot and the core: the bot posts the starter
and opens the thread and session itself, with no marked message making a trip through Discord."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kimaki_tui.bot.cli_marker import marker_from_embeds
from kimaki_tui.opencode.models import Message
from kimaki_tui.scheduling.request import SendRequest
from kimaki_tui.scheduling.when import Schedule
from kimaki_tui.testing.discord_twin import Channel
from tests.automation.rig import AutomationRig
from tests.bot.rig import is_footer
from tests.harness import texts

pytestmark = pytest.mark.opencode


def due_now() -> Schedule:
    now = datetime.now(UTC)
    return Schedule("at", now, run_at=now)


async def user_messages(rig: AutomationRig, thread: Channel) -> list[Message]:
    runtime = rig.bot.core.conversations.runtime(str(thread.id))
    assert runtime.session_id is not None
    messages = await rig.server.client.messages(runtime.session_id, runtime.directory)
    return [m for m in messages if m.role == "user"]


def no_marked_messages(rig: AutomationRig, *channels: Channel) -> bool:
    return all(marker_from_embeds(m.embeds) is None for c in channels for m in rig.twin.messages(c))


async def test_a_due_channel_task_is_answered_in_its_new_thread(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    owner = rig.bot.users.owner
    request = SendRequest(
        "channel",
        str(rig.bot.channel.id),
        "REPLY: straight to the core",
        name="nightly check",
        agent="plan",
        model="fake/fake-model",
        user_id=str(owner.id),
    )
    task = rig.store.add_task(due_now(), request, channel_id=str(rig.bot.channel.id))
    assert rig.scheduler is not None
    await rig.scheduler.sync()

    thread = await rig.bot.wait_thread(timeout=15)
    await rig.bot.wait_bot_message(thread, lambda m: m.content == "⬥ straight to the core")
    await rig.bot.wait_bot_message(thread, is_footer)
    starter = rig.twin.world.messages[thread.id]  # the thread grew from the starter message
    assert starter.author.id == rig.twin.bot_user.id and starter.content == "REPLY: straight to the core"
    assert thread.name == "nightly check" and owner.id in thread.thread_members
    assert no_marked_messages(rig, rig.bot.channel, thread)
    assert not [m for m in rig.bot.bot_messages(thread) if m.content.startswith("»")]  # no echo

    sent = await user_messages(rig, thread)
    assert [" ".join(texts(m)) for m in sent] == ["REPLY: straight to the core"]
    assert [m.info.agent for m in sent] == ["plan"]
    session = rig.bot.core.conversations.runtime(str(thread.id)).session_id
    assert session is not None
    prefs = rig.store.get_session_pref(session)
    assert (prefs.agent, prefs.model) == ("plan", "fake/fake-model")
    runs = [(r.status, r.message_id, r.thread_id) for r in rig.store.task_runs(task.id)]
    assert runs == [("posted", str(thread.id), str(thread.id))]
    done = rig.store.get_task(task.id)
    assert done is not None and done.status == "done"


async def test_a_due_task_without_a_name_takes_the_session_title(auto_rig: AutomationRig) -> None:
    """Like `kimaki send` without --name: the thread is named from the prompt, then after the
    session's title (a chosen name, as in the test above, stays)."""
    rig = auto_rig
    prompt = "REPLY: a nameless task becomes titled soon"
    request = SendRequest("channel", str(rig.bot.channel.id), prompt)
    rig.store.add_task(due_now(), request, channel_id=str(rig.bot.channel.id))
    assert rig.scheduler is not None
    await rig.scheduler.sync()
    thread = await rig.bot.wait_thread(timeout=15)
    await rig.twin.wait_until(lambda: thread.name == "REPLY: a nameless task becomes", 30, "the title")
    runtime = rig.bot.core.conversations.runtime(str(thread.id))
    assert runtime.session_id is not None
    info = await rig.server.client.get_session(runtime.session_id, runtime.directory)
    assert info.title == thread.name


async def test_a_due_thread_task_prompts_the_threads_session(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    await rig.bot.user_says("owner", "REPLY: first answer")
    thread = await rig.bot.wait_thread()
    first = await rig.bot.wait_bot_message(thread, is_footer)

    request = SendRequest("thread", str(thread.id), "REPLY: scheduled follow-up")
    task = rig.store.add_task(due_now(), request, channel_id=str(rig.bot.channel.id))
    assert rig.scheduler is not None
    await rig.scheduler.sync()

    answer = await rig.bot.wait_bot_message(
        thread, lambda m: m.content == "⬥ scheduled follow-up", after=first
    )
    starter = next(m for m in rig.twin.messages(thread) if m.content.startswith("» **kimaki-cli:**"))
    assert starter.content == "» **kimaki-cli:**\nREPLY: scheduled follow-up" and starter.id < answer.id
    assert no_marked_messages(rig, thread)
    sent = await user_messages(rig, thread)
    assert [" ".join(texts(m)) for m in sent] == ["REPLY: first answer", "REPLY: scheduled follow-up"]
    assert [(r.status, r.message_id) for r in rig.store.task_runs(task.id)] == [("posted", str(starter.id))]


async def test_a_task_for_a_channel_this_kimaki_does_not_own_fails_with_the_reason(
    auto_rig: AutomationRig,
) -> None:
    rig = auto_rig
    elsewhere = rig.bot.guild.add_text_channel("not-a-project", category=rig.bot.category)
    request = SendRequest("channel", str(elsewhere.id), "REPLY: nowhere")
    task = rig.store.add_task(due_now(), request, channel_id=str(elsewhere.id))
    assert rig.scheduler is not None
    await rig.scheduler.sync()

    failed = rig.store.get_task(task.id)
    assert failed is not None and failed.status == "failed"
    assert failed.last_error == "#not-a-project is not a project channel of this kimaki"
    assert [r.status for r in rig.store.task_runs(task.id)] == ["failed"]
    assert rig.twin.messages(elsewhere) == [] and rig.twin.threads(elsewhere) == []
