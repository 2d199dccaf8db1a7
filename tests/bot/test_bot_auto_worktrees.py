"""--use-worktrees and /auto-worktrees: a channel's new threads each work in their own git worktree
(thread marked ⬦), or in the project folder once the channel turns it off."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from tests.bot.rig import BotRig, is_footer

pytestmark = pytest.mark.opencode

MakeRig = Callable[..., AbstractAsyncContextManager[BotRig]]


def git_commit_all(cwd: Path) -> None:
    for args in (["add", "-A"], ["commit", "-q", "--allow-empty", "-m", "start"]):
        subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def current_branch(cwd: Path) -> str:
    done = subprocess.run(
        ["git", "branch", "--show-current"], cwd=cwd, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


async def test_new_threads_get_a_worktree_until_the_channel_turns_it_off(
    make_bot_rig: MakeRig, project_dir: Path
) -> None:
    git_commit_all(project_dir)
    async with make_bot_rig(use_worktrees=True) as rig:
        await rig.user_says("owner", "WRITE_FILE: auto.txt apart")
        thread = await rig.wait_thread()
        await rig.wait_bot_message(thread, is_footer, timeout=60)
        assert thread.name.startswith("⬦ ")
        worktree = Path(rig.core.conversations.runtime(str(thread.id)).directory)
        assert worktree.parent.parent == rig.settings.data_dir / "worktrees"
        assert (worktree / "auto.txt").read_text() == "apart" and not (project_dir / "auto.txt").exists()
        branch = current_branch(worktree)
        assert branch == f"kimaki/write-file-auto-txt-apart-{str(thread.id)[-6:]}"

        reply = await (await rig.users.owner.slash(rig.channel, "auto-worktrees", mode="off")).wait_response(
            20
        )
        assert reply.content.startswith("Automatic worktrees are **off** here: new threads work in")
        await rig.user_says("owner", "WRITE_FILE: plain.txt here")
        plain = await rig.wait_thread(predicate=lambda t: t.id != thread.id)
        await rig.wait_bot_message(plain, is_footer, timeout=60)
        assert not plain.name.startswith("⬦")
        assert rig.core.conversations.runtime(str(plain.id)).directory == str(project_dir)
        assert (project_dir / "plain.txt").read_text() == "here"

        back = await (
            await rig.users.owner.slash(rig.channel, "auto-worktrees", mode="default")
        ).wait_response(20)
        assert back.content.startswith("Automatic worktrees are **on** here (the global default)")
