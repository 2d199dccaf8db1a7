"""`kimaki send` end to end: the CLI (only a bot token, REST) → the Discord twin → the running bot →
real OpenCode with the scripted model; `--wait` reads the answer through the control API.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kimaki_tui.bot.cli_marker import PROMPT_FILE, marker_from_embeds
from kimaki_tui.testing.discord_twin import Channel
from tests.automation.rig import AutomationRig
from tests.bot.rig import is_footer
from tests.harness import texts

pytestmark = pytest.mark.opencode


async def thread_of(rig: AutomationRig, out: str) -> Channel:
    """The thread named in the CLI's output, once the bot has started it."""
    match = re.search(r"^Thread (\d+)", out, re.MULTILINE)
    assert match, out
    return await rig.bot.wait_thread(predicate=lambda t: t.id == int(match[1]))


async def user_texts_in_session(rig: AutomationRig, thread: Channel) -> list[str]:
    runtime = rig.bot.core.conversations.runtime(str(thread.id))
    assert runtime.session_id is not None
    messages = await rig.server.client.messages(runtime.session_id, runtime.directory)
    return [" ".join(texts(m)) for m in messages if m.info.is_user]


async def test_send_to_a_channel_starts_a_thread_and_a_session(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    result = await rig.cli(
        "send", "--channel", str(rig.bot.channel.id), "--prompt", "REPLY: hello from the cli"
    )
    assert result.code == 0, result.err
    thread = await thread_of(rig, result.out)
    starter = rig.twin.world.messages[thread.id]
    assert starter.channel_id == rig.bot.channel.id and starter.author.id == rig.twin.bot_user.id
    assert starter.content == "REPLY: hello from the cli"
    marker = marker_from_embeds(starter.embeds)
    assert marker is not None and marker.start
    assert thread.name == "REPLY: hello from the cli"
    session = rig.bot.core.conversations.runtime(str(thread.id)).session_id
    assert session is not None and f"Session: {session}" in result.out
    await rig.bot.wait_bot_message(thread, lambda m: m.content == "⬥ hello from the cli")
    await rig.bot.wait_bot_message(thread, is_footer)
    # The starter is not echoed as a "» user:" line, and no second thread was made.
    assert not [m for m in rig.bot.bot_messages(thread) if m.content.startswith("»")]
    assert len(rig.twin.threads(rig.bot.channel)) == 1


async def test_send_wait_prints_the_answer_and_project_finds_the_channel(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    subdir = rig.bot.project_dir / "src"
    subdir.mkdir()
    result = await rig.cli("send", "--project", str(subdir), "--prompt", "REPLY: waited for you", "--wait")
    assert result.code == 0, result.err
    assert result.out.rstrip().endswith("waited for you")
    assert "Session: ses_" in result.out


async def test_send_to_a_thread_and_to_a_session(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    await rig.bot.user_says("owner", "REPLY: first answer")
    thread = await rig.bot.wait_thread()
    first = await rig.bot.wait_bot_message(thread, is_footer)
    runtime = rig.bot.core.conversations.runtime(str(thread.id))
    session = runtime.session_id
    assert session is not None

    by_thread = await rig.cli("send", "--thread", str(thread.id), "--prompt", "REPLY: second answer")
    assert by_thread.code == 0, by_thread.err
    assert by_thread.out.startswith(f"Sent to thread {thread.id}")
    second = await rig.bot.wait_bot_message(thread, lambda m: m.content == "⬥ second answer", after=first)
    await rig.bot.wait_bot_message(thread, is_footer, after=second)

    by_session = await rig.cli("send", "--session", session, "--prompt", "REPLY: third answer", "--wait")
    assert by_session.code == 0, by_session.err
    assert by_session.out.rstrip().endswith("third answer")
    assert "second answer" not in by_session.out  # only this prompt's answer
    assert runtime.session_id == session
    assert await user_texts_in_session(rig, thread) == [
        "REPLY: first answer",
        "REPLY: second answer",
        "REPLY: third answer",
    ]
    cli_lines = [m for m in rig.twin.messages(thread) if m.content.startswith("» **kimaki-cli:**")]
    assert len(cli_lines) == 2


async def test_notify_only_starts_nothing_until_someone_replies(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    owner = rig.bot.users.owner
    result = await rig.cli(
        "send",
        "--channel",
        str(rig.bot.channel.id),
        "--prompt",
        "Please review the release notes",
        "--notify-only",
        "--name",
        "release review",
        "--user",
        f"<@{owner.id}>",
    )
    assert result.code == 0, result.err
    assert "notify only" in result.out
    thread = await thread_of(rig, result.out)
    assert thread.name == "release review"
    await rig.twin.wait_until(lambda: owner.id in thread.thread_members, 10, "the user to join the thread")
    runtime = rig.bot.core.conversations.runtime(str(thread.id))
    await rig.bot.settle()
    assert runtime.session_id is None and not runtime.busy
    assert rig.bot.bot_messages(thread) == []

    await rig.bot.user_says(owner, "REPLY: reviewed, ship it", thread)
    await rig.bot.wait_bot_message(thread, lambda m: m.content == "⬥ reviewed, ship it")
    assert runtime.session_id is not None


async def test_a_long_prompt_travels_as_prompt_md(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    prompt = "\n".join(f"line {i}: {'x' * 60}" for i in range(60)) + "\nREPLY: long one"
    assert len(prompt) > 2000
    result = await rig.cli("send", "--channel", str(rig.bot.channel.id), "--prompt", "-", stdin=prompt)
    assert result.code == 0, result.err
    thread = await thread_of(rig, result.out)
    starter = rig.twin.world.messages[thread.id]
    assert len(starter.content) <= 2000 and PROMPT_FILE in starter.content
    assert [a.filename for a in starter.attachments] == [PROMPT_FILE]
    await rig.bot.wait_bot_message(thread, lambda m: m.content == "⬥ long one")
    assert await user_texts_in_session(rig, thread) == [prompt]


async def test_agent_and_model_are_used_and_kept_for_the_session(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    result = await rig.cli(
        "send",
        "--channel",
        str(rig.bot.channel.id),
        "--prompt",
        "REPLY: planned",
        "--agent",
        "plan",
        "--model",
        "fake/fake-model",
        "--wait",
    )
    assert result.code == 0, result.err
    thread = await thread_of(rig, result.out)
    runtime = rig.bot.core.conversations.runtime(str(thread.id))
    assert runtime.session_id is not None
    prefs = rig.bot.core.store.get_session_pref(runtime.session_id)
    assert (prefs.agent, prefs.model) == ("plan", "fake/fake-model")
    messages = await rig.server.client.messages(runtime.session_id, runtime.directory)
    assert [m.info.agent for m in messages if m.info.is_user] == ["plan"]


async def test_worktree_runs_the_session_in_a_new_branch(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    result = await rig.cli(
        "send",
        "--channel",
        str(rig.bot.channel.id),
        "--prompt",
        "REPLY: in the tree",
        "--worktree",
        "cli-feature",
    )
    assert result.code == 0, result.err
    thread = await thread_of(rig, result.out)
    assert thread.name == "⬦ REPLY: in the tree"
    runtime = rig.bot.core.conversations.runtime(str(thread.id))
    worktree = Path(runtime.directory)
    assert worktree.name == "cli-feature" and worktree.parent.parent == rig.data_dir / "worktrees"
    await rig.bot.wait_bot_message(thread, lambda m: m.content == "⬥ in the tree")


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--channel", "1", "--thread", "2"], "--channel and --thread cannot be combined"),
        (["--thread", "2", "--session", "ses_x"], "--thread and --session cannot be combined"),
        (["--thread", "2", "--name", "x"], "--name only applies when starting a new thread"),
        (["--session", "ses_x", "--notify-only"], "--notify-only only applies when starting a new thread"),
        (
            ["--channel", "1", "--wait", "--send-at", "2099-01-01T00:00:00Z"],
            "--wait cannot be combined with --send-at",
        ),
        (["--channel", "1", "--wait", "--notify-only"], "--wait cannot be combined with --notify-only"),
        (
            ["--channel", "1", "--worktree", "w", "--notify-only"],
            "--worktree cannot be combined with --notify-only",
        ),
        (["--channel", "1", "--model", "no-slash"], "--model must look like provider/model"),
        (["--channel", "1", "--user", "bob"], "--user must be a Discord user id"),
        (["--channel", "1", "--send-at", "2001-01-01T00:00:00Z"], "is in the past"),
        (["--channel", "1", "--send-at", "2099-01-01 09:00"], "dates must be UTC and end with Z"),
        (["--channel", "1", "--send-at", "0 9 * * 8"], "day-of-week"),
    ],
)
async def test_conflicting_or_bad_flags_are_refused(
    auto_rig: AutomationRig, flags: list[str], says: str
) -> None:
    before = len(auto_rig.twin.requests)
    result = await auto_rig.cli("send", "--prompt", "hi", *flags)
    assert result.code == 2
    assert says in result.err and result.err.startswith("kimaki: ")
    assert result.out == ""
    # Nothing posted (the bot's catch-up may read the channel meanwhile).
    assert not [r for r in auto_rig.twin.requests[before:] if r.method == "POST" and "/messages" in r.path]


async def test_send_refuses_unknown_places(auto_rig: AutomationRig, tmp_path: Path) -> None:
    rig = auto_rig
    thread_as_channel = await rig.cli("send", "--thread", str(rig.bot.channel.id), "--prompt", "hi")
    assert thread_as_channel.code == 2 and "is not a thread" in thread_as_channel.err
    unknown_session = await rig.cli("send", "--session", "ses_nothing", "--prompt", "hi")
    assert unknown_session.code == 1 and "no thread shows session ses_nothing" in unknown_session.err
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    unlinked = await rig.cli("send", "--project", str(elsewhere), "--prompt", "hi")
    assert unlinked.code == 1 and "kimaki project add" in unlinked.err
