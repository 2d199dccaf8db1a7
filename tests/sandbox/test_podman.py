"""The podman backend with real containers, where podman runs and the image is built.

Skipped elsewhere, saying why; test_commands.py checks the command line it builds everywhere.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.sandbox.api import SandboxSpec, SandboxState
from kimaki_tui.sandbox.podman import CONTAINERFILE, DEFAULT_IMAGE, PodmanBackend
from kimaki_tui.settings import SandboxSettings
from tests.bot.rig import bot_rig_context, is_footer
from tests.harness import git_init
from tests.sandbox.conftest import git

pytestmark = pytest.mark.opencode


@pytest.fixture(scope="module")
def podman() -> str:
    found = shutil.which("podman")
    if found is None:
        pytest.skip("podman is not installed here; test_commands.py checks the podman command line")
    image = subprocess.run([found, "image", "exists", DEFAULT_IMAGE], capture_output=True)
    if image.returncode != 0:
        pytest.skip(
            f"the image {DEFAULT_IMAGE} is not built: podman build -t {DEFAULT_IMAGE} -f {CONTAINERFILE} ."
        )
    return found


async def test_a_container_answers_and_pauses(
    podman: str, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    repo = git_init(tmp_path / "repo")
    worktree = tmp_path / "wt-a"
    git(repo, "worktree", "add", "-q", "-b", "a", str(worktree))
    backend = PodmanBackend(
        podman=podman, env=sandbox_env, home_template=Path(sandbox_env["HOME"]), health_timeout=120
    )
    try:
        handle = await backend.create(SandboxSpec("a", worktree, tmp_path / "data-a"))
        server = await backend.start(handle)
        session = await server.client.create_session(worktree)
        answer = await server.client.prompt(
            session.id, worktree, [{"type": "text", "text": "REPLY: from a container"}], timeout=90
        )
        assert [p.text for p in answer.text_parts()] == ["from a container"]
        await backend.stop(handle)
        assert await backend.status(handle) == SandboxState.PAUSED
        resumed = await backend.start(handle)
        assert any(m.info.is_assistant for m in await resumed.client.messages(session.id, worktree))
    finally:
        await backend.aclose()


async def test_a_discord_thread_runs_in_a_podman_container(
    podman: str, opencode_client: OpenCodeClient, sandbox_env: dict[str, str], tmp_path: Path
) -> None:
    """`--sandbox podman` through the bot: the thread's session lives in its container's server."""
    backend = PodmanBackend(
        podman=podman, env=sandbox_env, home_template=Path(sandbox_env["HOME"]), health_timeout=120
    )
    project = git_init(tmp_path / "repo")
    settings = SandboxSettings(mode="podman")
    async with bot_rig_context(opencode_client, project, tmp_path, sandbox=(settings, backend)) as rig:
        sandboxes = rig.core_rig.sandboxes
        assert sandboxes is not None and sandboxes.backend == "podman"
        await rig.user_says("owner", "REPLY: hello from a container")
        thread = await rig.wait_thread()
        await rig.wait_bot_message(thread, is_footer)
        await rig.wait_idle(thread)
        assert "hello from a container" in rig.transcript(thread)
        runtime = rig.core.conversations.runtime(str(thread.id))
        assert Path(runtime.directory).name == f"sandbox-{thread.id}"
        assert runtime.session_id not in {s.id for s in await opencode_client.list_sessions(project)}
        assert [row.state for row in await sandboxes.rows()] == [SandboxState.RUNNING]
