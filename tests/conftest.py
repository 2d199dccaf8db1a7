"""Shared fixtures: one scripted model and one real `opencode serve` for the whole test session.

Per-test isolation comes from `project_dir` (a fresh git repository): OpenCode scopes every
request by directory, so tests sharing the server do not see each other's sessions.

A second server runs the oldest supported OpenCode (1.2.27) for the end-to-end subset that takes
`versioned_client` (once per version). Without that binary those tests fail, saying how to
install it, unless KIMAKI_SKIP_OPENCODE_1_2=1 asks to skip them.

After each test the shared servers drop their project instances: OpenCode holds one inotify
instance per project it has run a prompt in, Linux allows 128 per user, and once they are used up
a freshly started OpenCode (a test's own server, a sandbox, `kimaki demo`) waits forever on its
first prompt.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.errors import OpenCodeNotInstalled
from kimaki_tui.opencode.injection_guard import with_injection_guard
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor, find_opencode
from kimaki_tui.testing.scripted_model import ScriptedModel
from tests import memory_guard
from tests.harness import (
    DEFAULT_OPENCODE,
    OLD_OPENCODE,
    OLD_OPENCODE_VERSION,
    git_init,
    make_opencode_env,
)

SKIP_OLD_OPENCODE = "KIMAKI_SKIP_OPENCODE_1_2"

# The shared servers started so far in this session (see release_project_instances).
_SHARED_SERVERS: list[OpenCodeSupervisor] = []
_GUARDS: list[memory_guard.MemoryGuard] = []


def pytest_configure(config: pytest.Config) -> None:
    guard = memory_guard.from_environment()
    if guard is not None:
        guard.start()
        _GUARDS.append(guard)


def pytest_unconfigure(config: pytest.Config) -> None:
    while _GUARDS:
        _GUARDS.pop().stop()


@pytest.fixture(autouse=True)
async def release_project_instances() -> AsyncIterator[None]:
    yield
    for server in _SHARED_SERVERS:
        if server.healthy:
            await server.client.dispose_all_instances()


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
    try:
        return find_opencode(os.environ.get("OPENCODE_PATH") or str(DEFAULT_OPENCODE))
    except OpenCodeNotInstalled as exc:
        pytest.skip(f"opencode is not installed: {exc}")


@pytest.fixture(scope="session")
async def opencode_server(
    opencode_binary: str, opencode_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[OpenCodeSupervisor]:
    """The one OpenCode server shared by the test session. Do not kill or restart it. It loads
    kimaki's injection-guard plugin, as kimaki's own server does."""
    guard_dir = tmp_path_factory.mktemp("injection-guard")
    supervisor = OpenCodeSupervisor(
        binary=opencode_binary,
        env=with_injection_guard(opencode_env, guard_dir),
        cwd=tmp_path_factory.mktemp("opencode-cwd"),
        health_timeout=60.0,
    )
    await supervisor.start()
    _SHARED_SERVERS.append(supervisor)
    yield supervisor
    _SHARED_SERVERS.remove(supervisor)
    await supervisor.aclose()


@pytest.fixture
def opencode_client(opencode_server: OpenCodeSupervisor) -> OpenCodeClient:
    return opencode_server.client


@pytest.fixture(scope="session")
def old_opencode_binary() -> str:
    path = os.environ.get("OPENCODE_1_2_PATH") or str(OLD_OPENCODE)
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    missing = f"OpenCode {OLD_OPENCODE_VERSION} is not installed at {path}: run scripts/setup.sh --dev"
    if os.environ.get(SKIP_OLD_OPENCODE) == "1":
        pytest.skip(f"{missing} ({SKIP_OLD_OPENCODE}=1 skips the tests against it)")
    pytest.fail(f"{missing}, or set {SKIP_OLD_OPENCODE}=1 to skip the tests against it", pytrace=False)


@pytest.fixture(scope="session")
async def old_opencode_server(
    old_opencode_binary: str, scripted_model: ScriptedModel, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[OpenCodeSupervisor]:
    """The oldest supported OpenCode, shared like `opencode_server` (started on first use)."""
    root = tmp_path_factory.mktemp("opencode-1.2")
    supervisor = OpenCodeSupervisor(
        binary=old_opencode_binary,
        env=make_opencode_env(root, scripted_model.base_url, OLD_OPENCODE_VERSION),
        cwd=root,
        health_timeout=60,
    )
    await supervisor.start()
    _SHARED_SERVERS.append(supervisor)
    yield supervisor
    _SHARED_SERVERS.remove(supervisor)
    await supervisor.aclose()


@pytest.fixture(params=["pinned", "oldest"], ids=["opencode-1.18", "opencode-1.2"])
def versioned_client(request: pytest.FixtureRequest) -> OpenCodeClient:
    """A client of the pinned OpenCode, then of the oldest supported one: a test taking it runs
    against both real servers."""
    server = "opencode_server" if request.param == "pinned" else "old_opencode_server"
    supervisor: OpenCodeSupervisor = request.getfixturevalue(server)
    return supervisor.client


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """A fresh git repository (one commit) for this test."""
    return git_init(tmp_path / "project")
