"""First run on a machine without an OS keyring (the usual headless server), through the
composition root's control center: the wizard offers the secrets file at the token step itself (no
step is done again), says where the token went, and "Start kimaki" connects Discord without a
restart — the after-setup path reads the token from the file chosen in the wizard."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import fail
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, Static

from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.root.build import Services
from kimaki_tui.root.offline import open_secrets
from kimaki_tui.root.tui import control_center
from kimaki_tui.screens.app import KimakiApp
from kimaki_tui.screens.dashboard import DashboardScreen
from kimaki_tui.screens.wizard import WizardScreen
from kimaki_tui.settings import DiscordSettings, Settings, load_settings
from kimaki_tui.setup import Step
from tests.harness import wait_until
from tests.keyring_backend import use_keyring
from tests.setup_rig import TOKEN, running_twin

pytestmark = pytest.mark.opencode


@pytest.fixture
def no_keyring() -> Iterator[None]:
    with use_keyring(fail.Keyring()):  # type: ignore[no-untyped-call]  # keyring is untyped
        yield


def text_of(app: KimakiApp, selector: str) -> str:
    """What a widget shows, on one line; for a group (a step's instructions), its parts in order."""
    widget = app.screen.query_one(selector)
    parts = [widget] if isinstance(widget, Static) else list(widget.query(Static))
    return " ".join(" ".join(str(part.render()) for part in parts).split())


async def click_at(pilot: Pilot[None], step: Step, selector: str, *, settled: tuple[str, ...] = ()) -> None:
    """Click `selector` once the wizard shows `step` (a hidden step's buttons still exist) and,
    given `settled`, once one of those widgets has focus: a step that loads something moves its
    buttons when the load lands, and a click aimed before that hits whatever took their place."""
    app = pilot.app
    screen = app.screen
    assert isinstance(screen, WizardScreen)
    await wait_until(lambda: screen.setup.step is step, 30, message=f"the {step} step")
    if settled:
        focused = lambda: app.focused is not None and app.focused.id in settled  # noqa: E731
        await wait_until(focused, 30, message=f"focus on one of {settled}")
    await pilot.pause()
    await pilot.click(selector)


async def test_first_run_without_a_keyring_reaches_discord_without_a_restart(
    no_keyring: None,
    opencode_binary: str,
    spare_opencode_env: dict[str, str],
    tmp_path: Path,
) -> None:
    async with running_twin() as twin:
        twin.add_guild("Home")
        discord = DiscordSettings(api_url=twin.api_url, gateway_url=twin.gateway_url)
        settings = Settings(data_dir=tmp_path / "data", discord=discord)
        settings.data_dir.mkdir()
        secrets = open_secrets(settings, env={})
        supervisor = OpenCodeSupervisor(binary=opencode_binary, env=spare_opencode_env)
        async with Services(settings, secrets, supervisor) as services:
            app = control_center(services, token=None)
            async with app.run_test(size=(120, 40)) as pilot:
                await wait_until(lambda: isinstance(app.screen, WizardScreen), 30)
                await pilot.click("#create_app-next")
                await pilot.click("#intents-next")
                assert "no OS keyring" in text_of(app, "#token .instructions")
                await pilot.click("#token-input")
                app.screen.query_one("#token-input", Input).post_message(events.Paste(TOKEN))
                await pilot.press("enter")
                await wait_until(lambda: app.screen.query_one("#token-file").display, 30)
                await pilot.click("#token-file")  # offered in place
                await wait_until(lambda: "saved (file " in text_of(app, "#token-ok"), 30)
                assert str(secrets.file_path) in text_of(app, "#token-ok")
                await pilot.click("#token-next")
                await click_at(pilot, Step.INSTALL, "#install-next")
                loaded = ("projects-list", "project-path")  # the load's end: the list, or the path box
                await click_at(pilot, Step.PROJECTS, "#projects-skip", settled=loaded)
                await click_at(pilot, Step.GEMINI, "#gemini-skip")
                await wait_until(lambda: "Token stored in: file" in text_of(app, "#done-summary"), 30)
                await pilot.click("#done-finish")
                await wait_until(lambda: isinstance(app.screen, DashboardScreen), 30)
                await wait_until(lambda: app.discord_status.state == "connected", 60, message="Discord")
                assert app.discord_status.user == "Kimaki"
        # The choice outlives the run: the next start reads the token from the same file.
        later = load_settings({"data_dir": str(settings.data_dir)}, env={})
        assert later.secrets_file and open_secrets(later, env={}).get_bot_token() == TOKEN
