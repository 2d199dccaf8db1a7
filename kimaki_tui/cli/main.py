"""The `kimaki` command: parse the arguments, then run the bot with its control center or a subcommand.

Module imports stay light so `kimaki --help` is fast: the application (Discord, Textual, httpx)
and each subcommand's machinery load only inside the function that needs them.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from kimaki_tui import __version__
from kimaki_tui.cli import events_cmd

# Each subcommand module offers `register(subparsers)`, which sets a `handler(args) -> int` default.
_SUBCOMMANDS = (events_cmd,)


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
    parser.add_argument("--version", action="version", version=f"kimaki {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for module in _SUBCOMMANDS:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is not None:
        return int(handler(args))
    return _run_app(args)


def _run_app(args: argparse.Namespace) -> int:
    """The root command: the bot and (unless --no-tui) the control center, until stopped."""
    from kimaki_tui.app import run
    from kimaki_tui.config import load_settings
    from kimaki_tui.logs import setup_logging

    settings = load_settings(args.data_dir, no_tui=args.no_tui)
    setup_logging(settings.log_path)
    return int(run(settings))
