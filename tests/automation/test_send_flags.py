"""`kimaki send`'s session flags end to end (CLI → Discord twin → running bot → real OpenCode):
--file, --cwd, --permission, --parent-session, --worktree without a name, and their validation."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from kimaki_tui.bot.cli_marker import marker_from_embeds
from kimaki_tui.opencode.parts import FilePart, ToolPart
from tests.automation.rig import AutomationRig
from tests.automation.test_send import thread_of, user_texts_in_session
from tests.bot.rig import is_footer
from tests.harness import texts

pytestmark = pytest.mark.opencode

# A 1×1 PNG.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


async def test_files_are_posted_with_the_prompt_and_given_to_the_session(
    auto_rig: AutomationRig, tmp_path: Path
) -> None:
    rig = auto_rig
    notes = tmp_path / "notes.txt"
    notes.write_text("the secret word is pelican\n")
    pixel = tmp_path / "pixel.png"
    pixel.write_bytes(PIXEL)
    channel = str(rig.bot.channel.id)
    result = await rig.cli(
        "send", "--channel", channel, "--prompt", "REPLY: read them", "-f", str(notes), "--file", str(pixel)
    )
    assert result.code == 0, result.err
    thread = await thread_of(rig, result.out)
    starter = rig.twin.world.messages[thread.id]
    assert [a.filename for a in starter.attachments] == ["notes.txt", "pixel.png"]
    await rig.bot.wait_bot_message(thread, is_footer)
    runtime = rig.bot.core.conversations.runtime(str(thread.id))
    assert runtime.session_id is not None
    messages = await rig.server.client.messages(runtime.session_id, runtime.directory)
    first = next(m for m in messages if m.info.is_user)
    text = " ".join(p.text for p in first.text_parts())
    assert "REPLY: read them" in text and "the secret word is pelican" in text
    assert [p.filename for p in first.parts if isinstance(p, FilePart)] == ["pixel.png"]


async def test_cwd_runs_the_session_in_a_subfolder(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    sub = rig.bot.project_dir / "pkg"
    sub.mkdir()
    result = await rig.cli(
        "send", "--channel", str(rig.bot.channel.id), "--prompt", "REPLY: in pkg", "--cwd", str(sub)
    )
    assert result.code == 0, result.err
    thread = await thread_of(rig, result.out)
    marker = marker_from_embeds(rig.twin.world.messages[thread.id].embeds)
    assert marker is not None and marker.cwd == str(sub.resolve())
    await rig.bot.wait_bot_message(thread, lambda m: m.content == "⬥ in pkg")
    runtime = rig.bot.core.conversations.runtime(str(thread.id))
    assert runtime.directory == str(sub.resolve())
    assert runtime.session_id is not None
    info = await rig.server.client.get_session(runtime.session_id, runtime.directory)
    assert info.directory == str(sub.resolve())


async def test_permission_rules_apply_to_the_new_session(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    result = await rig.cli(
        "send",
        "--channel",
        str(rig.bot.channel.id),
        "--prompt",
        "RUN_BASH: echo should-not-run",
        "--permission",
        "bash:deny",
    )
    assert result.code == 0, result.err
    thread = await thread_of(rig, result.out)
    await rig.bot.wait_bot_message(thread, is_footer)
    runtime = rig.bot.core.conversations.runtime(str(thread.id))
    assert runtime.session_id is not None
    messages = await rig.server.client.messages(runtime.session_id, runtime.directory)
    # A tool denied for every pattern is not even offered to the model.
    assert not [p for m in messages for p in m.parts if isinstance(p, ToolPart) and p.tool == "bash"]
    answer = " ".join(t for m in messages if m.info.is_assistant for t in texts(m))
    assert "unavailable tool 'bash'" in answer
    assert not (rig.bot.project_dir / "should-not-run").exists()
    # No permission prompt was shown: the rule answered.
    assert not [m for m in rig.bot.bot_messages(thread) if "Permission" in m.content]


async def test_parent_session_makes_the_new_session_a_child(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    channel = str(rig.bot.channel.id)
    first = await rig.cli("send", "--channel", channel, "--prompt", "REPLY: parent", "--wait")
    assert first.code == 0, first.err
    parent = (await thread_of(rig, first.out)).id
    parent_session = rig.bot.core.conversations.runtime(str(parent)).session_id
    assert parent_session is not None
    child = await rig.cli(
        "send", "--channel", channel, "--prompt", "REPLY: child", "--parent-session", parent_session, "--wait"
    )
    assert child.code == 0, child.err
    runtime = rig.bot.core.conversations.runtime(str((await thread_of(rig, child.out)).id))
    assert runtime.session_id is not None and runtime.session_id != parent_session
    info = await rig.server.client.get_session(runtime.session_id, runtime.directory)
    assert info.parent_id == parent_session
    assert await user_texts_in_session(rig, await thread_of(rig, child.out)) == ["REPLY: child"]


async def test_worktree_without_a_name_is_named_from_the_prompt(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    result = await rig.cli(
        "send", "--channel", str(rig.bot.channel.id), "--prompt", "REPLY: tidy the docs", "--worktree"
    )
    assert result.code == 0, result.err
    thread = await thread_of(rig, result.out)
    runtime = rig.bot.core.conversations.runtime(str(thread.id))
    assert Path(runtime.directory).name == "reply-tidy-the-docs"
    await rig.bot.wait_bot_message(thread, lambda m: m.content == "⬥ tidy the docs")


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--channel", "1", "--pre-run", "true"], "--pre-run only applies to scheduled sends"),
        (["--channel", "1", "--allow-concurrency"], "--allow-concurrency only applies to scheduled sends"),
        (["--channel", "1", "--cwd", ".", "--worktree"], "--cwd cannot be combined with --worktree"),
        (["--channel", "1", "--cwd", ".", "--notify-only"], "--cwd cannot be combined with --notify-only"),
        (["--thread", "2", "--cwd", "."], "--cwd only applies when starting a new thread"),
        (["--thread", "2", "--parent-session", "ses_a"], "--parent-session only applies when starting"),
        (["--thread", "2", "--permission", "bash:deny"], "--permission only applies when starting"),
        (["--channel", "1", "--permission", "bash"], "write tool:action or tool:pattern:action"),
        (["--channel", "1", "--permission", "bash:maybe"], "must be one of allow, ask, deny"),
        (["--channel", "1", "--parent-session", "nope"], "'nope' is not an OpenCode session id"),
        (["--thread", "2", "--injection-guard", "bash:*"], "--injection-guard only applies when starting"),
        (["--channel", "1", "--injection-guard", "webfetch"], "write tool:glob"),
        (["--channel", "1", "--injection-guard", "web fetch:*"], "'web fetch' is not a tool name"),
        (
            ["--channel", "1", "--file", "x", "--send-at", "2099-01-01T00:00:00Z"],
            "--file cannot be combined with --send-at",
        ),
    ],
)
async def test_bad_session_flags_are_refused(auto_rig: AutomationRig, flags: list[str], says: str) -> None:
    before = len(auto_rig.twin.requests)
    result = await auto_rig.cli("send", "--prompt", "hi", *flags)
    assert result.code == 2, result
    assert says in result.err and result.err.startswith("kimaki: ")
    # Nothing posted (the bot's catch-up may read the channel meanwhile).
    assert not [r for r in auto_rig.twin.requests[before:] if r.method == "POST" and "/messages" in r.path]


async def test_bad_files_and_folders_are_refused(auto_rig: AutomationRig, tmp_path: Path) -> None:
    rig = auto_rig
    channel = str(rig.bot.channel.id)
    before = len(rig.twin.requests)
    missing = await rig.cli("send", "--channel", channel, "--prompt", "hi", "--file", str(tmp_path / "nope"))
    assert missing.code == 2 and "does not exist" in missing.err
    folder = await rig.cli("send", "--channel", channel, "--prompt", "hi", "--file", str(tmp_path))
    assert folder.code == 2 and "is not a regular file" in folder.err
    many = [tmp_path / f"f{i}.txt" for i in range(11)]
    for path in many:
        path.write_text("x")
    too_many = await rig.cli(
        "send", "--channel", channel, "--prompt", "hi", *[a for p in many for a in ("-f", str(p))]
    )
    assert too_many.code == 2 and "at most 10 files" in too_many.err
    outside = await rig.cli("send", "--channel", channel, "--prompt", "hi", "--cwd", str(tmp_path))
    assert outside.code == 2 and "not inside the project folder" in outside.err
    assert not [r for r in rig.twin.requests[before:] if r.method == "POST" and "/messages" in r.path]


async def test_a_scheduled_send_keeps_its_pre_run_and_concurrency(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    result = await rig.cli(
        "send",
        "--channel",
        str(rig.bot.channel.id),
        "--prompt",
        "REPLY: nightly",
        "--send-at",
        "0 3 * * *",
        "--pre-run",
        "git pull",
        "--allow-concurrency",
    )
    assert result.code == 0, result.err
    (task,) = rig.store.list_tasks()
    assert task.payload["pre_run"] == "git pull" and task.payload["allow_concurrency"] is True


async def test_files_sent_to_a_thread_reach_its_session(auto_rig: AutomationRig, tmp_path: Path) -> None:
    rig = auto_rig
    await rig.bot.user_says("owner", "REPLY: first")
    thread = await rig.bot.wait_thread()
    first = await rig.bot.wait_bot_message(thread, is_footer)
    notes = tmp_path / "todo.md"
    notes.write_text("- feed the pelican\n")
    result = await rig.cli("send", "--thread", str(thread.id), "--prompt", "REPLY: noted", "-f", str(notes))
    assert result.code == 0, result.err
    # The inlined file follows the prompt, so the scripted model's reply starts with "noted".
    second = await rig.bot.wait_bot_message(thread, lambda m: m.content.startswith("⬥ noted"), after=first)
    await rig.bot.wait_bot_message(thread, is_footer, after=second)
    texts_sent = await user_texts_in_session(rig, thread)
    assert texts_sent[0] == "REPLY: first"
    assert "REPLY: noted" in texts_sent[1] and "feed the pelican" in texts_sent[1]
