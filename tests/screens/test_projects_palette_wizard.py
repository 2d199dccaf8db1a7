"""Projects (add with the picker, unlink, forget), the command palette, and the wizard contract."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from textual.screen import Screen
from textual.widgets import DataTable, Static

from kimaki_tui.core.events import GuildAccessChanged
from kimaki_tui.screens.add_project import AddProjectScreen
from kimaki_tui.screens.app import KimakiApp
from kimaki_tui.screens.dashboard import DashboardScreen
from kimaki_tui.screens.logs import LogsScreen
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.screens.projects import ProjectsScreen
from kimaki_tui.screens.servers import ServersScreen
from kimaki_tui.screens.session import SessionScreen
from tests.screens.conftest import SIZE, notifications, plain, settle, until
from tests.screens.scene import HOME, build_scene, concrete, offline_model


def project_rows(app: KimakiApp) -> list[str]:
    table = app.screen.query_one("#projects", DataTable)
    return [str(row.key.value) for row in table.ordered_rows]


async def test_add_project_by_typing_a_path(scene: ControlCenterModel, tmp_path: Path) -> None:
    folder = tmp_path / "work" / "new-project"
    folder.mkdir(parents=True)
    app = KimakiApp(scene)
    async with app.run_test(size=SIZE) as pilot:
        build_scene(scene)
        await pilot.press("4")
        assert isinstance(app.screen, ProjectsScreen)
        assert project_rows(app) == [
            "channel:902",
            "channel:901",
            "channel:904",
            "channel:903",
            f"project:{HOME}/notes",
        ]
        await pilot.press("n")
        assert isinstance(app.screen, AddProjectScreen)
        path_input = app.screen.query_one("#path")
        path_input.value = str(tmp_path / "missing")  # type: ignore[attr-defined]
        await pilot.press("enter")
        assert "is not a folder" in plain(app.screen.query_one("#path-error", Static))
        path_input.value = str(folder)  # type: ignore[attr-defined]
        await pilot.pause()
        assert plain(app.screen.query_one("#path-error", Static)) == "", "a folder now: the error goes"
        await pilot.press("enter")
        await until(pilot, lambda: f"project:{folder}" in project_rows(app), "the new project")
        assert str(folder) in [p.directory for p in concrete(scene).store.list_projects()]
        assert any("no Discord channel is linked" in n for n in notifications(app))


async def test_add_project_calls_the_composition_roots_action(tmp_path: Path) -> None:
    added: list[str] = []

    async def add_project(directory: str) -> str:
        added.append(directory)
        return f"#{Path(directory).name} created"

    model = offline_model(tmp_path, add_project=add_project)
    app = KimakiApp(model)
    async with app.run_test(size=SIZE) as pilot:
        await app.action_add_project()  # what the palette's "Add project…" runs
        await pilot.pause()
        assert isinstance(app.screen, AddProjectScreen)
        app.screen.query_one("#path").value = str(tmp_path)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: added, "the add_project call")
        assert added == [str(tmp_path)]
        await until(
            pilot, lambda: any(f"#{tmp_path.name} created" in n for n in notifications(app)), "notice"
        )
    await concrete(model).close()


async def test_add_project_by_picking_a_folder(tmp_path: Path) -> None:
    root = tmp_path / "code"
    for name in ("alpha", "beta", ".hidden"):
        (root / name).mkdir(parents=True)
    (root / "notes.txt").write_text("not a folder")
    model = offline_model(tmp_path, picker_root=root)
    app = KimakiApp(model)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4", "n")
        tree = app.screen.query_one("#tree")
        tree.focus()
        await until(pilot, lambda: len(tree.root.children) == 2, "the folders")  # type: ignore[attr-defined]
        assert [node.label.plain for node in tree.root.children] == ["alpha", "beta"]  # type: ignore[attr-defined]
        await pilot.press("down", "down", "enter")  # beta: fills the path box
        assert app.screen.query_one("#path").value == str(root / "beta")  # type: ignore[attr-defined]
        await pilot.press("enter")  # Enter again on the same folder confirms it
        await until(pilot, lambda: isinstance(app.screen, ProjectsScreen), "the projects screen")
        assert [p.directory for p in concrete(model).store.list_projects()] == [str(root / "beta")]
    await concrete(model).close()


async def test_projects_show_channel_and_server_names(tmp_path: Path) -> None:
    """Names, not raw ids: the channel's as the bot knows it, the server's from its record; an id
    only while the bot does not know the channel."""
    names = {"902": "api"}
    model = offline_model(tmp_path, channel_name=names.get)
    build_scene(model)
    concrete(model).guilds.seen("800", "Home lab", None)
    app = KimakiApp(model)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        table = app.screen.query_one("#projects", DataTable)
        cells = {str(row.key.value): [str(c) for c in table.get_row(row.key)] for row in table.ordered_rows}
        assert cells["channel:902"][1:3] == ["#api", "Home lab"]
        assert cells["channel:901"][1] == "#901"
    await concrete(model).close()


async def test_unlink_channel_and_forget_project(scene: ControlCenterModel) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SIZE) as pilot:
        build_scene(scene)
        await pilot.press("4", "x")
        await pilot.press("n")  # cancelled: nothing changes
        assert "channel:902" in project_rows(app)
        await pilot.press("x", "y")
        assert concrete(scene).store.channel_directory("902") is None
        # The api project has no channel left now: its row says so; removing it forgets it.
        assert f"project:{HOME}/api" in project_rows(app)
        table = app.screen.query_one("#projects", DataTable)
        table.move_cursor(row=project_rows(app).index(f"project:{HOME}/api"))
        await pilot.press("delete", "y")
        assert f"{HOME}/api" not in [p.directory for p in concrete(scene).store.list_projects()]
        assert f"project:{HOME}/api" not in project_rows(app)


async def test_palette_navigates_opens_sessions_and_reports_failures(scene: ControlCenterModel) -> None:
    app = KimakiApp(scene)
    async with app.run_test(size=SIZE) as pilot:
        build_scene(scene)
        await settle(pilot)
        await pilot.press("ctrl+p", *"to logs", "enter")
        await until(pilot, lambda: isinstance(app.screen, LogsScreen), "the logs screen")
        await pilot.press("ctrl+p", *"pagination", "enter")
        await until(pilot, lambda: isinstance(app.screen, SessionScreen), "the session screen")
        assert isinstance(app.screen, SessionScreen) and app.screen.thread_id == "1002"
        await pilot.press("ctrl+p", *"approve new", "enter")
        # The scene's OpenCode is unreachable: the answer fails and says so.
        await until(pilot, lambda: any("Could not reach OpenCode" in n for n in notifications(app)), "error")
        assert len(scene.core.approvals.pending_permissions()) == 2
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


class StandInWizard(Screen[str]):
    """Stands in for helper D's wizard: records what it was given, dismissed by a key."""

    BINDINGS = [("enter", "done", "Done")]  # noqa: RUF012

    def __init__(self, setup: object) -> None:
        super().__init__()
        self.setup = setup

    def action_done(self) -> None:
        self.dismiss("completed")


