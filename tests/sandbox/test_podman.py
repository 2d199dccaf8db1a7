"""The podman backend with real containers, where podman runs and the image is built.

Skipped elsewhere, saying why; test_commands.py checks the command line it builds everywhere.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kimaki_tui.sandbox.api import SandboxSpec, SandboxState
from kimaki_tui.sandbox.podman import CONTAINERFILE, DEFAULT_IMAGE, PodmanBackend
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
