"""The `!` shortcut with the real bot, real OpenCode and the Discord twin: `!command` in a session
thread runs in the project through OpenCode's shell route, and the output is posted fenced with
its exit code; people without access run nothing."""

from __future__ import annotations

import pytest

from kimaki_tui.testing.discord_twin import Channel
from tests.bot.rig import BotRig

pytestmark = pytest.mark.opencode


async def _thread(rig: BotRig) -> Channel:
    await rig.user_says("owner", "REPLY: ready")
    thread = await rig.wait_thread()
    await rig.wait_bot_message(thread, lambda m: m.content == "⬥ ready")
    await rig.wait_idle(thread)
    return thread


async def test_bang_ls_posts_the_listing_and_the_exit_code(bot_rig: BotRig) -> None:
    thread = await _thread(bot_rig)
    (bot_rig.project_dir / "hello-shell.txt").write_text("hi\n")
    said = await bot_rig.user_says("owner", "!ls", thread)
    report = await bot_rig.wait_bot_message(thread, lambda m: m.content.startswith("`$ ls`"), after=said)
    assert "```\n" in report.content and "hello-shell.txt" in report.content
    assert report.content.endswith("-# ✓ exit code 0")
    await bot_rig.wait_idle(thread)  # the shell run is a turn of the session too
    said = await bot_rig.user_says("owner", "!echo oops; exit 3", thread)
    failed = await bot_rig.wait_bot_message(thread, lambda m: m.content.startswith("`$ echo"), after=said)
    assert "oops" in failed.content and failed.content.endswith("-# ✗ failed (non-zero exit code)")
    assert "kimaki-" not in failed.content


async def test_long_output_keeps_its_end_and_says_it_was_cut(bot_rig: BotRig) -> None:
    thread = await _thread(bot_rig)
    said = await bot_rig.user_says("owner", "!seq 1 2000", thread)
    report = await bot_rig.wait_bot_message(thread, lambda m: m.content.startswith("`$ seq"), after=said)
    assert "\n2000\n```" in report.content and "\n1\n" not in report.content
    assert "output cut to its last" in report.content and len(report.content) <= 2000


async def test_someone_without_the_kimaki_role_runs_nothing(bot_rig: BotRig) -> None:
    thread = await _thread(bot_rig)
    marker = bot_rig.project_dir / "should-not-exist"
    said = await bot_rig.user_says("member", f"!touch {marker}", thread)
    reply = await bot_rig.wait_bot_message(thread, lambda m: "Kimaki" in m.content, after=said)
    assert not reply.content.startswith("`$")
    await bot_rig.settle()
    assert not marker.exists()
    assert not [m for m in bot_rig.bot_messages(thread) if m.content.startswith("`$")]


async def test_the_slash_command_does_the_same_and_only_in_a_session_thread(bot_rig: BotRig) -> None:
    thread = await _thread(bot_rig)
    (bot_rig.project_dir / "from-slash.txt").write_text("x")
    inter = await bot_rig.users.owner.slash(thread, "run-shell-command", command="ls")
    report = await inter.wait_response(timeout=30)
    assert report.content.startswith("`$ ls`") and "from-slash.txt" in report.content
    assert not report.ephemeral
    elsewhere = await bot_rig.users.owner.slash(bot_rig.channel, "run-shell-command", command="ls")
    outside = await elsewhere.wait_response()
    assert outside.ephemeral and "thread" in outside.content
