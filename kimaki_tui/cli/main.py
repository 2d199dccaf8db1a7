"""The `kimaki` command: parse the arguments, then run the bot with its control center or a subcommand.

Module imports stay light so `kimaki --help` is fast: the application (Discord, Textual, httpx)
and each subcommand's machinery load only inside the function that needs them.

Start-up failures the user can fix (a damaged or empty database, a read-only data dir, a full
disk, a database from a newer version) are turned into one line here, and only here: `kimaki:
<problem> <hint>` on stderr, the same line in the log when the log is writable, exit code 1.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from kimaki_tui import __version__
from kimaki_tui.cli import (
    demo_cmd,
    events_cmd,
    guild_cmd,
    project_cmd,
    send_cmd,
    session_cmd,
    setup_cmd,
    task_cmd,
    upgrade_cmd,
    upload_cmd,
)

# Each subcommand module offers `register(subparsers)`, which sets a `handler(args) -> int` default.
_SUBCOMMANDS = (
    events_cmd,
    setup_cmd,
    upgrade_cmd,
    send_cmd,
    task_cmd,
    project_cmd,
    guild_cmd,
    upload_cmd,
    session_cmd,
    demo_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kimaki",
        description="Drive OpenCode coding sessions from Discord, with a terminal control center.",
    )
    parser.add_argument(
        "--data-dir",
        metavar="PATH",
        help="where the database and the log live (default: $KIMAKI_DATA_DIR or ~/.kimaki)",
    )
    parser.add_argument("--no-tui", action="store_true", help="run headless, without the control center")
    parser.add_argument(
        "--replace",
        action="store_true",
        help="stop the kimaki already running for this data dir and take over",
    )
    parser.add_argument("--restart-onboarding", action="store_true", help="run the setup wizard again")
    parser.add_argument("--add-channels", action="store_true", help="open the wizard at the project step")
    parser.add_argument(
        "--secrets-file",
        action="store_true",
        help="when no OS keyring works, keep secrets in <data-dir>/secrets.json (mode 0600, plain text)",
    )
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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = getattr(args, "handler", None)
    try:
        return int(handler(args)) if handler is not None else _run_app(args)
    except Exception as exc:
        line = _startup_failure(exc, getattr(args, "data_dir", None))
        if line is None:
            raise
        return 1


def _startup_failure(exc: Exception, data_dir: str | None) -> str | None:
    """Report a failure the user can fix (one line on stderr, and in the log when there is one)
    and return that line; None for anything else (a bug keeps its traceback)."""
    import logging
    import sys

    from kimaki_tui.config import resolve_data_dir
    from kimaki_tui.errors import one_line, startup_error
    from kimaki_tui.logs import file_logging_active

    problem = startup_error(exc, resolve_data_dir(data_dir, create=False))
    if problem is None:
        return None
    text = one_line(problem)
    print(f"kimaki: {text}", file=sys.stderr, flush=True)
    if file_logging_active():
        logging.getLogger("kimaki_tui.cli").error("cannot start: %s", text)
    return text


def _run_app(args: argparse.Namespace) -> int:
    """The root command: the bot and (on a terminal, unless --no-tui) the control center."""
    import sys

    from kimaki_tui.app import RunOptions, run
    from kimaki_tui.config import load_settings
    from kimaki_tui.logs import setup_logging

    terminal = sys.stdin.isatty() and sys.stdout.isatty()
    tui = terminal and not args.no_tui
    settings = load_settings(args.data_dir, no_tui=not tui)
    wizard = args.restart_onboarding or args.add_channels
    if not tui and (wizard or _needs_setup(settings.data_dir, args.secrets_file)) and terminal:
        # Headless on a terminal: the questionary wizard runs before any event loop.
        code = setup_cmd.run_setup(
            settings.data_dir,
            restart=args.restart_onboarding,
            add_channels=args.add_channels,
            allow_secrets_file=args.secrets_file,
        )
        if code != 0:
            return code
    setup_logging(settings.log_path, ring_capacity=10_000)
    options = RunOptions(
        tui=tui,
        replace=args.replace,
        allow_secrets_file=args.secrets_file,
        reset_database=args.reset_database,
        restart_onboarding=args.restart_onboarding and tui,
        add_channels=args.add_channels and tui,
    )
    return int(run(settings, options))


def _needs_setup(data_dir: object, allow_file: bool) -> bool:
    from pathlib import Path

    from kimaki_tui.secrets import SecretStore
    from kimaki_tui.setup.controller import needs_setup

    return needs_setup(SecretStore(Path(str(data_dir)), allow_file=allow_file))