async def test_first_run_pushes_the_wizard_then_the_dashboard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wizard = types.ModuleType("kimaki_tui.screens.wizard")
    wizard.WizardScreen = StandInWizard  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kimaki_tui.screens.wizard", wizard)
    setup = object()
    results: list[object] = []

    async def after_setup(result: object) -> None:
        results.append(result)

    model = offline_model(tmp_path, needs_setup=True, setup=setup, after_setup=after_setup)
    app = KimakiApp(model)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StandInWizard) and app.screen.setup is setup
        await pilot.press("2")  # the screens' keys wait until setup is done
        assert isinstance(app.screen, StandInWizard)
        await pilot.press("enter")
        assert isinstance(app.screen, DashboardScreen) and not model.needs_setup
        await until(pilot, lambda: results, "the after-setup call")
        assert results == ["completed"]
    await concrete(model).close()


async def test_servers_list_allows_and_denies(scene: ControlCenterModel) -> None:
    """Projects → s: the Discord servers; a pending one is allowed with `a`, another denied with `d`,
    and the core publishes each decision (the bot follows it)."""
    guilds = scene.core.guilds
    guilds.set_operators({"42"})
    guilds.seen("111111111111111111", "Home", "42")
    guilds.seen("222222222222222222", "Mallory's", "666")
    changed: list[object] = []
    concrete(scene).bus.add_callback(changed.append)
    app = KimakiApp(scene)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4", "s")
        assert isinstance(app.screen, ServersScreen)
        table = app.screen.query_one("#servers", DataTable)
        rows = [str(row.key.value) for row in table.ordered_rows]
        assert rows == ["111111111111111111", "222222222222222222"]
        assert "1 waiting for you" in str(table.border_subtitle)
        await pilot.press("down", "a")
        await settle(pilot)
        assert guilds.allowed("222222222222222222")
        assert "Mallory's is now allowed." in notifications(app)
        await pilot.press("up", "d")
        await settle(pilot)
        assert guilds.status("111111111111111111") == "denied"
        assert "0 waiting for you" in str(table.border_subtitle)
        await pilot.press("escape")
        assert isinstance(app.screen, ProjectsScreen)
    statuses = [(e.guild_id, e.status) for e in changed if isinstance(e, GuildAccessChanged)]
    assert statuses == [("222222222222222222", "allowed"), ("111111111111111111", "denied")]
