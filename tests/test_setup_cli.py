"""`kimaki setup`: the questionary wizard driven through prompt_toolkit's pipe input against the
Discord twin, the real OpenCode's project list, and the no-terminal message."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from kimaki_tui.cli import setup_cmd, setup_prompts
from kimaki_tui.core.offline import opencode_projects_from_new_server
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.secrets import SecretStore
from kimaki_tui.settings import DiscordSettings, Settings
from kimaki_tui.setup import Step
from kimaki_tui.setup.projects import project_directories
from kimaki_tui.store.repo import Store
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

ENTER, DOWN, SPACE = "\r", "\x1b[B", " "


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


@pytest.fixture
def pipe() -> Iterator[PipeInput]:
    with create_pipe_input() as pipe_input:
        yield pipe_input


async def test_cli_wizard_end_to_end(
    tmp_path: Path,
    twin: DiscordTwin,
    projects: list[str],
    pipe: PipeInput,
    memory_keyring: MemoryKeyring,
) -> None:
    links = Links()
    setup = controller(tmp_path, twin, projects[:1], links)
    extra = tmp_path / "extra project"
    extra.mkdir()
    # Everything the person types, in order; prompt_toolkit keeps typeahead for the next prompt.
    pipe.send_text(ENTER + ENTER)  # "done" on the two explanation steps
    pipe.send_text("hello" + ENTER + WRONG_TOKEN + ENTER + TOKEN + ENTER)
    pipe.send_text("y")  # open the install link in the browser
    pipe.send_text(SPACE + ENTER)  # tick the one known project
    pipe.send_text(str(extra) + ENTER + ENTER)  # one more directory, then done
    pipe.send_text("AIzaSyTestKey0123456789" + ENTER)
    said: list[str] = []
    opened: list[str] = []

    def open_url(url: str) -> bool:
        opened.append(url)
        return True

    asyncio.get_running_loop().call_later(0.5, lambda: twin.add_guild("Home"))

    result = await asyncio.wait_for(
        setup_prompts.run_prompts(
            setup,
            echo=said.append,
            open_url=open_url,
            poll_interval=0.05,
            input=pipe,
            output=DummyOutput(),
        ),
        60,
    )
    text = "\n".join(said)
    assert result.completed and result.gemini_key_saved and result.app_id == str(APP_ID)
    assert "✗ This is not a bot token." in text
    assert "✗ Discord rejected this token (401)." in text
    assert f"✓ Bot Kimaki · application id {APP_ID}" in text
    assert TOKEN not in text and f"token {TOKEN[:4]}…{TOKEN[-4:]} saved (keyring)" in text
    assert opened == [setup.install_url]
    assert f"client_id={APP_ID}&permissions={PERMISSIONS}&scope=bot+applications.commands" in text
    assert "✓ The bot is in: Home" in text
    assert sorted(c.name for c in project_channels(twin)) == ["alpha", "extra-project"]
    assert [call[2] for call in links.calls] == [projects[0], str(extra)]
    assert "── Step 8/8 · Done ──" in text and "Gemini key: saved" in text
    store = SecretStore(tmp_path / "data", env={})
    assert store.get_bot_token() == TOKEN and store.get_gemini_key() == "AIzaSyTestKey0123456789"


async def test_ctrl_c_cancels_without_saving(
    tmp_path: Path,
    twin: DiscordTwin,
    pipe: PipeInput,
    memory_keyring: MemoryKeyring,
) -> None:
    setup = controller(tmp_path, twin, [], Links(), start=Step.TOKEN)
    pipe.send_text("\x03")
    said: list[str] = []
    result = await setup_prompts.run_prompts(setup, echo=said.append, input=pipe, output=DummyOutput())
    assert not result.completed and "Setup cancelled." in said
    assert memory_keyring.values == {}


@pytest.mark.opencode
async def test_add_channels_lists_opencode_projects_and_links_them(
    tmp_path: Path,
    twin: DiscordTwin,
    opencode_client: OpenCodeClient,
    project_dir: Path,
    pipe: PipeInput,
) -> None:
    """`kimaki setup --add-channels`: the saved token, the real OpenCode's projects, the database link."""
    await opencode_client.list_sessions(directory=project_dir)  # OpenCode now knows this project
    known = project_directories(await opencode_client.projects())
    assert str(project_dir) in known
    data_dir = tmp_path / "data"
    SecretStore(data_dir, env={}).set_bot_token(TOKEN)
    guild = twin.add_guild("Home")
    choices = list(known)

    async def listed() -> list[str]:
        return choices

    position = choices.index(str(project_dir))
    pipe.send_text(DOWN * position + SPACE + ENTER + ENTER + ENTER)  # tick it, no extra dir, skip Gemini
    said: list[str] = []
    code = await asyncio.to_thread(
        setup_cmd.run_setup,
        Settings(data_dir=data_dir, discord=DiscordSettings(api_url=twin.api_url)),
        env={},
        add_channels=True,
        interactive=True,
        known_projects=listed,
        input=pipe,
        output=DummyOutput(),
        echo=said.append,
    )
    assert code == 0, "\n".join(said)
    assert "\n── Step 1/3 · Pick projects ──" in said
    [channel] = project_channels(twin)
    with Store.open(data_dir / "discord-sessions.db") as store:
        [link] = store.list_channels()
    assert (link.channel_id, link.guild_id, link.directory) == (
        str(channel.id),
        str(guild.id),
        str(project_dir),
    )
    assert link.app_id == str(APP_ID)


