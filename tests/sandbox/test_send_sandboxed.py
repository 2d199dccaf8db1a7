"""`kimaki send` into a channel whose threads run in sandboxes: the new thread gets its sandbox like
one started by a message; --worktree and --cwd, which would run it outside, are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.sandbox.api import SandboxState
from kimaki_tui.sandbox.bwrap import BwrapBackend
from kimaki_tui.settings import SandboxSettings
from tests.automation.rig import automation_rig
from tests.automation.test_send import thread_of
from tests.bot.rig import is_footer
from tests.harness import git_init

pytestmark = pytest.mark.opencode


async def test_a_send_to_a_sandboxed_channel_runs_in_a_sandbox(
    opencode_server: OpenCodeSupervisor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    bwrap_binary: str,
    opencode_binary: str,
    sandbox_env: dict[str, str],
) -> None:
    project = git_init(tmp_path / "repo")
    backend = BwrapBackend(
        bwrap=bwrap_binary, binary=opencode_binary, env=sandbox_env, home_template=Path(sandbox_env["HOME"])
    )
    sandbox = (SandboxSettings(mode="bwrap"), backend)
    async with automation_rig(opencode_server, project, tmp_path, monkeypatch, sandbox=sandbox) as rig:
        channel = str(rig.bot.channel.id)
        result = await rig.cli("send", "--channel", channel, "--prompt", "REPLY: sent into a sandbox")
        assert result.code == 0, result.err
        thread = await thread_of(rig, result.out)
        await rig.bot.wait_bot_message(thread, is_footer)
        runtime = rig.bot.core.conversations.runtime(str(thread.id))
        assert Path(runtime.directory).name == f"sandbox-{thread.id}"
        sandboxes = rig.bot.core_rig.sandboxes
        assert sandboxes is not None
        assert [row.state for row in await sandboxes.rows()] == [SandboxState.RUNNING]

        # The running bot refuses --worktree/--cwd in a channel sandboxed by its --sandbox flag.
        before = len(rig.twin.threads(rig.bot.channel))
        posted = await rig.cli(
            "send", "--channel", channel, "--prompt", "REPLY: elsewhere", "--worktree", "wt"
        )
        assert posted.code == 0, posted
        refusal = await rig.bot.wait_bot_message(
            rig.bot.channel, lambda m: "cannot be used there" in m.content
        )
        assert "own sandbox over its own worktree" in refusal.content
        assert len(rig.twin.threads(rig.bot.channel)) == before

        # A channel's own /sandbox choice is known to the CLI, which refuses before posting.
        sandboxes.set_mode(channel, "bwrap")
        for flags in (["--worktree", "wt"], ["--cwd", str(project)]):
            refused = await rig.cli("send", "--channel", channel, "--prompt", "REPLY: elsewhere", *flags)
            assert refused.code == 2, refused
            assert f"{flags[0]} cannot be used in channel {channel}" in refused.err
            assert "own bwrap sandbox over its own worktree" in refused.err
        assert len(rig.twin.threads(rig.bot.channel)) == before
