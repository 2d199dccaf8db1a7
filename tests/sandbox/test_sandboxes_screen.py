"""The control center's Sandboxes screen (Projects → b): each sandboxed thread and its sandbox's
state, followed as it changes (running, then paused once idle), and a clear word when sandbox mode
is off."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from kimaki_tui.core.events import TurnFinished
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.sandbox.bwrap import BwrapBackend
from kimaki_tui.screens.app import KimakiApp
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.screens.sandboxes import OFF, SandboxesScreen
from kimaki_tui.settings import SandboxSettings, Settings
from tests.core_rig import CoreRig
from tests.harness import git_init
from tests.screens.conftest import SIZE, plain, until

pytestmark = pytest.mark.opencode


@pytest.fixture
def backend(bwrap_binary: str, opencode_binary: str, sandbox_env: dict[str, str]) -> BwrapBackend:
    return BwrapBackend(
        bwrap=bwrap_binary, binary=opencode_binary, env=sandbox_env, home_template=Path(sandbox_env["HOME"])
    )


def shown_state(table: DataTable[object], key: str) -> str | None:
    if key not in {str(row.key.value) for row in table.ordered_rows}:
        return None
    return str(table.get_cell(key, "state"))


async def test_a_sandboxed_thread_shows_running_then_paused(
    opencode_client: OpenCodeClient, tmp_path: Path, backend: BwrapBackend
) -> None:
    project = git_init(tmp_path / "repo")
    settings = SandboxSettings(mode="bwrap", idle_minutes=0.05, ttl_minutes=60)  # paused after 3 s idle
    async with CoreRig(opencode_client, tmp_path / "db.sqlite", sandbox=(settings, backend)) as rig:
        assert rig.sandboxes is not None
        directory = await rig.sandboxes.place("4242", "900", str(project))
        rig.thread(Path(directory), thread_id="4242")
        await rig.core.conversations.submit("4242", rig.prompt("REPLY: hello from a sandbox"))
        await rig.wait_for(TurnFinished)
        app = KimakiApp(ControlCenterModel(core=rig.core, settings=Settings(data_dir=tmp_path)))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("4", "b")
            assert isinstance(app.screen, SandboxesScreen)
            table = app.screen.query_one("#sandboxes", DataTable)
            await until(pilot, lambda: shown_state(table, "t4242") == "running", "the running sandbox")
            assert str(table.get_cell("t4242", "thread")) == "4242"
            await until(pilot, lambda: shown_state(table, "t4242") == "paused", "the paused sandbox", 60)
            assert "0 running · 1 paused" in str(table.border_subtitle)
            await pilot.press("escape")
            assert not isinstance(app.screen, SandboxesScreen)


async def test_without_sandbox_mode_the_screen_says_how_to_turn_it_on(
    opencode_client: OpenCodeClient, tmp_path: Path
) -> None:
    async with CoreRig(opencode_client, tmp_path / "db.sqlite") as rig:
        app = KimakiApp(ControlCenterModel(core=rig.core, settings=Settings(data_dir=tmp_path)))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("4", "b")
            assert isinstance(app.screen, SandboxesScreen)
            assert plain(app.screen.query_one("#no-sandboxes", Static)) == OFF