def test_no_terminal_and_no_token_names_the_env_var(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert setup_cmd.run_setup(Settings(data_dir=tmp_path), env={}, interactive=False) == 2
    err = capsys.readouterr().err
    assert "KIMAKI_BOT_TOKEN" in err and "no terminal" in err


def test_no_terminal_with_a_token_has_nothing_to_do(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert setup_cmd.run_setup(settings, env={"KIMAKI_BOT_TOKEN": TOKEN}, interactive=False) == 0


def test_a_saved_token_asks_before_starting_over(tmp_path: Path, pipe: PipeInput) -> None:
    SecretStore(tmp_path, env={}).set_bot_token(TOKEN)
    pipe.send_text("n")
    said: list[str] = []
    settings = Settings(data_dir=tmp_path)
    code = setup_cmd.run_setup(
        settings, env={}, interactive=True, input=pipe, output=DummyOutput(), echo=said.append
    )
    assert code == 0 and any("Nothing changed" in line for line in said)


def test_setup_subcommand_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser(prog="kimaki")
    setup_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["setup", "--data-dir", str(tmp_path), "--add-channels", "--secrets-file"])
    assert (args.add_channels, args.secrets_file, args.restart_onboarding) == (True, True, False)
    monkeypatch.delenv("KIMAKI_BOT_TOKEN", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert args.handler(args) == 2  # pytest's stdin is no terminal
    captured = capsys.readouterr().err
    assert "KIMAKI_BOT_TOKEN" in captured and "plain text" in captured  # --secrets-file warns


@pytest.mark.opencode
async def test_known_projects_from_a_short_lived_server(
    opencode_client: OpenCodeClient, opencode_env: dict[str, str], opencode_binary: str, project_dir: Path
) -> None:
    """What `kimaki setup` does outside the app: start OpenCode, list its projects, stop it."""
    import psutil

    await opencode_client.list_sessions(directory=project_dir)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    found = await opencode_projects_from_new_server(opencode_env, binary=opencode_binary, timeout=60)
    assert str(project_dir) in project_directories(found)
    after = {p.pid for p in psutil.Process().children(recursive=True)}
    assert after <= before, "the short-lived server is gone"
    assert await opencode_projects_from_new_server({}, binary="/nonexistent/opencode") == []


async def test_a_stray_loop_error_during_a_question_goes_to_the_log(
    tmp_path: Path,
    twin: DiscordTwin,
    pipe: PipeInput,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An error some other task leaves on the loop while a question waits (here: reported just as
    the token question opens) is logged; prompt_toolkit's own handler would print it and ask for
    Enter on the real terminal instead, and on a closed stdin ask again without end."""
    setup = controller(tmp_path, twin, [], Links(), start=Step.TOKEN)
    loop = asyncio.get_running_loop()
    said: list[str] = []

    def echo(line: str) -> None:
        said.append(line)
        if "Step" in line:  # the heading: the question opens in this same loop round
            loop.call_soon(loop.call_exception_handler, {"message": "stray error from elsewhere"})
            pipe.send_text("\x03")

    with caplog.at_level("ERROR", logger="asyncio"):
        result = await setup_prompts.run_prompts(setup, echo=echo, input=pipe, output=DummyOutput())
    assert not result.completed and "Setup cancelled." in said
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == ["stray error from elsewhere"]
    assert "Unhandled exception" not in capsys.readouterr().out
    assert not [t for t in asyncio.all_tasks() if "in_term" in repr(t.get_coro())]
