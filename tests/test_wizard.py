"""The setup wizard: its step logic against the Discord twin, and the Textual screen driven by Pilot."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from keyring.backends import fail
from textual import events
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, Select, SelectionList, Static

from kimaki_tui.discord_rest import DiscordRest
from kimaki_tui.opencode.catalog import Project
from kimaki_tui.opencode.errors import OpenCodeUnavailable
from kimaki_tui.root.offline import open_secrets
from kimaki_tui.screens.wizard import WizardScreen
from kimaki_tui.secrets import SecretStore
from kimaki_tui.settings import load_settings
from kimaki_tui.setup import SetupController, SetupError, SetupResult, Step, TokenNotStored
from kimaki_tui.setup.channel_plan import channel_topic, sanitize_channel_name
from kimaki_tui.setup.guide import BOT_PERMISSIONS, CREATE_APP, PROJECTS, GuideBlock, blocks, wrap
from kimaki_tui.setup.projects import project_directories
from kimaki_tui.testing.discord_twin import DiscordTwin
from tests.keyring_backend import MemoryKeyring, use_keyring
from tests.setup_rig import (
    APP_ID,
    PERMISSIONS,
    TOKEN,
    WRONG_TOKEN,
    Links,
    controller,
    make_projects,
    project_channels,
    running_twin,
)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    with use_keyring(MemoryKeyring()) as backend:
        yield backend


@pytest.fixture
async def twin() -> AsyncIterator[DiscordTwin]:
    async with running_twin() as running:
        yield running


@pytest.fixture
def projects(tmp_path: Path) -> list[str]:
    return make_projects(tmp_path)


# -- the step logic -------------------------------------------------------------------------------


def test_install_url_has_the_scopes_and_permissions() -> None:
    assert BOT_PERMISSIONS == PERMISSIONS
    setup = SetupController(SecretStore(Path("/nonexistent"), env={}))
    with pytest.raises(SetupError):
        _ = setup.install_url


def test_step_texts_reflow_to_any_width() -> None:
    """The guide's wrapped lines join again: the screen and the CLI wrap them to their width,
    list items under their text, never leaving half a line behind (80 columns did)."""
    (intro, first, second, third) = blocks(CREATE_APP)
    assert (intro.marker, intro.gap, first.gap, second.gap) == ("", False, True, False)
    assert second == GuideBlock(
        "  2. ",
        'Click "New Application" (top right), give it a name (for example "Kimaki"), accept the terms '
        'and click "Create".',
    )
    assert third.text.endswith("a bot user.")
    narrow = wrap(CREATE_APP, 50).splitlines()
    assert max(len(line) for line in narrow) <= 50
    assert narrow[3:5] == ["  1. Open", "     https://discord.com/developers/applications"]
    url = wrap(CREATE_APP, 30).splitlines()  # narrower than the link: the link stays whole
    assert "     https://discord.com/developers/applications" in url
    assert [b.text for b in blocks(PROJECTS)] == [" ".join(PROJECTS.split())]


async def test_token_step_checks_with_discord_and_saves(
    tmp_path: Path,
    twin: DiscordTwin,
    memory_keyring: MemoryKeyring,
) -> None:
    setup = controller(tmp_path, twin, [], Links(), start=Step.TOKEN)
    with pytest.raises(SetupError, match="not a bot token"):
        await setup.submit_token("hello")
    with pytest.raises(SetupError, match="rejected this token"):
        await setup.submit_token(WRONG_TOKEN)
    assert not setup.can_advance()
    assert memory_keyring.values == {}
    identity = await setup.submit_token(f"\x1b[200~{TOKEN}\x1b[201~\n")  # a leaked bracketed paste
    assert (identity.app_id, identity.username, identity.message_content) == (str(APP_ID), "Kimaki", True)
    assert list(memory_keyring.values.values()) == [TOKEN]
    query = parse_qs(urlsplit(setup.install_url).query)
    assert query == {
        "client_id": [str(APP_ID)],
        "permissions": [str(PERMISSIONS)],
        "scope": ["bot applications.commands"],
    }
    assert setup.advance() is Step.INSTALL
    await setup.aclose()


async def test_message_content_off_is_reported(tmp_path: Path, twin: DiscordTwin) -> None:
    twin.configure(message_content_intent=False)
    setup = controller(tmp_path, twin, [], Links(), start=Step.TOKEN)
    assert (await setup.submit_token(TOKEN)).message_content is False
    assert "MESSAGE CONTENT INTENT" in setup.summary()
    await setup.aclose()


@pytest.mark.parametrize("public", [True, False])
async def test_a_public_bot_is_warned_about(tmp_path: Path, twin: DiscordTwin, public: bool) -> None:
    twin.configure(bot_public=public)
    setup = controller(tmp_path, twin, [], Links(), start=Step.TOKEN)
    identity = await setup.submit_token(TOKEN)
    assert identity.public is public
    assert ('untick "PUBLIC BOT"' in " ".join(identity.warnings)) is public
    assert ("The bot is Public" in setup.summary()) is public
    await setup.aclose()


async def test_the_server_picked_for_channels_is_allowed(
    tmp_path: Path, twin: DiscordTwin, projects: list[str]
) -> None:
    approved: list[str] = []
    setup = SetupController(
        SecretStore(tmp_path / "data", env={}),
        api=DiscordRest(base_url=twin.api_url),
        link=Links(),
        approve_guild=approved.append,
        start=Step.TOKEN,
    )
    await setup.submit_token(TOKEN)
    home = twin.add_guild("Home")
    await setup.wait_for_guild(timeout=10, interval=0.05)
    await setup.create_channels(str(home.id), projects[:1])
    assert approved == [str(home.id)]
    await setup.aclose()


async def test_wait_then_channels_over_rest(
    tmp_path: Path,
    twin: DiscordTwin,
    projects: list[str],
) -> None:
    links = Links()
    setup = controller(tmp_path, twin, projects, links, start=Step.TOKEN)
    await setup.submit_token(TOKEN)
    with pytest.raises(TimeoutError):
        await setup.wait_for_guild(timeout=0.3, interval=0.05)
    asyncio.get_running_loop().call_later(0.2, lambda: twin.add_guild("Home"))
    guilds = await setup.wait_for_guild(timeout=10, interval=0.05)
    assert [g.name for g in guilds] == ["Home"]
    assert await setup.project_choices() == projects
    created = await setup.create_channels(guilds[0].id, projects)
    assert [c.name for c in created] == ["alpha", "beta-app"]
    made = project_channels(twin)
    assert sorted(c.name for c in made) == ["alpha", "beta-app"]
    assert {c.topic for c in made} == {channel_topic(p, str(APP_ID)) for p in projects}
    assert links.calls == [(c.channel_id, guilds[0].id, c.directory, str(APP_ID)) for c in created]
    assert created[0].url == f"https://discord.com/channels/{guilds[0].id}/{created[0].channel_id}"
    await setup.aclose()


def test_project_listing_and_naming(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "opencode-test-x"
    for folder in (old, new):
        folder.mkdir()
    recorded = [
        {"worktree": "/", "time": {"created": 9}},
        {"worktree": str(old), "time": {"created": 1}},
        {"worktree": str(tmp_path), "time": {"created": 1, "updated": 5}},
        {"worktree": str(new), "time": {"created": 7}},
        {"worktree": str(tmp_path / "gone"), "time": {"created": 8}},
    ]
    listed = project_directories([Project.from_json(p) for p in recorded])
    assert listed == [str(tmp_path), str(old)]
    assert sanitize_channel_name("Mon Projet_Été!!") == "mon-projet-ete"
    assert sanitize_channel_name("???") == "project"


# -- the Textual screen ---------------------------------------------------------------------------


class WizardApp(App[None]):
    def __init__(self, setup: SetupController) -> None:
        super().__init__()
        self.setup = setup
        self.opened: list[str] = []
        self.result: SetupResult | None = None

    def on_mount(self) -> None:
        screen = WizardScreen(self.setup, open_url=self.opened.append, poll_interval=0.05)
        self.push_screen(screen, callback=self._done)

    def _done(self, result: SetupResult | None) -> None:
        self.result = result


async def until(pilot: Pilot[None], check: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting in the wizard"
        await pilot.pause(0.05)


def text_of(pilot: Pilot[None], selector: str) -> str:
    """What a widget shows; for a group (a step's instructions), its parts in order."""
    widget = pilot.app.screen.query_one(selector)
    parts = [widget] if isinstance(widget, Static) else list(widget.query(Static))
    return "\n".join(str(part.render()) for part in parts)


async def paste_into(pilot: Pilot[None], selector: str, text: str) -> None:
    """Focus the field, clear it, and paste `text` the way a terminal delivers a paste."""
    await pilot.click(selector)
    field = pilot.app.screen.query_one(selector, Input)
    field.value = ""
    field.post_message(events.Paste(text))
    await pilot.pause()


async def test_wizard_screen_end_to_end(
    tmp_path: Path,
    twin: DiscordTwin,
    projects: list[str],
    memory_keyring: MemoryKeyring,
) -> None:
    links = Links()
    setup = controller(tmp_path, twin, projects[:1], links)
    app = WizardApp(setup)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert "step 1 of 8" in text_of(pilot, "#wizard-title")
        assert "https://discord.com/developers/applications" in text_of(pilot, "#create_app .instructions")
        await pilot.click("#create_app-next")
        assert "MESSAGE CONTENT INTENT" in text_of(pilot, "#intents .instructions")
        await pilot.press("enter")  # the focused "Done, next" button

        await paste_into(pilot, "#token-input", "not-a-token")
        await pilot.press("enter")
        await until(pilot, lambda: "not a bot token" in text_of(pilot, "#token-error"))
        await paste_into(pilot, "#token-input", WRONG_TOKEN)
        await pilot.click("#token-check")
        await until(pilot, lambda: "rejected this token (401)" in text_of(pilot, "#token-error"))
        assert memory_keyring.values == {}
        assert screen.query_one("#token-next").disabled
        await paste_into(pilot, "#token-input", TOKEN)
        await pilot.press("enter")
        await until(pilot, lambda: f"application id {APP_ID}" in text_of(pilot, "#token-ok"))
        assert not screen.query_one("#token-error").display
        assert TOKEN not in text_of(pilot, "#token-ok") and TOKEN[:4] + "…" + TOKEN[-4:] in text_of(
            pilot, "#token-ok"
        )
        assert list(memory_keyring.values.values()) == [TOKEN]
        await pilot.click("#token-next")

        url = text_of(pilot, "#install-url")
        assert f"client_id={APP_ID}" in url and f"permissions={PERMISSIONS}" in url
        await pilot.click("#install-open")
        assert app.opened == [setup.install_url]
        await pilot.click("#install-next")

        assert screen.query_one("#wait_guild").display
        await pilot.pause(0.3)
        assert setup.step is Step.WAIT_GUILD, "no server yet: still waiting"
        guild = twin.add_guild("Home")
        await until(pilot, lambda: setup.step is Step.PROJECTS)

        listing = screen.query_one("#projects-list", SelectionList)
        await until(pilot, lambda: listing.option_count == 1)
        listing.select(projects[0])
        await paste_into(pilot, "#project-path", projects[1])
        await pilot.click("#project-add")
        await paste_into(pilot, "#project-path", str(tmp_path / "missing"))
        await pilot.press("enter")
        assert "does not exist" in text_of(pilot, "#projects .error")
        assert sorted(listing.selected) == sorted(projects)
        await pilot.click("#projects-create")
        await until(pilot, lambda: setup.step is Step.GEMINI)
        assert sorted(c.name for c in project_channels(twin)) == ["alpha", "beta-app"]
        assert sorted(call[2] for call in links.calls) == sorted(projects)

        await pilot.click("#gemini-skip")
        await until(pilot, lambda: setup.step is Step.DONE)
        summary = text_of(pilot, "#done-summary")
        assert "#alpha" in summary and f"https://discord.com/channels/{guild.id}/" in summary
        assert "Gemini key: not set" in summary
        await pilot.click("#done-finish")
        await until(pilot, lambda: app.result is not None)
    assert app.result is not None and app.result.completed
    assert app.result.app_id == str(APP_ID) and not app.result.gemini_key_saved
    assert len(app.result.channels) == 2


async def test_wizard_screen_back_gemini_and_cancel(
    tmp_path: Path,
    twin: DiscordTwin,
    memory_keyring: MemoryKeyring,
) -> None:
    setup = controller(tmp_path, twin, [], Links(), start=Step.GEMINI)
    twin.add_guild("Home")
    SecretStore(tmp_path / "data", env={}).set_bot_token(TOKEN)
    app = WizardApp(setup)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "step 1 of 2" in text_of(pilot, "#wizard-title"))
        await paste_into(pilot, "#gemini-input", "AIzaSyTestKey0123456789")
        await pilot.press("enter")
        await until(pilot, lambda: setup.step is Step.DONE)
        assert "Gemini key: saved" in text_of(pilot, "#done-summary")
        await pilot.press("escape")
        assert setup.step is Step.GEMINI
        await pilot.press("escape")
        assert setup.step is Step.GEMINI, "never before where this run started"
        await pilot.press("ctrl+x")
        await until(pilot, lambda: app.result is not None)
    assert app.result is not None and not app.result.completed and app.result.gemini_key_saved
    assert ("kimaki:" + str(tmp_path / "data"), "gemini-api-key") in memory_keyring.values


