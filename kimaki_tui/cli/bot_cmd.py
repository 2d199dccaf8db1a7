"""`kimaki bot install-url|status`: the link that adds the bot to a server, and the status the bot
shows in Discord (kept in the data dir; a running kimaki shows it at once, else at its next start).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kimaki_tui.cli.local import CliError, add_data_dir, bot_token, out, run, settings_of
from kimaki_tui.core.bot_status import ACTIVITY_KINDS, ONLINE_STATUSES, TEXT_MAX

if TYPE_CHECKING:
    from kimaki_tui.core.bot_status import BotStatus


def register(subparsers: Any) -> None:
    bot = subparsers.add_parser("bot", help="the bot's install link and its Discord status")
    actions = bot.add_subparsers(dest="bot_command", metavar="ACTION", title="actions")
    bot.set_defaults(handler=lambda args: _usage(bot))
    install = actions.add_parser("install-url", help="print the link that adds the bot to a server")
    install.add_argument("-a", "--app-id", metavar="ID", help="the bot application (default: from the token)")
    add_data_dir(install)
    install.set_defaults(handler=run_install_url)
    status = actions.add_parser("status", help="set or clear the status the bot shows in Discord")
    choices = status.add_subparsers(dest="status_command", metavar="ACTION", title="actions")
    status.set_defaults(handler=lambda args: _usage(status))
    set_status = choices.add_parser("set", help="show TEXT as the bot's status")
    set_status.add_argument("text", metavar="TEXT", help=f"the status text (at most {TEXT_MAX} characters)")
    set_status.add_argument(
        "--type", dest="kind", choices=ACTIVITY_KINDS, default="custom", help="default: %(default)s"
    )
    set_status.add_argument(
        "--status", dest="online", choices=ONLINE_STATUSES, default="online", help="default: %(default)s"
    )
    add_data_dir(set_status)
    set_status.set_defaults(handler=run_set)
    clear = choices.add_parser("clear", help="back to no status")
    add_data_dir(clear)
    clear.set_defaults(handler=run_clear)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_install_url(args: argparse.Namespace) -> int:
    async def main() -> int:
        from kimaki_tui.setup.guide import install_url

        if args.app_id is not None and not (args.app_id.isdigit() and 15 <= len(args.app_id) <= 21):
            raise CliError(f"--app-id {args.app_id} is not an application id (15 to 21 digits)", 2)
        out(install_url(args.app_id or await _app_id(args)))
        return 0

    return run(main)


async def _app_id(args: argparse.Namespace) -> str:
    """The token's application: read from the token, else asked of Discord."""
    from kimaki_tui.cli.local import discord_rest
    from kimaki_tui.secrets import app_id_from_token

    settings = settings_of(args)
    app_id = app_id_from_token(bot_token(settings))
    if app_id is not None:
        return app_id
    async with discord_rest(settings) as rest:
        return str((await rest.application())["id"])


def run_set(args: argparse.Namespace) -> int:
    from kimaki_tui.core.bot_status import BotStatus

    text = " ".join(args.text.split())
    if not text:
        return run(lambda: _refuse("TEXT is empty: give the status text (or use `kimaki bot status clear`)"))
    if len(text) > TEXT_MAX:
        return run(lambda: _refuse(f"TEXT is {len(text)} characters; Discord shows at most {TEXT_MAX}"))
    chosen = BotStatus(text, args.kind, args.online)
    return run(lambda: _save(args, chosen, f"The bot's status is now {args.kind} “{text}” ({args.online})."))


def run_clear(args: argparse.Namespace) -> int:
    return run(lambda: _save(args, None, "The bot's status is cleared."))


def _refuse(message: str) -> int:
    raise CliError(message, 2)


async def _save(args: argparse.Namespace, chosen: BotStatus | None, done: str) -> int:
    from kimaki_tui.cli.local import running_control
    from kimaki_tui.control_api import ControlError

    settings = settings_of(args)
    _write(settings.data_dir, chosen)
    out(done)
    control = await running_control(settings)
    if control is None:
        out("kimaki is not running: the bot shows it when it starts.")
        return 0
    try:
        await control.bot_status_changed()
        out("The running kimaki shows it now.")
    except ControlError as exc:
        out(f"The running kimaki could not be told ({exc}); it shows at its next start.")
    return 0


def _write(data_dir: Path, chosen: BotStatus | None) -> None:
    from kimaki_tui.core.bot_status import write_bot_status

    try:
        write_bot_status(data_dir, chosen)
    except OSError as exc:
        raise CliError(f"cannot keep the status in {data_dir}: {exc.strerror or exc}") from None
