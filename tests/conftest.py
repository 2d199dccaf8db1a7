"""Shared fixtures: one scripted model and one real `opencode serve` for the whole test session.

Per-test isolation comes from `project_dir` (a fresh git repository): OpenCode scopes every
request by directory, so tests sharing the server do not see each other's sessions.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.errors import OpenCodeNotInstalled
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor, find_opencode
from kimaki_tui.testing.scripted_model import ScriptedModel
from tests.harness import DEFAULT_OPENCODE, git_init, make_opencode_env


@pytest.fixture(scope="session")
async def scripted_model() -> AsyncIterator[ScriptedModel]:
    model = ScriptedModel()
    await model.start()
    yield model
    await model.stop()


@pytest.fixture(scope="session")
def opencode_env(scripted_model: ScriptedModel, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Env for `opencode serve`: isolated HOME/XDG (created once), offline config, rg on PATH."""
    return make_opencode_env(tmp_path_factory.mktemp("opencode"), scripted_model.base_url)


@pytest.fixture(scope="session")
def spare_opencode_env(
    scripted_model: ScriptedModel, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """A second isolated HOME for servers that tests kill or restart (never the shared one)."""
    return make_opencode_env(tmp_path_factory.mktemp("opencode-spare"), scripted_model.base_url)


@pytest.fixture(scope="session")
def opencode_binary() -> str:
    env = {**os.environ, "OPENCODE_PATH": os.environ.get("OPENCODE_PATH") or str(DEFAULT_OPENCODE)}
    try:
        return find_opencode(env)
    except OpenCodeNotInstalled as exc:
        pytest.skip(f"opencode is not installed: {exc}")


@pytest.fixture(scope="session")
async def opencode_server(
    opencode_binary: str, opencode_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[OpenCodeSupervisor]:
    """The one OpenCode server shared by the test session. Do not kill or restart it."""
    supervisor = OpenCodeSupervisor(
        binary=opencode_binary,
        env=opencode_env,
        cwd=tmp_path_factory.mktemp("opencode-cwd"),
        health_timeout=60.0,
    )
    await supervisor.start()
    yield supervisor
    await supervisor.aclose()


@pytest.fixture
def opencode_client(opencode_server: OpenCodeSupervisor) -> OpenCodeClient:
    return opencode_server.client


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """A fresh git repository (one commit) for this test."""
    return git_init(tmp_path / "project")