async def test_add_channels_start_needs_a_saved_token(tmp_path: Path, twin: DiscordTwin) -> None:
    setup = controller(tmp_path, twin, [], Links(), start=Step.PROJECTS)
    app = WizardApp(setup)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "kimaki setup" in text_of(pilot, "#wizard-error"))
        await pilot.press("ctrl+x")
        await until(pilot, lambda: app.result is not None)
    assert app.result is not None and not app.result.completed


async def test_add_channels_in_the_chosen_server(
    tmp_path: Path, twin: DiscordTwin, projects: list[str]
) -> None:
    """`--add-channels` in the TUI: the saved token is checked, then the channel goes where asked."""
    SecretStore(tmp_path / "data", env={}).set_bot_token(TOKEN)
    twin.add_guild("Home")
    work = twin.add_guild("Work")
    setup = controller(tmp_path, twin, projects, Links(), start=Step.PROJECTS)
    app = WizardApp(setup)
    async with app.run_test(size=(120, 40)) as pilot:
        listing = app.screen.query_one("#projects-list", SelectionList)
        await until(pilot, lambda: listing.option_count == 2)
        assert "step 1 of 3 · Pick projects" in text_of(pilot, "#wizard-title")
        assert app.screen.query_one("#guild-row").display, "two servers: the choice is shown"
        listing.select(projects[1])
        # Each key waits for the widget it is meant for: a key pressed before the list opened
        # would press the focused Create button (a channel in the wrong server).
        guilds = app.screen.query_one("#guild-select", Select)
        # From the keyboard: a click landed nowhere once under load (the list never opened).
        guilds.focus()
        await until(pilot, lambda: guilds.has_focus)
        await pilot.press("enter")
        await until(pilot, lambda: guilds.expanded)
        await pilot.press("down", "enter")
        await until(pilot, lambda: not guilds.expanded and guilds.value == str(work.id))
        await pilot.click("#projects-create")
        await until(pilot, lambda: setup.step is Step.GEMINI)
    [channel] = project_channels(twin)
    assert (channel.guild_id, channel.name) == (work.id, "beta-app")


