"""Moving from kimaki, as the user meets it: the real `kimaki import-kimaki` process, the setup
wizard's offer, and the real `kimaki --no-tui` starting beside kimaki's database."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from kimaki_tui.cli import setup_prompts
from kimaki_tui.database_file import KIMAKI_DB_NAME, OWN_DB_NAME
from kimaki_tui.discord_rest import DiscordRest
from kimaki_tui.migrate_kimaki import KimakiOffer
from kimaki_tui.screens.confirm import ConfirmScreen
from kimaki_tui.secrets import SecretStore
from kimaki_tui.setup import SetupController, Step
from kimaki_tui.store.repo import Store
from kimaki_tui.testing.discord_twin import DiscordTwin
from tests.keyring_backend import MemoryKeyring, use_keyring
from tests.kimaki_rig import GEMINI_KEY, KimakiWorld, kimaki_files, make_world
from tests.process_rig import free_port, kimaki_cli, kimaki_env, read_until, start_kimaki
from tests.setup_rig import APP_ID, TOKEN, running_twin
from tests.test_wizard import WizardApp, until

ENTER = "\r"


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    with use_keyring(MemoryKeyring()) as backend:
        yield backend


@pytest.fixture
async def twin() -> AsyncIterator[DiscordTwin]:
    async with running_twin() as running:
        yield running


@pytest.fixture
def world(twin: DiscordTwin, tmp_path: Path) -> KimakiWorld:
    return make_world(twin, tmp_path)


def cli_env(twin: DiscordTwin) -> dict[str, str]:
    """No keyring in the child (never the user's): the token goes to the opt-in secrets file."""
    env = {k: v for k, v in os.environ.items() if k not in ("KIMAKI_BOT_TOKEN", "GEMINI_API_KEY")}
    return (
        env
        | twin.env()
        | {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "KIMAKI_SECRETS_FILE": "1"}
    )


def only_the_file_warning(err: str) -> bool:
    """stderr says nothing but the plain-text secrets file warning (KIMAKI_SECRETS_FILE=1)."""
    return all("Secrets are stored in plain text" in line for line in err.splitlines())


async def test_import_kimaki_command(world: KimakiWorld, tmp_path: Path) -> None:
    data = world.db.parent
    env = cli_env(world.twin)
    before = kimaki_files(world.db)

    code, out, err = await kimaki_cli(env, "import-kimaki", "--data-dir", str(data), "--dry-run")
    assert (
        code == 0
        and only_the_file_warning(err)
        and "3 would import" in out
        and "Dry run: nothing was written." in out
    )
    assert not (data / OWN_DB_NAME).exists() and not (data / "secrets.json").exists()

    code, out, err = await kimaki_cli(env, "import-kimaki", "--data-dir", str(data))
    assert code == 0 and only_the_file_warning(err)
    assert "thread ↔ session map       3 imported, 1 skipped  (thread_sessions)" in out
    assert TOKEN not in out and GEMINI_KEY not in out
    stored = json.loads((data / "secrets.json").read_text())
    assert stored == {"bot-token": TOKEN, "gemini-api-key": GEMINI_KEY}
    with Store.open(data / OWN_DB_NAME) as store:
        assert len(store.list_channels()) == 2 and len(store.list_threads()) == 3
        assert len(store.list_tasks()) == 4

    code, out, _ = await kimaki_cli(env, "import-kimaki", "--data-dir", str(data))
    assert code == 0 and " 1 imported" not in out and "3 already there" in out
    assert kimaki_files(world.db) == before

    code, _, err = await kimaki_cli(
        env, "import-kimaki", "--data-dir", str(data), "--from", str(tmp_path / "nope.db")
    )
    assert code == 2 and err.startswith("kimaki: --from: no such file")
    code, _, err = await kimaki_cli(
        env, "import-kimaki", "--data-dir", str(data), "--from", str(data / OWN_DB_NAME)
    )
    assert code == 2 and "is kimaki-tui's own database" in err
    other = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE notes (id integer PRIMARY KEY)")
    code, _, err = await kimaki_cli(env, "import-kimaki", "--data-dir", str(data), "--from", str(other))
    assert code == 2 and "--from:" in err and "is not a kimaki database" in err
    empty = tmp_path / "empty"
    code, _, err = await kimaki_cli(env, "import-kimaki", "--data-dir", str(empty))
    assert code == 2 and "no kimaki database" in err and "--from" in err


async def test_the_wizard_offers_the_import_and_skips_to_the_server(
    world: KimakiWorld, pipe: PipeInput
) -> None:
    data = world.db.parent
    secrets = SecretStore(data, env={})
    with Store.open(data / OWN_DB_NAME) as store:
        setup = SetupController(
            secrets,
            api=DiscordRest(base_url=world.twin.api_url),
            kimaki=KimakiOffer.find(data, store.path, secrets, api_url=world.twin.api_url),
        )
        assert setup.kimaki_offer is not None and "2 bots, 3 channels, 4 threads" in setup.kimaki_offer
        pipe.send_text("y")  # import
        pipe.send_text(ENTER)  # no more project directories
        pipe.send_text(ENTER)  # no new Gemini key
        said: list[str] = []
        try:
            result = await asyncio.wait_for(
                setup_prompts.run_prompts(setup, echo=said.append, input=pipe, output=DummyOutput()), 60
            )
        finally:
            await setup.aclose()
        text = "\n".join(said)
        assert result.completed and result.app_id == str(APP_ID)
        assert "── Moving from kimaki ──" in text and "2 imported, 1 skipped  (channel_directories)" in text
        assert "── Step 5/8 · Waiting for the bot to join ──" in text and "Paste the bot token" not in text
        assert "✓ The bot is in: Home" in text and "Gemini key: already set (keyring)" in text
        assert len(store.list_threads()) == 3
    assert secrets.get_bot_token() == TOKEN


async def test_the_control_center_wizard_offers_the_import(world: KimakiWorld) -> None:
    data = world.db.parent
    secrets = SecretStore(data, env={})
    with Store.open(data / OWN_DB_NAME) as store:
        offer = KimakiOffer.find(data, store.path, secrets, api_url=world.twin.api_url)
        setup = SetupController(secrets, api=DiscordRest(base_url=world.twin.api_url), kimaki=offer)
        app = WizardApp(setup)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            assert "5 scheduled tasks" in str(app.screen.query_one("#question").render())
            await pilot.press("y")
            # The imported token is checked, the bot is already in Home: on to the projects.
            await until(pilot, lambda: setup.step is Step.PROJECTS)
        assert len(store.list_threads()) == 3 and setup.identity is not None
    assert secrets.get_bot_token() == TOKEN


async def test_declining_the_offer_runs_the_usual_wizard(world: KimakiWorld, pipe: PipeInput) -> None:
    data = world.db.parent
    secrets = SecretStore(data, env={})
    with Store.open(data / OWN_DB_NAME) as store:
        offer = KimakiOffer.find(data, store.path, secrets, api_url=world.twin.api_url)
        late = SetupController(secrets, kimaki=offer, start=Step.PROJECTS)
        assert late.kimaki_offer is None  # `--add-channels` is not the moment
        setup = SetupController(secrets, api=DiscordRest(base_url=world.twin.api_url), kimaki=offer)
        pipe.send_text("n")  # not now
        pipe.send_text("\x03")  # then leave the wizard at its first step
        said: list[str] = []
        try:
            await setup_prompts.run_prompts(setup, echo=said.append, input=pipe, output=DummyOutput())
        finally:
            await setup.aclose()
            await late.aclose()
        assert "Not imported (`kimaki import-kimaki` does it later)." in said
        assert "\n── Step 1/8 · Create a Discord application ──" in said
        assert store.list_channels() == []
    assert secrets.get_bot_token() is None


@pytest.fixture
def pipe() -> Iterator[PipeInput]:
    with create_pipe_input() as pipe_input:
        yield pipe_input


@pytest.mark.opencode
async def test_kimaki_starts_beside_a_kimaki_database(
    opencode_binary: str, spare_opencode_env: dict[str, str], tmp_path: Path
) -> None:
    """kimaki's `discord-sessions.db` in the data dir: kimaki-tui starts with its own file, says
    so once, and leaves kimaki's file exactly as it was."""
    async with DiscordTwin(bot_token=TOKEN, app_id=APP_ID) as twin:
        world = make_world(twin, tmp_path)
        data = world.db.parent
        before = kimaki_files(world.db)
        env = kimaki_env(twin, spare_opencode_env, opencode_binary, free_port())
        proc = await start_kimaki(data, env, asyncio.subprocess.DEVNULL)
        try:
            assert proc.stderr is not None
            said = await read_until(proc.stderr, "kimaki: ready", 60)
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 30)
        notice = [line for line in said if "kimaki import-kimaki" in line]
        assert len(notice) == 1 and str(data / KIMAKI_DB_NAME) in notice[0] and OWN_DB_NAME in notice[0]
        assert code == 0 and (data / OWN_DB_NAME).exists()
        assert kimaki_files(world.db) == before
        twin.assert_clean()
