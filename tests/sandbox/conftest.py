"""Fixtures for the sandbox tests: bubblewrap, a prepared sandbox HOME, and a repository whose
worktrees the sandboxes run over.

Without bwrap these tests fail, saying how to install it (`scripts/setup.sh --dev`), unless
KIMAKI_SKIP_BWRAP=1 asks to skip them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kimaki_tui.sandbox.api import SandboxSpec
from kimaki_tui.sandbox.bwrap import BwrapBackend
from kimaki_tui.testing.scripted_model import ScriptedModel
from tests.harness import git_init, make_opencode_env

SKIP_BWRAP = "KIMAKI_SKIP_BWRAP"


@pytest.fixture(scope="session")
def bwrap_binary() -> str:
    found = shutil.which("bwrap")
    if found:
        return found
    missing = "bubblewrap (bwrap) is not installed: run scripts/setup.sh --dev"
    if os.environ.get(SKIP_BWRAP) == "1":
        pytest.skip(f"{missing} ({SKIP_BWRAP}=1 skips the sandbox tests)")
    pytest.fail(f"{missing}, or set {SKIP_BWRAP}=1 to skip the sandbox tests", pytrace=False)


@pytest.fixture(scope="session")
def sandbox_env(scripted_model: ScriptedModel, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The offline OpenCode env; its HOME is the template each sandbox's HOME starts from (its
    config dir is prepared so OpenCode does not npm-install its plugin package per sandbox)."""
    return make_opencode_env(tmp_path_factory.mktemp("sandbox-template"), scripted_model.base_url)


@dataclass
class SandboxRig:
    backend: BwrapBackend
    root: Path
    repo: Path

    def worktree(self, name: str) -> Path:
        """A linked worktree of the repository on a new branch `name`."""
        path = self.root / f"wt-{name}"
        git(self.repo, "worktree", "add", "-q", "-b", name, str(path))
        return path

    def spec(self, name: str, **changes: Any) -> SandboxSpec:
        path = self.root / f"wt-{name}"
        if not path.exists():
            self.worktree(name)
        return SandboxSpec(key=name, worktree=path, data_dir=self.root / f"data-{name}", **changes)


def git(directory: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=directory, check=True, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
async def rig(
    tmp_path: Path, bwrap_binary: str, opencode_binary: str, sandbox_env: dict[str, str]
) -> AsyncIterator[SandboxRig]:
    backend = BwrapBackend(
        bwrap=bwrap_binary,
        binary=opencode_binary,
        env=sandbox_env,
        home_template=Path(sandbox_env["HOME"]),
        health_timeout=60.0,
    )
    try:
        yield SandboxRig(backend, tmp_path, git_init(tmp_path / "repo"))
    finally:
        await backend.aclose()
