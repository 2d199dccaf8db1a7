"""`kimaki guild list|allow|deny`: which Discord servers kimaki serves (kimaki_tui.core.guilds).

Works whether or not kimaki is running: the decision goes to the database, and a running kimaki
is told through its control API so it registers (or removes) its commands in that server at once.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, Literal

from kimaki_tui.cli.local import CliError, add_data_dir, out, run, settings_of, table
from kimaki_tui.root.offline import open_core

if TYPE_CHECKING:
    from kimaki_tui.core.api import GuildRecord


def register(subparsers: Any) -> None:
    guild = subparsers.add_parser(
        "guild",
        help="list the Discord servers the bot is in; allow or deny one",
        description="A server is served when its owner is the bot application's owner (or a member of "
        "its team), or when you allow it here. Others wait for your decision.",
    )
    actions = guild.add_subparsers(dest="guild_command", metavar="ACTION", title="actions")
    guild.set_defaults(handler=lambda args: _usage(guild))
    listing = actions.add_parser("list", help="the servers and whether kimaki serves them")
    add_data_dir(listing)
    listing.set_defaults(handler=run_list)
    for name, decision, help_text in (
        ("allow", "allowed", "serve this server (commands, messages)"),
        ("deny", "denied", "never serve this server (its commands are removed)"),
    ):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("guild_id", metavar="ID", help="the server id (see `kimaki guild list`)")
        add_data_dir(action)
        action.set_defaults(handler=lambda args, decision=decision: run_decide(args, decision))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_list(args: argparse.Namespace) -> int:
    def main() -> int:
        from kimaki_tui.core.guilds import reason

        with open_core(settings_of(args)) as core:
            guilds = core.guilds.records()
        if not guilds:
            out("No servers yet: the bot records each server it is in when kimaki starts.")
            return 0
        out(table(("ID", "STATUS", "NAME", "OWNER", "WHY"), [_row(g, reason(g)) for g in guilds]))
        return 0

    return run(main)


def _row(guild: GuildRecord, why: str) -> tuple[object, ...]:
    return (guild.guild_id, guild.status, guild.name or "(not seen yet)", guild.owner_id or "—", why)


def run_decide(args: argparse.Namespace, decision: Literal["allowed", "denied"]) -> int:
    async def main() -> int:
        from kimaki_tui.cli.local import running_control
        from kimaki_tui.control_api import ControlError
        from kimaki_tui.core.guilds import InvalidGuildId

        settings = settings_of(args)
        with open_core(settings) as core:
            access = core.guilds
            decide = access.allow if decision == "allowed" else access.deny
            try:
                record = decide(args.guild_id, by="cli")
            except InvalidGuildId as exc:
                raise CliError(str(exc), 2) from None
        name = record.name or "not seen yet: it applies when the bot joins it"
        out(f"Server {record.guild_id} ({name}) is now {decision}.")
        control = await running_control(settings)
        if control is not None:
            try:
                await control.guilds_changed()
                out("The running kimaki applied it.")
            except ControlError as exc:
                out(f"The running kimaki could not be told ({exc}); it applies at its next start.")
        return 0

    return run(main)
