"""`kimaki demo [DIR]`: try kimaki with no Discord account and no API key — a local Discord twin,
a real OpenCode on a scripted model (or, with --real-model, your own OpenCode configuration), the
bot and the control center with a Discord view. `--script FILE` replays a script and prints the
transcript instead (see kimaki_tui.demo.script for the format)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="try kimaki offline: a local fake Discord, OpenCode on a scripted model, the control center",
        description="Run the whole product on this machine with no Discord account and no API key: a "
        "local Discord twin with a project channel for DIR (default: a fresh sample git project), the "
        "real `opencode serve` answering from a scripted model, the bot, and the control center with a "
        "Discord view where you type as the demo user. Your ~/.kimaki, keyring and Discord are not used.",
    )
    demo.add_argument("directory", nargs="?", metavar="DIR", help="the project to open (default: a sample)")
    demo.add_argument(
        "--data-dir",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="keep the demo's database and log here (default: a temporary directory)",
    )
    demo.add_argument(
        "--real-model",
        action="store_true",
        help="use your own OpenCode configuration and model instead of the scripted one",
    )
    demo.add_argument(
        "--script",
        metavar="FILE",
        help="replay the actions in FILE (say:, new:, click:, select:, slash:, wait:), print the transcript",
    )
    demo.add_argument(
        "--no-tui", action="store_true", default=argparse.SUPPRESS, help="no control center (needs --script)"
    )
    demo.set_defaults(handler=run_demo_command)


def run_demo_command(args: argparse.Namespace) -> int:
    from kimaki_tui.demo.runner import DemoOptions, run_demo

    no_tui = bool(getattr(args, "no_tui", False))
    if no_tui and not args.script:
        print("kimaki demo: --no-tui needs --script FILE (what should the demo user do?)", file=sys.stderr)
        return 2
    if not args.script and not (sys.stdin.isatty() and sys.stdout.isatty()):
        print("kimaki demo: the control center needs a terminal; use --script FILE", file=sys.stderr)
        return 2
    data_dir = getattr(args, "data_dir", None)
    options = DemoOptions(
        project=Path(args.directory).expanduser() if args.directory else None,
        data_dir=Path(data_dir).expanduser() if data_dir else None,
        real_model=args.real_model,
        script=Path(args.script) if args.script else None,
        tui=not args.script,
    )
    return run_demo(options, sys.stdout, sys.stderr)
