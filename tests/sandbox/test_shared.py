"""`--sandbox none` behind the same interface: every thread on the shared server."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.sandbox.api import SandboxError, SandboxSpec, SandboxState
from kimaki_tui.sandbox.registry import ServerRegistry
from kimaki_tui.sandbox.shared import SharedBackend
from tests.sandbox.conftest import git

pytestmark = pytest.mark.opencode


async def test_threads_share_the_server_and_keep_the_checkout(
    opencode_server: OpenCodeSupervisor, project_dir: Path, tmp_path: Path
) -> None:
    registry = ServerRegistry(SharedBackend(opencode_server))
    worktree = tmp_path / "wt-t2"
    git(project_dir, "worktree", "add", "-q", "-b", "t2", str(worktree))
    await registry.open(SandboxSpec("t1", project_dir, tmp_path / "unused-1"))
    await registry.open(SandboxSpec("t2", worktree, tmp_path / "unused-2"))

    assert await registry.server("t1") is opencode_server
    assert await registry.server("t2") is opencode_server
    session = await opencode_server.client.create_session(project_dir)
    await registry.pause("t1")  # only the thread is marked: the server keeps serving
    assert await registry.states() == {"t1": SandboxState.PAUSED, "t2": SandboxState.RUNNING}
    assert (await opencode_server.client.get_session(session.id)).id == session.id

    kept = await registry.destroy("t1")
    assert not kept.worktree_removed and "never removed" in kept.kept_reason
    assert (project_dir / "README.md").exists()  # the project checkout stays
    removed = await registry.destroy("t2")
    assert removed.worktree_removed and not worktree.exists()
    assert await registry.state("t2") == SandboxState.DESTROYED
    with pytest.raises(SandboxError, match="no sandbox is open for t2"):
        await registry.server("t2")


async def test_a_sandbox_someone_is_writing_in_is_not_idle(
    opencode_server: OpenCodeSupervisor, project_dir: Path, tmp_path: Path
) -> None:
    registry = ServerRegistry(SharedBackend(opencode_server))
    await registry.open(SandboxSpec("t1", project_dir, tmp_path / "unused"))
    await registry.server("t1")
    registry.last_used["t1"] -= 60  # its last call was a minute ago
    registry.touch("t1")  # someone is typing in its thread now
    assert not await registry.pause_if_idle("t1", 30)
    registry.last_used["t1"] -= 60
    assert await registry.pause_if_idle("t1", 30)
