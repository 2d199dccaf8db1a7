"""`kimaki upload-to-discord --session ID FILE...`: post files to a session's thread in one message
(so Discord shows images as a grid). At most 10 files of at most 25 MB each, checked before
anything is sent."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kimaki_tui.cli.local import CliError, add_data_dir, bot_token, data_dir_of, open_store, out, run


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "upload-to-discord",
        help="post files to a session's Discord thread",
        description="Post files to the thread of an OpenCode session, all in one message. "
        "At most 10 files, each at most 25 MB.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("-s", "--session", required=True, metavar="ID", help="the OpenCode session id")
    add_data_dir(parser)
    parser.set_defaults(handler=run_upload)


def run_upload(args: argparse.Namespace) -> int:
    return run(lambda: upload(args))


async def upload(args: argparse.Namespace) -> int:
    from kimaki_tui.cli.discord_rest import DiscordRest, check_upload, message_url

    try:
        files = check_upload(list(args.files))
    except ValueError as exc:
        raise CliError(str(exc), 2) from None
    data_dir = data_dir_of(args)
    with open_store(data_dir) as store:
        row = store.thread_for_session(args.session)
    if row is None:
        raise CliError(
            f"no thread shows session {args.session} here (`kimaki session list` shows the known ones)"
        )
    async with DiscordRest(bot_token(data_dir)) as rest:
        message = await rest.send_message(row.thread_id, {"allowed_mentions": {"parse": []}}, files)
        guild = (await rest.channel(row.thread_id)).get("guild_id")
    names = ", ".join(name for name, _data in files)
    out(f"Uploaded {names}: {message_url(str(guild) if guild else None, row.thread_id, str(message['id']))}")
    return 0
