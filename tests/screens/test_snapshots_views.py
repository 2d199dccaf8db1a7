"""SVG snapshots of the Discord view, the setup wizard and a dialog, at 80×24 and 160×45 (see
test_snapshots.py for how to update them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from keyring.backends import fail
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Static

from kimaki_tui.core.events import ChatStatus
from kimaki_tui.discord_rest import DiscordRest
from kimaki_tui.screens.add_project import AddProjectScreen, FolderTree
from kimaki_tui.screens.app import KimakiApp
from kimaki_tui.screens.gemini_key import GeminiKeyScreen
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.screens.wizard import WizardScreen
from kimaki_tui.secrets import SecretStore
from kimaki_tui.setup import SetupController, Step
from tests.keyring_backend import MemoryKeyring, use_keyring
from tests.screens.chat_scene import THREAD, FixedChat
from tests.screens.conftest import until
from tests.screens.scene import build_scene, concrete, offline_model
from tests.screens.test_snapshots import DATA_DIR, SIZES, Compare, Size, frozen_ring, scene_then


@pytest.fixture
def chat_model(tmp_path: Path) -> Iterator[ControlCenterModel]:
    model = offline_model(tmp_path, ring=frozen_ring(), data_dir=DATA_DIR, chat=FixedChat())
    yield model
    concrete(model).store.close()


@pytest.fixture
def model(tmp_path: Path) -> Iterator[ControlCenterModel]:
    model = offline_model(tmp_path, ring=frozen_ring(), data_dir=DATA_DIR)
    yield model
    concrete(model).store.close()


async def in_the_thread(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, KimakiApp)
    build_scene(app.model)
    app.model.core.publish(ChatStatus("connected", guilds=1, latency_ms=42, user="Kimaki#0001"))
    app.bridge.flush()
    await pilot.pause()
    screen = app.screen
    await screen.show_channel(THREAD.id)  # type: ignore[attr-defined]
    await pilot.pause()


@SIZES
def test_discord_view(snap_compare: Compare, chat_model: ControlCenterModel, size: Size) -> None:
    assert snap_compare(KimakiApp(chat_model), terminal_size=size, run_before=in_the_thread)


@SIZES
def test_abort_dialog(snap_compare: Compare, model: ControlCenterModel, size: Size) -> None:
    """The confirmation before aborting a running turn (x on the dashboard)."""
    assert snap_compare(KimakiApp(model), terminal_size=size, run_before=scene_then("down", "down", "x"))


class WizardApp(App[None]):
    def __init__(self, setup: SetupController) -> None:
        super().__init__()
        self.setup = setup

    def on_mount(self) -> None:
        self.push_screen(WizardScreen(self.setup, open_url=lambda url: None))


def wizard_at(step: Step) -> SetupController:
    secrets = SecretStore(DATA_DIR, env={})
    return SetupController(secrets, api=DiscordRest(base_url="http://127.0.0.1:9/api"), start=step)


@pytest.mark.parametrize("keyring_works", [True, False], ids=["keyring", "no-keyring"])
@SIZES
def test_wizard_token_step(snap_compare: Compare, size: Size, keyring_works: bool) -> None:
    """The token page, as it reads with an OS keyring and without one."""
    backend = MemoryKeyring() if keyring_works else fail.Keyring()  # type: ignore[no-untyped-call]
    with use_keyring(backend):
        assert snap_compare(WizardApp(wizard_at(Step.TOKEN)), terminal_size=size)


@SIZES
def test_wizard_first_step(snap_compare: Compare, size: Size) -> None:
    with use_keyring(MemoryKeyring()):
        assert snap_compare(WizardApp(wizard_at(Step.CREATE_APP)), terminal_size=size)


def test_dashboard_at_200x60(snap_compare: Compare, model: ControlCenterModel) -> None:
    """The roomy size: the full table and the preview of the selected session side by side."""
    assert snap_compare(KimakiApp(model), terminal_size=(200, 60), run_before=scene_then())


@SIZES
def test_servers_list(snap_compare: Compare, model: ControlCenterModel, size: Size) -> None:
    """Projects → s: the Discord servers the bot is in."""

    model.core.guilds.seen("800", "Home lab", "42")  # before the app runs: no "waiting" toasts
    model.core.guilds.seen("801", "Someone else's server", "77")
    assert snap_compare(KimakiApp(model), terminal_size=size, run_before=scene_then("4", "s"))


@SIZES
def test_sandboxes_screen(snap_compare: Compare, model: ControlCenterModel, size: Size) -> None:
    """Projects → b with sandbox mode off: what it is and how to turn it on."""
    assert snap_compare(KimakiApp(model), terminal_size=size, run_before=scene_then("4", "b"))


@SIZES
def test_keys_screen(snap_compare: Compare, model: ControlCenterModel, size: Size) -> None:
    """`?` on the dashboard: every key of the screen, with what it does."""
    assert snap_compare(KimakiApp(model), terminal_size=size, run_before=scene_then("question_mark"))


# The add-project dialog shows its folder in the path box: a fixed place keeps the picture stable.
PROJECTS_ROOT = Path("/tmp/kimaki-snapshots/projects")


def projects_root() -> Path:
    for name in ("api-server", "website", "notes", ".hidden"):
        (PROJECTS_ROOT / name).mkdir(parents=True, exist_ok=True)
    (PROJECTS_ROOT / "README.md").touch()  # files are not offered
    return PROJECTS_ROOT


def dialog_then(
    screen: Callable[[KimakiApp], Screen[Any]], ready: Callable[[Screen[Any]], bool]
) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, KimakiApp)
        dialog = screen(app)
        await app.push_screen(dialog)
        await until(pilot, lambda: ready(dialog), "the dialog to settle")
        for box in dialog.query(Input):
            box.cursor_blink = False

    return run_before


def tree_loaded(dialog: Screen[Any]) -> bool:
    tree = dialog.query_one(FolderTree)
    return tree.root.is_expanded and len(tree.root.children) == 3


@SIZES
def test_add_project_dialog(snap_compare: Compare, model: ControlCenterModel, size: Size) -> None:
    """Projects → n: a path box and the folders under the picker's root (no files, no hidden ones)."""
    root = projects_root()
    run_before = dialog_then(lambda app: AddProjectScreen(root), tree_loaded)
    assert snap_compare(KimakiApp(model), terminal_size=size, run_before=run_before)


@SIZES
def test_gemini_key_dialog(snap_compare: Compare, model: ControlCenterModel, size: Size) -> None:
    """Palette → Set Gemini API key…: where the key comes from, and a password box."""
    with use_keyring(MemoryKeyring()):
        store = SecretStore(DATA_DIR, env={})
        checked = lambda d: "No key is set yet." in str(d.query_one("#current", Static).render())  # noqa: E731
        run_before = dialog_then(lambda app: GeminiKeyScreen(store), checked)
        assert snap_compare(KimakiApp(model), terminal_size=size, run_before=run_before)
