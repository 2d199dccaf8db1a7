"""`kimaki upgrade [--skip-restart]`: upgrade kimaki-tui the way it was installed (pip, pipx, uv tool,
or an editable git checkout), then restart the kimaki running for this data dir."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kimaki_tui.upgrade import Upgrader


NOT_RUNNING = "No kimaki is running for this data dir; start it to use the new version."


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "upgrade",
        help="upgrade kimaki-tui and restart the running kimaki",
        description="Upgrade kimaki-tui with the tool it was installed with (pip, pipx, uv tool, or "
        "`git pull` for an editable checkout), then restart the running kimaki in place.",
    )
    parser.add_argument(
        "--skip-restart", action="store_true", help="upgrade only; the running kimaki keeps the old version"
    )
    parser.set_defaults(handler=run_upgrade)


def _say(text: str, *, error: bool = False) -> None:
    print(text, file=sys.stderr if error else sys.stdout, flush=True)


def run_upgrade(args: argparse.Namespace, upgrader: Upgrader | None = None) -> int:
    from kimaki_tui.cli.local import settings_of
    from kimaki_tui.upgrade import Upgrader, UpgradeRefused

    settings = settings_of(args, create=False)
    upgrader = upgrader or Upgrader(lock_port=settings.lock_port)
    try:
        plan = upgrader.plan()
    except UpgradeRefused as exc:
        _say(f"kimaki: {exc}", error=True)
        return 1
    steps = " && ".join(" ".join(command) for command in plan.commands)
    _say(f"kimaki-tui is {plan.description}; upgrading with: {steps}")
    outcome = asyncio.run(upgrader.upgrade())
    if not outcome.ok:
        _say(f"kimaki: the upgrade failed:\n{outcome.output.strip()[-3000:]}", error=True)
        return 1
    if not outcome.changed:
        _say(f"Already on the latest version ({outcome.after}).")
        return 0
    _say(f"Upgraded kimaki-tui {outcome.before} → {outcome.after}.")
    if args.skip_restart:
        _say("Not restarting (--skip-restart): restart kimaki to use the new version.")
        return 0
    restarted = asyncio.run(upgrader.restart(settings.data_dir))
    _say("Restarting the running kimaki." if restarted else NOT_RUNNING)
    return 0
