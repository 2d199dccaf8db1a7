"""`kimaki upload-to-discord --session ID FILE...`: post files to a session's thread in one message
(so Discord shows images as a grid). At most 10 files of at most 25 MB each, checked before
anything is sent."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kimaki_tui.cli.local import CliError, add_data_dir, discord_rest, out, run, settings_of
from kimaki_tui.root.offline import open_core

MAX_FILES = 10
MAX_FILE_SIZE = 25 * 1024 * 1024


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
    from kimaki_tui.discord_rest import message_url

    try:
        files = check_upload(list(args.files))
    except ValueError as exc:
        raise CliError(str(exc), 2) from None
    settings = settings_of(args)
    with open_core(settings) as core:
        row = core.thread_of_session(args.session)
    if row is None:
        raise CliError(
            f"no thread shows session {args.session} here (`kimaki session list` shows the known ones)"
        )
    async with discord_rest(settings) as rest:
        message = await rest.send_message(row.thread_id, {"allowed_mentions": {"parse": []}}, files)
        guild = (await rest.channel(row.thread_id)).get("guild_id")
    names = ", ".join(name for name, _data in files)
    out(f"Uploaded {names}: {message_url(str(guild) if guild else None, row.thread_id, str(message['id']))}")
    return 0


def check_upload(paths: Sequence[Path], *, limit: int = MAX_FILE_SIZE) -> list[tuple[str, bytes]]:
    """Read files for one message; ValueError names the first file that cannot go."""
    if not paths:
        raise ValueError("give at least one file")
    if len(paths) > MAX_FILES:
        raise ValueError(f"Discord takes at most {MAX_FILES} files per message, got {len(paths)}")
    for path in paths:
        if not path.is_file():
            raise ValueError(f"{path} is not a file" if path.exists() else f"{path} does not exist")
        size = path.stat().st_size
        if size > limit:
            mb = size / 1024 / 1024
            raise ValueError(f"{path} is {mb:.1f} MB; Discord takes files up to {limit // (1024 * 1024)} MB")
    return [(path.name, path.read_bytes()) for path in paths]
