"""Per-channel settings through the real bot and OpenCode.

Mention mode: in a channel in mention mode only messages that mention the bot or start with `!`
start a thread; the bot's threads answer every message, except one addressed to someone else,
which reaches the session as context; `/mention-mode` sets a channel's own mode (kept in the
store); a mention in a channel not linked says how to link it.
Verbosity: `/verbosity` changes a channel's tool lines at once, in Discord and in the control
center's session view. Titles: threads are renamed to the session's title within Discord's rename
limit (newest title wins), keeping the worktree mark."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import discord
import pytest

from kimaki_tui.bot.ingress import NOT_LINKED_TEXT
from kimaki_tui.core.renames import RenameBudget
from kimaki_tui.screens.app import KimakiApp
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.settings import SessionSettings
from kimaki_tui.testing.discord_twin.renames import RenameLimit
from kimaki_tui.testing.scripted_model import ScriptedModel, latest_user_text
from tests.bot.rig import BotRig, is_footer
from tests.harness import texts, wait_until
from tests.screens.conftest import SIZE, until

pytestmark = pytest.mark.opencode
MakeRig = Callable[..., AbstractAsyncContextManager[BotRig]]


def control_center(rig: BotRig) -> KimakiApp:
    return KimakiApp(ControlCenterModel(core=rig.core, settings=rig.settings))


async def test_mention_mode_starts_threads_only_for_mentions_and_bang(
    make_bot_rig: MakeRig, scripted_model: ScriptedModel
) -> None:
    async with make_bot_rig(mention_mode=True) as rig:
        ignored = await rig.user_says("owner", "REPLY: not for the bot")
        bang = await rig.user_says("owner", "!REPLY: bang")
        mention = await rig.user_says("owner", f"<@{rig.twin.bot_user.id}> REPLY: mentioned")
        bang_thread = await rig.wait_thread(predicate=lambda t: t.id == bang.id)
        thread = await rig.wait_thread(predicate=lambda t: t.id == mention.id)
        first = await rig.wait_bot_message(thread, is_footer)
        await rig.wait_bot_message(bang_thread, is_footer)
        assert {t.id for t in rig.twin.threads(rig.channel)} == {bang.id, mention.id}
        assert ignored.id not in {t.id for t in rig.twin.threads(rig.channel)}

        # In the bot's thread no mention is needed; a message to someone else is context only.
        await rig.user_says("owner", f"<@{rig.users.member.id}> have a look at this", thread)

        async def noted() -> bool:
            said = [t for m in await rig.core.history.messages(str(thread.id)) for t in texts(m)]
            return any("have a look at this" in t for t in said)

        await wait_until(noted, 30, message="the side remark in the session as context")
        asked_before = len(scripted_model.requests)
        await rig.user_says("owner", "REPLY: follow-up", thread)
        await rig.wait_bot_message(thread, is_footer, after=first)
        turns = [b for b in scripted_model.requests[asked_before:] if b.get("tools")]
        assert [latest_user_text(b["messages"]) for b in turns] == ["REPLY: follow-up"]
        answers = [m.content for m in rig.bot_messages(thread) if m.content.startswith("⬥")]
        assert answers == ["⬥ mentioned", "⬥ follow-up"]


async def test_mention_mode_command_sets_the_channel_and_persists(bot_rig: BotRig) -> None:
    owner, channel = bot_rig.users.owner, bot_rig.channel
    on = await (await owner.slash(channel, "mention-mode", mode="on")).wait_response(15)
    assert "Mention mode is **on** here:" in on.content
    assert bot_rig.core.preferences.mention_mode(str(channel.id), default=False)
    await bot_rig.restart_bot()  # the choice is the store's, not the process's

    ignored = await bot_rig.user_says("owner", "REPLY: quiet please")
    mention = await bot_rig.user_says("owner", f"<@{bot_rig.twin.bot_user.id}> REPLY: now")
    thread = await bot_rig.wait_thread(predicate=lambda t: t.id == mention.id)
    await bot_rig.wait_bot_message(thread, is_footer)
    assert ignored.id not in {t.id for t in bot_rig.twin.threads(channel)}

    default = await (await owner.slash(channel, "mention-mode", mode="default")).wait_response(15)
    assert "Mention mode is **off** here (the global default)" in default.content
    assert bot_rig.core.preferences.mention_mode(str(channel.id), default=True)  # unset: the default
    plain = await bot_rig.user_says("owner", "REPLY: anything goes")
    started = await bot_rig.wait_thread(predicate=lambda t: t.id == plain.id)
    await bot_rig.wait_bot_message(started, is_footer)


async def test_a_mention_in_an_unlinked_channel_says_how_to_link_it(make_bot_rig: MakeRig) -> None:
    async with make_bot_rig(start=False) as rig:
        lounge = rig.guild.add_text_channel("lounge", category=rig.category)
        await rig.start_bot()
        mention = await rig.user_says("owner", f"<@{rig.twin.bot_user.id}> hello?", lounge)
        reply = await rig.wait_bot_message(lounge, lambda m: m.content == NOT_LINKED_TEXT, timeout=15)
        assert reply.reference is not None and reply.reference["message_id"] == str(mention.id)
        assert rig.twin.threads(lounge) == []


async def test_verbosity_per_channel_applies_to_a_running_session_at_once(bot_rig: BotRig) -> None:
    (bot_rig.project_dir / "notes.md").write_text("hello\n")
    owner, channel = bot_rig.users.owner, bot_rig.channel
    read = 'CALL_TOOL: read {"filePath": "notes.md"}'
    loud = await (await owner.slash(channel, "verbosity", level="tools_and_text")).wait_response(15)
    assert "Verbosity here is **tools_and_text**" in loud.content
    await bot_rig.user_says("owner", read)
    thread = await bot_rig.wait_thread()
    first = await bot_rig.wait_bot_message(thread, is_footer)
    assert any(m.content.startswith("┣ read") for m in bot_rig.bot_messages(thread))

    # Set from inside the thread: it is the channel's setting, and this session follows it now.
    quiet = await (await owner.slash(thread, "verbosity", level="text_only")).wait_response(15)
    assert "Verbosity here is **text_only**" in quiet.content
    assert bot_rig.core.preferences.verbosity(str(channel.id), default="tools_and_text") == "text_only"
    await bot_rig.user_says("owner", read, thread)
    await bot_rig.wait_bot_message(thread, is_footer, after=first)
    await bot_rig.wait_idle(thread)
    later = [m.content for m in bot_rig.bot_messages(thread) if m.id > first.id]
    assert not any(text.startswith("┣") for text in later)
    assert any(text.startswith("⬥ Tool said:") for text in later)


async def test_the_control_center_session_view_follows_the_channel_verbosity(bot_rig: BotRig) -> None:
    (bot_rig.project_dir / "notes.md").write_text("hello\n")
    preferences, channel_id = bot_rig.core.preferences, str(bot_rig.channel.id)
    preferences.set_verbosity(channel_id, "tools_and_text")
    app = control_center(bot_rig)
    async with app.run_test(size=SIZE) as pilot:
        await bot_rig.user_says("owner", 'CALL_TOOL: read {"filePath": "notes.md"}')
        thread = await bot_rig.wait_thread()
        await bot_rig.wait_idle(thread)
        await app.open_session(str(thread.id))

        def shown(kind: str) -> int:
            return len(app.screen.query(f".entry.-{kind}"))

        await until(pilot, lambda: shown("tool") == 1 and shown("text") == 1, "the read line and the answer")
        preferences.set_verbosity(channel_id, "text_only")
        await bot_rig.user_says("owner", "REPLY: quiet now", thread)
        await bot_rig.wait_idle(thread)
        await until(pilot, lambda: shown("tool") == 0 and shown("text") == 2, "the answers only")


def renames(rig: BotRig, thread_id: int) -> int:
    path = f"/api/v10/channels/{thread_id}"
    requests = rig.twin.world.requests
    return sum(1 for r in requests if r.method == "PATCH" and r.path == path and r.status == 200)


async def test_threads_take_the_session_title_within_the_rename_limit(bot_rig: BotRig) -> None:
    message = "REPLY: fix the login bug on the settings page please"
    await bot_rig.user_says("owner", message)
    thread = await bot_rig.wait_thread()
    assert thread.name == message
    await bot_rig.twin.wait_until(lambda: thread.name == "REPLY: fix the login bug", 30, "the title")
    assert bot_rig.bot is not None and bot_rig.bot.output is not None
    titles = bot_rig.bot.output.titles
    # A short window on both sides, so the coalesced title lands during the test.
    titles.budget = RenameBudget(window=2.0)
    bot_rig.twin.world.thread_renames = RenameLimit(window=2.0)
    thread_id = str(thread.id)
    titles.changed(thread_id, "second title")
    await bot_rig.twin.wait_until(lambda: thread.name == "second title", 10, "the second title")
    titles.changed(thread_id, "third title")  # over the budget: waits …
    titles.changed(thread_id, "fourth title")  # … and is replaced by the newest
    assert titles.pending == {thread_id: "fourth title"}
    await bot_rig.twin.wait_until(lambda: thread.name == "fourth title", 10, "the newest title")
    assert renames(bot_rig, thread.id) == 3  # the session title, second, fourth: "third" never went out
    assert bot_rig.twin.world.violations == []


async def test_a_worktree_thread_keeps_its_mark_when_titled(bot_rig: BotRig) -> None:
    await bot_rig.user_says("owner", "REPLY: marked")
    thread = await bot_rig.wait_thread()
    await bot_rig.wait_bot_message(thread, is_footer)  # the turn ran before the name changes
    assert bot_rig.bot is not None and bot_rig.bot.output is not None
    bot_thread = bot_rig.bot.get_channel(thread.id)
    assert isinstance(bot_thread, discord.Thread)
    await bot_thread.edit(name="⬦ REPLY: marked")  # as /new-worktree names its threads
    await bot_rig.twin.wait_until(lambda: thread.name == "⬦ REPLY: marked", 10, "the mark")
    bot_rig.bot.output.titles.changed(str(thread.id), "worktree work")
    await bot_rig.twin.wait_until(lambda: thread.name == "⬦ worktree work", 10, "the titled, marked name")


async def test_a_queue_suffix_waits_instead_of_interrupting(make_bot_rig: MakeRig) -> None:
    async with make_bot_rig(sessions=SessionSettings(interrupt_delay=0.3)) as rig:
        # Long enough that the message surely arrives while it runs (else it is simply sent).
        await rig.user_says("owner", "SLOW:5 warm up")
        thread = await rig.wait_thread()
        runtime = rig.core.conversations.runtime(str(thread.id))
        await rig.twin.wait_until(lambda: runtime.busy, 10, "the first turn to run")
        await rig.user_says("owner", "REPLY: then this. queue", thread)
        notice = await rig.wait_bot_message(thread, lambda m: m.content.startswith("⏳ Queued"))
        second = await rig.wait_bot_message(thread, lambda m: m.content == "⬥ then this", after=notice)
        await rig.wait_bot_message(thread, is_footer, after=second)
        # The first turn was not interrupted: it ended with its own footer before the queued one ran.
        assert sum(is_footer(m) for m in rig.bot_messages(thread)) == 2


async def test_editing_or_deleting_a_queued_message_changes_the_queue(make_bot_rig: MakeRig) -> None:
    async with make_bot_rig(sessions=SessionSettings(busy_policy="queue")) as rig:
        owner = rig.users.owner
        await rig.user_says("owner", "SLOW:5 warm up")
        thread = await rig.wait_thread()
        runtime = rig.core.conversations.runtime(str(thread.id))
        await rig.twin.wait_until(lambda: runtime.busy, 10, "the first turn to run")
        first = await rig.user_says("owner", "REPLY: old text", thread)
        second = await rig.user_says("owner", "REPLY: gone", thread)
        await rig.twin.wait_until(lambda: len(runtime.queue()) == 2, 10, "both messages queued")
        first_notice = await rig.wait_bot_message(thread, lambda m: m.content.startswith("⏳ Queued —"))
        second_notice = await rig.wait_bot_message(thread, lambda m: m.content.startswith("⏳ Queued at"))
        posted = len(rig.bot_messages(thread))
        shown = rig.twin.world.messages
        # Each message's own "Queued" notice is edited in place; no new message is posted.
        await owner.edit(first, "REPLY: new text")
        await rig.twin.wait_until(
            lambda: shown[first_notice.id].content.startswith("✏️ Queued, edited"), 10, "the edited notice"
        )
        await owner.delete(second)
        await rig.twin.wait_until(
            lambda: shown[second_notice.id].content.startswith("🗑️ The queued message was deleted"),
            10,
            "the deleted notice",
        )
        assert len(rig.bot_messages(thread)) == posted
        answer = await rig.wait_bot_message(thread, lambda m: m.content == "⬥ new text", timeout=40)
        await rig.wait_bot_message(thread, is_footer, after=answer)
        await rig.wait_idle(thread)
        answers = [m.content for m in rig.bot_messages(thread) if m.content.startswith("⬥")]
        assert "⬥ old text" not in answers and "⬥ gone" not in answers
        assert runtime.session_id is not None
        received = await rig.core.client.messages(runtime.session_id, runtime.directory)
        prompts = [" ".join(texts(m)) for m in received if m.role == "user"]
        assert prompts[1:] == ["REPLY: new text"]  # after the warm-up: the edited text only

        # An edit of a message already sent changes nothing (it is only logged).
        await owner.edit(first, "REPLY: too late")
        await rig.user_says("owner", "REPLY: last", thread)
        last = await rig.wait_bot_message(thread, lambda m: m.content == "⬥ last", after=answer)
        await rig.wait_bot_message(thread, is_footer, after=last)
        assert "⬥ too late" not in [m.content for m in rig.bot_messages(thread)]


async def test_an_edit_after_a_bot_restart_still_changes_the_queue(make_bot_rig: MakeRig) -> None:
    # The bot keeps no message cache, so the edit of a message it saw before a restart (or never
    # had cached) is read from the raw event like any other.
    async with make_bot_rig(sessions=SessionSettings(busy_policy="queue")) as rig:
        await rig.user_says("owner", "SLOW:8 warm up")
        thread = await rig.wait_thread()
        runtime = rig.core.conversations.runtime(str(thread.id))
        await rig.twin.wait_until(lambda: runtime.busy, 10, "the first turn to run")
        queued = await rig.user_says("owner", "REPLY: old text", thread)
        notice = await rig.wait_bot_message(thread, lambda m: m.content.startswith("⏳ Queued"))
        await rig.restart_bot()
        assert rig.bot is not None and rig.bot._connection._messages is None  # no cache to lean on
        await rig.users.owner.edit(queued, "REPLY: new text")
        shown = rig.twin.world.messages
        await rig.twin.wait_until(
            lambda: shown[notice.id].content.startswith("✏️ Queued, edited"), 10, "the edited notice"
        )
        answer = await rig.wait_bot_message(thread, lambda m: m.content == "⬥ new text", timeout=40)
        await rig.wait_bot_message(thread, is_footer, after=answer)
        assert runtime.session_id is not None
        received = await rig.core.client.messages(runtime.session_id, runtime.directory)
        assert [" ".join(texts(m)) for m in received if m.role == "user"][1:] == ["REPLY: new text"]
