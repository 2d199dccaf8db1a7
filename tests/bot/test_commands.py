"""Slash commands end to end: the twin (real discord.py client) + real OpenCode + scripted model.

/session, /resume (with autocomplete), /queue and its Remove button, /clear-queue, /abort,
/add-project and /remove-project, access refusals, and silence in channels this instance doesn't own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from kimaki_tui.bot.commands.queue import cleared_text, dispatched_line
from kimaki_tui.core.events import QueuedItem
from kimaki_tui.core.history import assistant_texts
from kimaki_tui.opencode.models import Message as OpenCodeMessage
from kimaki_tui.opencode.schema import text_part
from kimaki_tui.presentation.split import pack_texts
from kimaki_tui.settings import SessionSettings
from kimaki_tui.testing.discord_twin import Channel, ChannelType, Interaction, Message
from kimaki_tui.testing.discord_twin import threads as twin_threads
from kimaki_tui.testing.discord_twin.commands import build_invocation, find_command
from kimaki_tui.testing.discord_twin.interactions import AUTOCOMPLETE, dispatch
from kimaki_tui.testing.scripted_model import ScriptedModel, latest_user_text
from tests.bot.rig import BotRig, custom_ids, is_footer
from tests.harness import git_init, wait_until

pytestmark = pytest.mark.opencode

COMMANDS = {"session", "resume", "abort", "queue", "clear-queue", "add-project", "remove-project"}


async def answer(inter: Interaction, timeout: float = 15.0) -> str:
    return (await inter.wait_response(timeout)).content


async def no_answer(inter: Interaction, wait: float = 1.0) -> bool:
    await asyncio.sleep(wait)
    return inter.callback_type is None


async def busy_thread(rig: BotRig, model: ScriptedModel, text: str) -> Channel:
    """A thread whose session is in the middle of a slow answer (the model is streaming it)."""
    await rig.user_says("owner", text)
    thread = await rig.wait_thread(predicate=lambda t: text.split()[-1] in t.name)
    await wait_until(lambda: text in user_texts(model, text), 20, 0.05, "the model to be asked")
    assert rig.core.conversations.runtime(str(thread.id)).busy
    return thread


def user_texts(model: ScriptedModel, marker: str) -> list[str]:
    seen: list[str] = []
    for body in model.requests:
        if not body.get("tools"):
            continue  # title generation
        text = latest_user_text(body.get("messages", []))
        if marker in text and text not in seen:
            seen.append(text)
    return seen


# ---- pure helpers -------------------------------------------------------------------------------


def test_replay_takes_the_last_assistant_texts_and_batches_them() -> None:
    def msg(role: str, *parts: dict[str, object]) -> OpenCodeMessage:
        return OpenCodeMessage.from_json({"info": {"role": role}, "parts": list(parts)})

    messages = [
        msg("user", {"id": "u1", "type": "text", "text": "question"}),
        msg("assistant", {"id": "a1", "type": "text", "text": "old"}, {"id": "t", "type": "tool"}),
        msg("assistant", {"id": "a2", "type": "text", "text": "x", "synthetic": True}),
        msg(
            "assistant",
            {"id": "a3", "type": "text", "text": "  "},
            {"id": "a4", "type": "text", "text": "new"},
        ),
    ]
    assert [(p.part_id, p.text) for p in assistant_texts(messages)] == [("a1", "old"), ("a4", "new")]
    assert [(p.part_id, p.text) for p in assistant_texts(messages, limit=1)] == [("a4", "new")]
    batches = pack_texts([("a", "one"), ("b", "two"), ("c", "z" * 1999)])
    assert batches == [("one\n\ntwo", ["a", "b"]), ("z" * 1999, ["c"])]
    long = pack_texts([("a", ("word " * 900).strip())])
    assert len(long) == 3 and all(len(t) <= 2000 and ids == ["a"] for t, ids in long)


def test_cleared_list_is_capped() -> None:
    items = [(i, QueuedItem(i, f"prompt {i} " + "x" * 100, "alice", "discord")) for i in range(1, 60)]
    text = cleared_text(items)
    assert len(text) <= 1900 and text.startswith("Cleared 59 queued messages:")
    assert text.splitlines()[1].startswith("1. **alice:** prompt 1 ") and "more" in text.splitlines()[-1]
    assert dispatched_line("b*b", "a\n  b") == "» **b\\*b:** a b"


# ---- commands ------------------------------------------------------------------------------------


async def test_commands_are_synced_to_the_guild(bot_rig: BotRig) -> None:
    synced = bot_rig.twin.commands(bot_rig.guild)
    assert {c.name for c in synced} >= COMMANDS and len(synced) < 100
    assert all(len(c.schema["description"]) <= 100 for c in synced)
    assert bot_rig.twin.commands() == []  # no global commands


async def test_session_command_starts_a_thread_with_the_answer(bot_rig: BotRig) -> None:
    inter = await bot_rig.users.kimaki_user.slash(bot_rig.channel, "session", prompt="hello from a command")
    reply = await inter.wait_response(15)
    thread = await bot_rig.wait_thread()
    assert reply.ephemeral and reply.content == f"Started <#{thread.id}>."
    assert thread.name == "hello from a command"
    starter = next(m for m in bot_rig.twin.messages(bot_rig.channel) if m.id == thread.id)
    assert (
        starter.content.startswith("**Starting OpenCode session**")
        and "> hello from a command" in starter.content
    )
    answer_msg = await bot_rig.wait_bot_message(thread, lambda m: "Echo: hello from a command" in m.content)
    await bot_rig.wait_bot_message(thread, is_footer, after=answer_msg)
    # From inside the thread, /session starts another thread in the parent channel.
    inter = await bot_rig.users.owner.slash(thread, "session", prompt="second one")
    await inter.wait_response(15)
    second = await bot_rig.wait_thread(predicate=lambda t: t.name == "second one")
    assert second.parent_id == bot_rig.channel.id
    await bot_rig.wait_bot_message(second, is_footer)


async def test_a_session_command_thread_takes_the_session_title(bot_rig: BotRig) -> None:
    prompt = "REPLY: please rename this thread after its session"
    inter = await bot_rig.users.owner.slash(bot_rig.channel, "session", prompt=prompt)
    await inter.wait_response(15)
    thread = await bot_rig.wait_thread()
    assert thread.name == prompt  # named from the prompt first …
    # … then after the title OpenCode gave the session (the scripted model: its first five words).
    await bot_rig.twin.wait_until(lambda: thread.name == "REPLY: please rename this thread", 30, "the title")
    session = bot_rig.core.conversations.runtime(str(thread.id)).session_id
    assert session is not None
    info = await bot_rig.core.client.get_session(session, str(bot_rig.project_dir))
    assert info.title == thread.name


async def test_resume_replays_the_session_and_continues_it(
    make_bot_rig: Callable[..., AbstractAsyncContextManager[BotRig]],
) -> None:
    # Sync off: the session stands for one from before kimaki ran, which no thread shows (with
    # sync on, a session started while kimaki runs gets its own "Sync:" thread at once).
    async with make_bot_rig(sessions=SessionSettings(disable_sync=True)) as bot_rig:
        client, directory = bot_rig.core.client, str(bot_rig.project_dir)
        info = await client.create_session(directory, title="Earlier work on the parser")
        await client.prompt(info.id, directory, [text_part("REPLY: the parser is done")], timeout=60)
        owner = bot_rig.users.owner

        choices = await owner.autocomplete(bot_rig.channel, "resume", "session", "parser")
        assert {"name": "Earlier work on the parser", "value": info.id} in choices
        assert await owner.autocomplete(bot_rig.channel, "resume", "session", "zzz-no-match") == []

        reply = await answer(await owner.slash(bot_rig.channel, "resume", session=info.id))
        thread = await bot_rig.wait_thread(predicate=lambda t: t.name.startswith("Resume:"))
        assert thread.name == "Resume: Earlier work on the parser" and reply == f"Resumed in <#{thread.id}>."
        texts = [m.content for m in bot_rig.bot_messages(thread)]
        assert texts[0].startswith("**Resuming** Earlier work on the parser")
        assert (
            texts[1] == "the parser is done" and texts[-1] == "Session resumed — send a message to continue."
        )
        assert owner.id in thread.thread_members

        # Bound now: no longer offered, and a second /resume points at the thread.
        choices = await owner.autocomplete(bot_rig.channel, "resume", "session", "")
        assert info.id not in [c["value"] for c in choices]
        again = await answer(await owner.slash(bot_rig.channel, "resume", session=info.id))
        assert again == f"That session is already open in <#{thread.id}>."

        await bot_rig.user_says("owner", "and now the lexer", thread)
        got = await bot_rig.wait_bot_message(thread, lambda m: "Echo: and now the lexer" in m.content)
        await bot_rig.wait_bot_message(thread, is_footer, after=got)
        assert bot_rig.core.conversations.runtime(str(thread.id)).session_id == info.id
        users = [m for m in await client.messages(info.id, directory) if m.info.is_user]
        assert [p.text for p in users[-1].text_parts() if not p.synthetic] == ["and now the lexer"]


async def test_resume_refuses_unknown_sessions_and_threads(bot_rig: BotRig) -> None:
    owner = bot_rig.users.owner
    for bogus in ("ses_doesnotexist000000000000", "not-a-session"):
        reply = await (await owner.slash(bot_rig.channel, "resume", session=bogus)).wait_response(15)
        assert reply.ephemeral and reply.content == f"There is no OpenCode session `{bogus}` in this project."
    assert bot_rig.twin.threads(bot_rig.channel) == []
    await bot_rig.user_says("owner", "a thread")
    thread = await bot_rig.wait_thread()
    await bot_rig.wait_bot_message(thread, is_footer)  # don't end the test with a turn in flight
    reply = await (await owner.slash(thread, "resume", session="ses_x")).wait_response()
    assert reply.ephemeral and "not inside a thread" in reply.content


async def test_queue_while_busy_drains_in_order(bot_rig: BotRig, scripted_model: ScriptedModel) -> None:
    marker = uuid.uuid4().hex[:8]
    thread = await busy_thread(bot_rig, scripted_model, f"SLOW:3 {marker}-zero")
    replies = []
    for word in ("one", "two"):
        inter = await bot_rig.users.kimaki_user.slash(thread, "queue", message=f"{marker} {word}")
        replies.append((await inter.wait_response(15)).message)
    assert [m.content for m in replies if m] == ["Queued (position 1)", "Queued (position 2)"]
    assert all(m and custom_ids(m)[0].startswith("kimaki:queue:remove:") and not m.ephemeral for m in replies)
    last = await bot_rig.wait_bot_message(thread, lambda m: f"Echo: {marker} two" in m.content, timeout=60)
    await bot_rig.wait_bot_message(thread, is_footer, after=last)
    assert user_texts(scripted_model, marker) == [f"SLOW:3 {marker}-zero", f"{marker} one", f"{marker} two"]
    lines = [m.content for m in bot_rig.bot_messages(thread) if m.content.startswith("»")]
    who = bot_rig.users.kimaki_user.name
    assert lines == [f"» **{who}:** {marker} one", f"» **{who}:** {marker} two"]
    # Both prompts ran: their "Remove from queue" buttons are gone (they could only refuse now).
    ids = {m.id for m in replies if m}
    await wait_until(
        lambda: all(not custom_ids(m) for m in bot_rig.twin.messages(thread) if m.id in ids),
        10,
        message="the stale buttons to go",
    )

    # Idle: /queue sends at once and its reply is the » line (no second one in the thread).
    inter = await bot_rig.users.owner.slash(thread, "queue", message=f"{marker} three")
    assert await answer(inter) == f"» **owner:** {marker} three"
    got = await bot_rig.wait_bot_message(thread, lambda m: f"Echo: {marker} three" in m.content)
    await bot_rig.wait_bot_message(thread, is_footer, after=got)
    assert [m.content for m in bot_rig.twin.messages(thread)].count(f"» **owner:** {marker} three") == 1


async def test_remove_button_and_clear_queue(bot_rig: BotRig, scripted_model: ScriptedModel) -> None:
    marker = uuid.uuid4().hex[:8]
    # Long enough that nothing leaves the queue by itself while the test clicks; aborted at the end.
    thread = await busy_thread(bot_rig, scripted_model, f"SLOW:30 {marker}-zero")
    queued: list[Message] = []
    for word in ("a", "b", "c", "d"):
        inter = await bot_rig.users.owner.slash(thread, "queue", message=f"{marker} {word}")
        message = (await inter.wait_response(15)).message
        assert message is not None
        queued.append(message)
    runtime = bot_rig.core.conversations.runtime(str(thread.id))

    refused = await bot_rig.users.member.click(queued[0], custom_ids(queued[0])[0])
    assert (await refused.wait_response()).ephemeral
    click = await bot_rig.users.kimaki_user.click(queued[0], custom_ids(queued[0])[0])
    edited = (await click.wait_response()).message
    who = bot_rig.users.kimaki_user.name
    assert edited is not None and edited.content == f"~~Queued (position 1)~~ — removed by {who}"
    assert edited.components == []
    assert [i.prompt for i in runtime.queue()] == [f"{marker} b", f"{marker} c", f"{marker} d"]

    reply = await answer(await bot_rig.users.owner.slash(thread, "clear-queue", position=2))
    assert reply == f"Cleared 1 queued message:\n1. **owner:** {marker} c".replace("1. **", "2. **", 1)
    reply = await answer(await bot_rig.users.owner.slash(thread, "clear-queue", position=5))
    assert reply == "There is no queued message at position 5 (the queue has 2)."
    reply = await answer(await bot_rig.users.owner.slash(thread, "clear-queue"))
    assert reply == f"Cleared 2 queued messages:\n1. **owner:** {marker} b\n2. **owner:** {marker} d"
    assert runtime.queue() == ()
    assert await answer(await bot_rig.users.owner.slash(thread, "clear-queue")) == "The queue is empty."

    assert runtime.busy
    await answer(await bot_rig.users.owner.slash(thread, "abort"))
    await wait_until(lambda: not runtime.busy, 10, 0.05, "the turn to stop")
    await asyncio.sleep(0.5)
    assert user_texts(scripted_model, marker) == [f"SLOW:30 {marker}-zero"]


async def test_abort_stops_a_running_answer(bot_rig: BotRig, scripted_model: ScriptedModel) -> None:
    thread = await busy_thread(bot_rig, scripted_model, "SLOW:20 story-abort")
    inter = await bot_rig.users.admin.slash(thread, "abort")
    reply = await inter.wait_response(15)
    assert reply.content == "Aborted the current answer." and not reply.ephemeral
    await wait_until(
        lambda: not bot_rig.core.conversations.runtime(str(thread.id)).busy, 10, 0.05, "the turn to stop"
    )
    assert await answer(await bot_rig.users.admin.slash(thread, "abort")) == "Nothing is running."
    await asyncio.sleep(1.0)
    await bot_rig.settle()
    assert not [m for m in bot_rig.bot_messages(thread) if is_footer(m)]

    outside = await (await bot_rig.users.admin.slash(bot_rig.channel, "abort")).wait_response()
    assert outside.ephemeral and outside.content == "Use this command inside a kimaki session thread."


async def test_queue_in_a_thread_without_session(bot_rig: BotRig) -> None:
    owner = bot_rig.users.owner
    thread = twin_threads.start_thread(
        bot_rig.twin.world, bot_rig.channel, owner.user, {"name": "by hand"}, kind=ChannelType.PUBLIC_THREAD
    )
    await asyncio.sleep(0.2)
    reply = await (await owner.slash(thread, "queue", message="hi")).wait_response()
    assert reply.ephemeral and reply.content == "No session in this thread yet — send a message instead."


async def test_add_project_creates_a_linked_channel(bot_rig: BotRig, tmp_path: Path) -> None:
    project = git_init(tmp_path / "Another Project")
    owner = bot_rig.users.owner
    choices = await owner.autocomplete(bot_rig.channel, "add-project", "project", str(project))
    assert {"name": str(project), "value": str(project)} in choices

    unmapped = bot_rig.guild.add_text_channel("general")  # works from any channel of the guild
    reply = await answer(await owner.slash(unmapped, "add-project", project=str(project)))
    channel = next(c for c in bot_rig.guild.channels if c.name == "another-project")
    assert reply == f"Created <#{channel.id}> for `{project}`."
    assert channel.parent_id == bot_rig.category.id
    app_id = bot_rig.twin.app_id
    assert channel.topic == f"<kimaki><directory>{project}</directory><app>{app_id}</app></kimaki>"
    assert bot_rig.core.projects.directory_of(str(channel.id)) == str(project)
    again = await answer(await owner.slash(bot_rig.channel, "add-project", project=str(project)))
    assert again == f"`{project}` already has its channel here: <#{channel.id}>."

    await bot_rig.user_says("owner", "hello new project", channel)
    thread = await bot_rig.wait_thread(channel)
    got = await bot_rig.wait_bot_message(thread, lambda m: "Echo: hello new project" in m.content)
    await bot_rig.wait_bot_message(thread, is_footer, after=got)
    assert bot_rig.core.conversations.runtime(str(thread.id)).directory == str(project)


async def test_unlink_then_add_again_reuses_the_channel(bot_rig: BotRig, tmp_path: Path) -> None:
    """A project unlinked in the control center and added again gets its old channel (and its
    threads) back, not a second channel with the same name."""
    project = git_init(tmp_path / "comeback")
    owner = bot_rig.users.owner
    await answer(await owner.slash(bot_rig.channel, "add-project", project=str(project)))
    [channel] = [c for c in bot_rig.guild.channels if c.name == "comeback"]
    assert bot_rig.core.projects.unlink(str(channel.id))
    await answer(await owner.slash(bot_rig.channel, "add-project", project=str(project)))
    assert [c.id for c in bot_rig.guild.channels if c.name.startswith("comeback")] == [channel.id]
    assert bot_rig.core.projects.directory_of(str(channel.id)) == str(project)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("relative/path", "is not an absolute path"),
        ("{tmp}/missing", "does not exist"),
        ("{tmp}/real/../real", "contains `..`"),
    ],
)
async def test_add_project_refuses_bad_paths(
    bot_rig: BotRig, tmp_path: Path, typed: str, expected: str
) -> None:
    (tmp_path / "real").mkdir()
    before = len(bot_rig.guild.channels)
    inter = await bot_rig.users.owner.slash(
        bot_rig.channel, "add-project", project=typed.format(tmp=tmp_path)
    )
    reply = await inter.wait_response()
    assert reply.ephemeral and expected in reply.content
    assert len(bot_rig.guild.channels) == before


async def test_remove_project_unlinks_and_deletes_the_channel(bot_rig: BotRig) -> None:
    await bot_rig.user_says("owner", "a thread first")
    thread = await bot_rig.wait_thread()
    await bot_rig.wait_bot_message(thread, is_footer)
    inside = await (await bot_rig.users.owner.slash(thread, "remove-project")).wait_response()
    assert inside.ephemeral and "not in a thread" in inside.content

    channel_id = bot_rig.channel.id
    inter = await bot_rig.users.manager.slash(bot_rig.channel, "remove-project")
    assert "The directory on disk stays." in await answer(inter)
    await bot_rig.twin.wait_until(
        lambda: all(c.id != channel_id for c in bot_rig.guild.channels), 5, "the channel to go"
    )
    assert bot_rig.core.projects.directory_of(str(channel_id)) is None
    assert bot_rig.project_dir.is_dir()


async def test_unpermitted_user_is_refused(bot_rig: BotRig) -> None:
    member = bot_rig.users.member
    reply = await (await member.slash(bot_rig.channel, "session", prompt="let me in")).wait_response()
    assert reply.ephemeral and "Kimaki" in reply.content and "role" in reply.content
    reply = await (await member.slash(bot_rig.channel, "add-project", project="/")).wait_response()
    assert reply.ephemeral and "role" in reply.content
    assert await member.autocomplete(bot_rig.channel, "resume", "session", "") == []
    assert bot_rig.twin.threads(bot_rig.channel) == []


async def test_commands_in_unmapped_channels_get_no_answer(bot_rig: BotRig) -> None:
    elsewhere = bot_rig.guild.add_text_channel("someone-elses")
    owner = bot_rig.users.owner
    pending = [
        await owner.slash(elsewhere, "session", prompt="hi"),
        await owner.slash(elsewhere, "abort"),
        await owner.slash(elsewhere, "remove-project"),
    ]
    # An autocomplete too (Actor.autocomplete would wait for the answer; dispatch it as it does).
    world = bot_rig.twin.world
    command = find_command(world, bot_rig.guild, "resume")
    data = build_invocation(world, bot_rig.guild, elsewhere, command, [], {"session": "x"}, focused="session")
    pending.append(
        dispatch(world, Interaction(world, AUTOCOMPLETE, bot_rig.guild, elsewhere, owner.user, data))
    )
    await asyncio.sleep(1.0)
    assert all(inter.callback_type is None for inter in pending)
    assert bot_rig.twin.threads(elsewhere) == [] and not bot_rig.twin.messages(elsewhere)
