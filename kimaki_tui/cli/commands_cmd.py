"""`kimaki commands sync`: make the running kimaki re-register its slash commands in every server,
so new or removed OpenCode agents, commands, MCP prompts and skills show (unchanged ones cost no
update: the commands are compared first)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from kimaki_tui.cli.local import CliError, add_data_dir, out, run, settings_of

# Reading every project's agents and commands and asking Discord takes longer than a status call.
SYNC_TIMEOUT = 120.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "commands",
        help="re-register the slash commands (after changing OpenCode agents, commands or skills)",
        description="The slash commands follow OpenCode's agents, commands, MCP prompts and skills of "
        "the projects linked in each server. kimaki registers them when it starts and after "
        "/restart-opencode-server; `sync` does it now.",
    )
    actions = parser.add_subparsers(dest="commands_command", metavar="ACTION", title="actions")
    parser.set_defaults(handler=lambda args: _usage(parser))
    sync = actions.add_parser("sync", help="re-register the running kimaki's slash commands now")
    add_data_dir(sync)
    sync.set_defaults(handler=run_sync)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_sync(args: argparse.Namespace) -> int:
    async def main() -> int:
        from kimaki_tui.cli.local import running_control
        from kimaki_tui.control_api import ControlError

        control = await running_control(settings_of(args))
        if control is None:
            raise CliError("no kimaki is running for this data dir; it registers its commands when it starts")
        try:
            servers = await dataclasses.replace(control, timeout=SYNC_TIMEOUT).commands_sync()
        except ControlError as exc:
            raise CliError(f"the running kimaki could not sync its commands: {exc}") from None
        plural = "s" if servers != 1 else ""
        out(f"Slash commands checked in {servers} server{plural} (sent where they changed).")
        return 0

    return run(main)
