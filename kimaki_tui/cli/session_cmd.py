"""`kimaki session list|read` (wait, search, abort and archive live in session_tools): the
sessions mapped to Discord threads (with --json every OpenCode session, marked when kimaki maps
it), and one conversation as Markdown.

`read` asks the OpenCode server of the kimaki running for the data dir (its control API gives the
address and password); without one it starts a short-lived `opencode serve` of its own.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kimaki_tui.cli import session_export, session_tools
from kimaki_tui.cli.local import CliError, add_data_dir, out, run, settings_of, table
from kimaki_tui.root.offline import open_core

if TYPE_CHECKING:
    from kimaki_tui.core.offline import SessionReader
    from kimaki_tui.settings import Settings


def register(subparsers: Any) -> None:
    session = subparsers.add_parser("session", help="list sessions or print one as Markdown")
    actions = session.add_subparsers(dest="session_command", metavar="ACTION", title="actions")
    session.set_defaults(handler=lambda args: _usage(session))
    listing = actions.add_parser("list", help="sessions mapped to Discord threads, newest first")
    listing.add_argument("--project", metavar="DIR", help="only this project folder's sessions")
    listing.add_argument(
        "--json",
        action="store_true",
        help="every session OpenCode keeps for kimaki's folders, as JSON (kimaki: true when a thread "
        "shows it)",
    )
    add_data_dir(listing)
    listing.set_defaults(handler=run_list)
    read = actions.add_parser("read", help="print a session's conversation as Markdown")
    read.add_argument("session_id", metavar="ID")
    read.add_argument("--project", metavar="DIR", help="the session's folder, when no thread shows it")
    read.add_argument(
        "--verbose", action="store_true", help="also thinking, context, tool inputs and outputs, tokens"
    )
    add_data_dir(read)
    read.set_defaults(handler=run_read)
    session_tools.register(actions)
    session_export.register(actions)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_list(args: argparse.Namespace) -> int:
    if args.json:
        return run(lambda: _list_json(args))

    def main() -> int:
        directory = str(Path(args.project).expanduser().resolve()) if args.project else None
        with open_core(settings_of(args)) as core:
            threads = core.threads(directory)
        if not threads:
            out("No sessions yet.")
            return 0
        rows = [
            (
                t.session_id,
                Path(t.directory).name,
                t.thread_id,
                t.origin,
                f"{t.updated_at.astimezone():%Y-%m-%d %H:%M}",
            )
            for t in threads
        ]
        out(table(("SESSION", "PROJECT", "THREAD", "SOURCE", "UPDATED"), rows))
        return 0

    return run(main)


async def _list_json(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    async with opencode_for(settings) as reader:
        listed = await session_tools.all_sessions(settings, reader, session_tools.project_of(args))
    session_tools.print_json([item.to_json() for item in listed])
    return 0


def run_read(args: argparse.Namespace) -> int:
    return run(lambda: read(args))


async def read(args: argparse.Namespace) -> int:
    from kimaki_tui.cli.session_markdown import render

    settings = settings_of(args)
    directory = _directory(settings, args.session_id, args.project)
    async with opencode_for(settings) as client:
        info = await client.get_session(args.session_id, directory)
        messages = await client.messages(args.session_id, directory)
    sys.stdout.write(render(messages, title=info.title or args.session_id, verbose=args.verbose))
    return 0


def _directory(settings: Settings, session_id: str, project: str | None) -> str:
    if project:
        return str(Path(project).expanduser().resolve())
    with open_core(settings) as core:
        row = core.thread_of_session(session_id)
    if row is None:
        raise CliError(f"no thread shows session {session_id} here: pass --project DIR to say where it ran")
    return row.directory


@asynccontextmanager
async def opencode_for(settings: Settings) -> AsyncIterator[SessionReader]:
    """The running kimaki's OpenCode, else a short-lived server of our own (stopped on exit)."""
    from kimaki_tui.cli.local import running_control, running_opencode
    from kimaki_tui.core.offline import own_sessions

    control = await running_control(settings)
    if control is not None:
        async with await running_opencode(control) as client:
            yield client
        return
    opencode = settings.opencode
    async with own_sessions(binary=opencode.path, log_level=opencode.log_level) as client:
        yield client