@pytest.mark.parametrize(
    ("keyring_works", "allow_file", "promise"),
    [
        (True, False, "stored in your OS keyring"),
        (True, True, "stored in your OS keyring"),  # the keyring comes first: the file is not used
        (False, True, "stored in {path}"),
        (False, False, "you choose where it goes: {path}"),
    ],
)
async def test_the_token_page_says_where_the_token_goes(
    tmp_path: Path, twin: DiscordTwin, keyring_works: bool, allow_file: bool, promise: str
) -> None:
    setup = controller(tmp_path, twin, [], Links(), start=Step.TOKEN)
    setup.secrets.allow_file = allow_file  # as `--secrets-file` builds the store
    with contextlib.ExitStack() as stack:
        if not keyring_works:
            stack.enter_context(use_keyring(fail.Keyring()))  # type: ignore[no-untyped-call]
        app = WizardApp(setup)
        async with app.run_test(size=(120, 40)) as pilot:
            text = " ".join(text_of(pilot, "#token .instructions").split())
    assert promise.format(path=setup.secrets.file_path) in text
    assert ("OS keyring" in text and "no OS keyring" not in text) is keyring_works


async def test_without_a_keyring_the_token_goes_to_the_file_chosen_in_place(
    tmp_path: Path, twin: DiscordTwin
) -> None:
    """No OS keyring and no --secrets-file: the checked token is not lost; the file is offered, the
    choice is remembered in config.toml, and later runs read the token from there."""
    setup = controller(tmp_path, twin, [], Links(), start=Step.TOKEN)
    data_dir = setup.secrets.data_dir
    with use_keyring(fail.Keyring()):  # type: ignore[no-untyped-call]
        with pytest.raises(TokenNotStored, match="KIMAKI_BOT_TOKEN"):
            await setup.submit_token(TOKEN)
        assert not setup.can_advance() and setup.identity is not None
        assert setup.store_token_in_file() == "file"
        assert setup.can_advance()
        assert load_settings({"data_dir": str(data_dir)}, env={}).secrets_file
        later = open_secrets(load_settings({"data_dir": str(data_dir)}, env={}), env={})
        assert later.get_bot_token() == TOKEN


async def test_projects_step_when_opencode_is_not_up_yet(tmp_path: Path, twin: DiscordTwin) -> None:
    """The wizard's projects step before OpenCode is healthy: a clear error, and the step stays
    usable (folders can still be added by path) — the control center used to crash here."""

    async def unreachable() -> list[str]:
        raise OpenCodeUnavailable("OpenCode is unreachable at http://127.0.0.1:9")

    setup = SetupController(SecretStore(tmp_path / "data", env={}), known_projects=unreachable)
    with pytest.raises(SetupError, match="cannot be listed yet"):
        await setup.project_choices()
