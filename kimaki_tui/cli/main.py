"""The `kimaki` command: parse the arguments, then run the bot with its control center or a subcommand.

Module imports stay light so `kimaki --help` is fast: the application (Discord, Textual, httpx)
and each subcommand's machinery load only inside the function that needs them. Every setting of
the settings tree has its flag here (generated from the tree).

Start-up failures the user can fix (a damaged or empty database, a read-only data dir, a full
disk, a database from a newer version, another instance, OpenCode missing) are turned into one
line here, and only here: `kimaki: <problem> <hint>` on stderr, the same line in the log when the
log is writable, exit code 1 — or 2 for a setting whose value does not fit.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kimaki_tui import __version__
from kimaki_tui.cli import (
    bot_cmd,
    commands_cmd,
    demo_cmd,
    events_cmd,
    guild_cmd,
    import_cmd,
    project_cmd,
    send_cmd,
    session_cmd,
    setup_cmd,
    task_cmd,
    upgrade_cmd,
    upload_cmd,
)

if TYPE_CHECKING:
    from kimaki_tui.settings import Settings

# Each subcommand module offers `register(subparsers)`, which sets a `handler(args) -> int` default.
_SUBCOMMANDS = (
    events_cmd,
    setup_cmd,
    upgrade_cmd,
    send_cmd,
    task_cmd,
    project_cmd,
    guild_cmd,
    commands_cmd,
    bot_cmd,
    upload_cmd,
    session_cmd,
    import_cmd,
    demo_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kimaki",
        usage="%(prog)s [options] [COMMAND ...]",
        description="Drive OpenCode coding sessions from Discord, with a terminal control center.",
        # No prefix matching: a subcommand's `--all` must never be read as `--allow-all-users`.
        allow_abbrev=False,
    )
    add_setting_flags(parser)
    parser.add_argument(
        "--replace",
        action="store_true",
        help="stop the kimaki already running for this data dir and take over",
    )
    parser.add_argument(
        "--install-url",
        action="store_true",
        help="print the link that adds the bot to a server and exit (as `kimaki bot install-url`)",
    )
    parser.add_argument("--restart-onboarding", action="store_true", help="run the setup wizard again")
    parser.add_argument("--add-channels", action="store_true", help="open the wizard at the project step")
    parser.add_argument(
        "--reset-database",
        action="store_true",
        help="move the database aside (renamed <name>.broken-<time>) and start with an empty one; "
        "for a damaged or empty database",
    )
    parser.add_argument("--version", action="version", version=f"kimaki {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for module in _SUBCOMMANDS:
        module.register(subparsers)
    return parser


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per setting of the tree (None when not given, so the environment and config.toml
    still decide); yes/no settings get a flag that turns them on."""
    from kimaki_tui.settings import options

    group = parser.add_argument_group(
        "settings",
        "each is also an environment variable (in brackets) and a key in <data-dir>/config.toml; "
        "a flag wins over the variable, the variable over the file (table in the README)",
    )
    for option in options():
        text = f"{option.help} [{option.env}]".replace("%", "%%")
        if option.kind is bool:
            group.add_argument(option.flag, dest=option.key, action="store_const", const=True, help=text)
        elif option.repeatable:  # --enable-skill a --enable-skill b
            group.add_argument(
                option.flag, dest=option.key, action="append", metavar=option.metavar, help=text
            )
        else:
            group.add_argument(option.flag, dest=option.key, metavar=option.metavar, help=text)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None and args.install_url:
        args.app_id = None  # the token's application, as `kimaki bot install-url` without --app-id
        handler = bot_cmd.run_install_url
    try:
        return int(handler(args)) if handler is not None else _run_app(args)
    except Exception as exc:  # the command's boundary: a failure the user can fix is one line
        code = _startup_failure(exc, getattr(args, "data_dir", None))
        if code is None:
            raise
        return code


def _startup_failure(exc: Exception, data_dir: str | None) -> int | None:
    """Report a failure the user can fix (one line on stderr, and in the log when there is one)
    and return the exit code; None for anything else (a bug keeps its traceback)."""
    import logging
    import sys

    from kimaki_tui.errors import one_line, startup_error
    from kimaki_tui.logs import file_logging_active
    from kimaki_tui.settings import SettingsError, resolve_data_dir

    problem = startup_error(exc, resolve_data_dir(data_dir, create=False))
    if problem is None:
        return None
    text = one_line(problem)
    print(f"kimaki: {text}", file=sys.stderr, flush=True)
    if file_logging_active():
        logging.getLogger("kimaki_tui.cli").error("cannot start: %s", text)
    return 2 if isinstance(problem, SettingsError) else 1


def _run_app(args: argparse.Namespace) -> int:
    """The root command: the bot and (on a terminal, unless --no-tui) the control center."""
    import sys

    from kimaki_tui.cli.local import settings_of
    from kimaki_tui.logs import setup_logging
    from kimaki_tui.root.run import Launch, Wizard, run_kimaki

    settings = settings_of(args)
    terminal = sys.stdin.isatty() and sys.stdout.isatty()
    tui = terminal and not settings.no_tui
    wizard: Wizard | None = None
    if args.restart_onboarding or args.add_channels:
        wizard = "restart" if args.restart_onboarding else "add_channels"
    if not tui and (wizard or _needs_setup(settings)) and terminal:
        # Headless on a terminal: the questionary wizard runs before any event loop.
        code = setup_cmd.run_setup(settings, restart=args.restart_onboarding, add_channels=args.add_channels)
        if code != 0:
            return code
    setup_logging(
        settings.log_path, settings.log_level, ring_capacity=10_000, file_format=settings.log_format
    )
    _kimaki_notice(settings.data_dir, tell=not tui)
    launch = Launch(
        tui=tui, replace=args.replace, reset_database=args.reset_database, wizard=wizard if tui else None
    )
    return run_kimaki(settings, launch)


def _kimaki_notice(data_dir: Path, *, tell: bool) -> None:
    """On the first start beside kimaki's database: say that kimaki-tui keeps its own file and how
    to import kimaki's (on stderr when headless; always in the log)."""
    import logging
    import sys

    from kimaki_tui.database_file import choose_database

    notice = choose_database(data_dir).notice
    if notice is None:
        return
    logging.getLogger("kimaki_tui.cli").warning("%s", notice)
    if tell:
        print(f"kimaki: {notice}", file=sys.stderr, flush=True)


def _needs_setup(settings: Settings) -> bool:
    from kimaki_tui.root.offline import open_secrets
    from kimaki_tui.setup.controller import needs_setup

    return needs_setup(open_secrets(settings))
