"""`kimaki setup`: the setup wizard on the command line (questionary), for terminals without the
control center (`--no-tui`) and for re-runs (`--restart-onboarding`, `--add-channels`).

The steps and rules are kimaki_tui.setup's SetupController; this module only asks and prints.
Without a terminal it never prompts: it says which environment variable to set instead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kimaki_tui.cli.setup_prompts import Echo, answer, prompt_io, run_prompts

if TYPE_CHECKING:
    from prompt_toolkit.input import Input
    from prompt_toolkit.output import Output

    from kimaki_tui.secrets import SecretStore
    from kimaki_tui.settings import Settings
    from kimaki_tui.setup import KnownProjects

NO_TTY = (
    "kimaki: no Discord bot token, and no terminal to run the setup wizard in.\n"
    "Set KIMAKI_BOT_TOKEN to your bot's token (Developer Portal → your application → Bot → "
    "Reset Token), or run `kimaki setup` once in a terminal."
)


def register(subparsers: Any) -> None:
    setup = subparsers.add_parser(
        "setup",
        help="run the setup wizard (Discord bot, project channels, API keys)",
        description="Walk through creating the Discord bot, adding it to a server, creating project "
        "channels and storing the keys. The token is checked with Discord and kept in the OS keyring.",
    )
    setup.add_argument("--data-dir", metavar="PATH", default=argparse.SUPPRESS, help="the data dir to set up")
    setup.add_argument(
        "--restart-onboarding",
        action="store_true",
        help="start over without asking, even when a bot token is already saved",
    )
    setup.add_argument(
        "--add-channels",
        action="store_true",
        help="skip to picking projects and creating their channels (uses the saved token)",
    )
    setup.add_argument(
        "--secrets-file",
        action="store_const",
        const=True,
        default=argparse.SUPPRESS,  # the `secrets_file` setting: the environment or config.toml may say
        help="when no OS keyring works, store secrets in <data-dir>/secrets.json (mode 0600, plain text)",
    )
    setup.set_defaults(handler=run_setup_command)


def run_setup_command(args: argparse.Namespace) -> int:
    from kimaki_tui.cli.local import settings_of

    return run_setup(settings_of(args), restart=args.restart_onboarding, add_channels=args.add_channels)


def run_setup(
    settings: Settings,
    *,
    env: Mapping[str, str] = os.environ,
    restart: bool = False,
    add_channels: bool = False,
    interactive: bool | None = None,
    known_projects: KnownProjects | None = None,
    input: Input | None = None,
    output: Output | None = None,
    echo: Echo | None = None,
) -> int:
    """The whole command, before any event loop runs: 0 done (or nothing to do), 1 cancelled or
    failed, 2 no terminal and no token. `interactive` defaults to "stdin and stdout are terminals";
    `env` is the process environment (the secret variables, and what OpenCode runs with)."""
    from kimaki_tui.root.offline import open_secrets

    say = echo or _print
    secrets = open_secrets(settings, env)
    if secrets.warning:
        _warn(secrets.warning)
    if interactive is None:
        interactive = sys.stdin.isatty() and sys.stdout.isatty()
    has_token = secrets.get_bot_token() is not None
    if not interactive:
        if has_token and not (restart or add_channels):
            return 0
        _warn(NO_TTY if not has_token else "kimaki: `kimaki setup` needs a terminal.")
        return 2
    try:
        return asyncio.run(
            _run(
                settings,
                env,
                secrets,
                restart=restart,
                add_channels=add_channels,
                has_token=has_token,
                known_projects=known_projects,
                io=prompt_io(input, output),
                echo=say,
            )
        )
    except KeyboardInterrupt:
        say("Setup cancelled.")
        return 1


async def _run(
    settings: Settings,
    env: Mapping[str, str],
    secrets: SecretStore,
    *,
    restart: bool,
    add_channels: bool,
    has_token: bool,
    known_projects: KnownProjects | None,
    io: dict[str, Any],
    echo: Echo,
) -> int:
    import questionary

    from kimaki_tui.core.offline import opencode_projects_from_new_server
    from kimaki_tui.migrate_kimaki import KimakiOffer
    from kimaki_tui.root.offline import open_core
    from kimaki_tui.setup import SetupController, Step
    from kimaki_tui.setup.projects import project_directories

    if has_token and not (restart or add_channels):
        question = "A bot token is already saved. Run the whole setup again?"
        if not await answer(questionary.confirm(question, default=False, **io)):
            echo("Nothing changed. (`kimaki setup --add-channels` adds project channels.)")
            return 0

    async def from_new_server() -> list[str]:
        found = await opencode_projects_from_new_server(env, binary=settings.opencode.path)
        return project_directories(found)

    api_url = settings.discord.api_url
    core = open_core(settings)
    setup = SetupController(
        secrets,
        api_url=api_url,
        known_projects=known_projects or from_new_server,
        link=core.projects.link,
        linked_directories=lambda: {link.directory for link in core.projects.links()},
        approve_guild=lambda guild_id: core.guilds.allow(guild_id, by="setup wizard"),
        start=Step.PROJECTS if add_channels else Step.CREATE_APP,
        kimaki=KimakiOffer.find(settings.data_dir, settings.db_path, secrets, api_url),
    )
    try:
        result = await run_prompts(setup, echo=echo, **io)
    finally:
        await setup.aclose()
        core.close()
    return 0 if result.completed else 1


def _print(text: str) -> None:
    print(text, flush=True)


def _warn(text: str) -> None:
    with contextlib.suppress(OSError):
        print(text, file=sys.stderr, flush=True)
