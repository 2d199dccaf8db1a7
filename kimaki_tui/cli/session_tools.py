"""`kimaki session list --json|wait|search|abort|archive`: OpenCode's sessions as scripts need them.

They ask the OpenCode server of the kimaki running for the data dir (else a short-lived one of
their own, like `session read`). "All sessions" means every session OpenCode keeps for the
folders kimaki knows (linked projects and the folders its threads ran in); each is marked with
the thread that shows it when kimaki maps it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kimaki_tui.cli.local import CliError, add_data_dir, out, run, settings_of, table
from kimaki_tui.root.offline import open_core

if TYPE_CHECKING:
    from kimaki_tui.core.offline import SessionReader, ThreadSession
    from kimaki_tui.opencode.models import Message
    from kimaki_tui.opencode.schema import SessionInfo
    from kimaki_tui.settings import Settings

WAIT_POLL = 0.5  # seconds between two looks at a session's status


def register(actions: Any) -> None:
    wait = actions.add_parser("wait", help="wait until a session is idle, then print its last answer")
    wait.add_argument("session_id", metavar="ID")
    wait.add_argument("--project", metavar="DIR", help="the session's folder, when no thread shows it")
    wait.add_argument(
        "--timeout", type=float, default=None, metavar="SECONDS", help="give up after this long"
    )
    add_data_dir(wait)
    wait.set_defaults(handler=lambda args: run(lambda: wait_idle(args)))
    search = actions.add_parser("search", help="find sessions whose messages match a text or /regex/flags")
    search.add_argument(
        "query", metavar="QUERY", help="words to find (any case), or /regex/ with flags i, m, s"
    )
    search.add_argument("--project", metavar="DIR", help="only this project folder's sessions")
    search.add_argument("--limit", type=int, default=20, metavar="N", help="at most N matches (default 20)")
    search.add_argument("--json", action="store_true", help="print JSON")
    add_data_dir(search)
    search.set_defaults(handler=lambda args: run(lambda: search_sessions(args)))
    abort = actions.add_parser("abort", help="stop a session's running turn")
    abort.add_argument("session_id", metavar="ID")
    abort.add_argument("--project", metavar="DIR", help="the session's folder, when no thread shows it")
    add_data_dir(abort)
    abort.set_defaults(handler=lambda args: run(lambda: abort_session(args)))
    archive = actions.add_parser(
        "archive", help="put a thread away: stop its session, mark it 📁 and archive the thread"
    )
    archive.add_argument("thread", nargs="?", metavar="THREAD", help="the thread id")
    archive.add_argument("--session", metavar="ID", help="the thread showing this session instead")
    add_data_dir(archive)
    archive.set_defaults(handler=lambda args: run(lambda: archive_thread(args)))


@dataclass(frozen=True, slots=True)
class Listed:
    info: SessionInfo
    thread_id: str | None
    origin: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.info.id,
            "title": self.info.title,
            "directory": self.info.directory,
            "parent_id": self.info.parent_id,
            "created": self.info.created,
            "updated": self.info.updated,
            "kimaki": self.thread_id is not None,
            "thread_id": self.thread_id,
            "source": self.origin,
        }


async def all_sessions(settings: Settings, reader: SessionReader, project: str | None) -> list[Listed]:
    """Every session OpenCode keeps for the folders kimaki knows (or `project`), newest first."""
    threads, folders = _known(settings, project)
    mapped = {t.session_id: t for t in threads}
    seen: dict[str, SessionInfo] = {}
    for folder in folders:
        for info in await reader.list_sessions(folder, roots=False):
            seen.setdefault(info.id, info)
    listed = []
    for sid, info in seen.items():
        row = mapped.get(sid)
        listed.append(Listed(info, row.thread_id if row else None, row.origin if row else None))
    return sorted(listed, key=lambda item: item.info.updated, reverse=True)


def _known(settings: Settings, project: str | None) -> tuple[list[ThreadSession], list[str]]:
    """kimaki's threads and the folders to ask OpenCode about (those that still exist: OpenCode
    would make an instance for a folder that is gone, for nothing)."""
    with open_core(settings) as core:
        threads = core.threads(project)
        known = [p.directory for p in core.projects.known()] + [c.directory for c in core.projects.links()]
        folders = [project] if project else known
    every = dict.fromkeys([*folders, *(t.directory for t in threads)])
    return threads, [folder for folder in every if Path(folder).is_dir()]


def project_of(args: argparse.Namespace) -> str | None:
    return str(Path(args.project).expanduser().resolve()) if args.project else None


def print_json(rows: list[dict[str, Any]]) -> None:
    out(json.dumps(rows, indent=2, ensure_ascii=False))


def session_folder(settings: Settings, session_id: str, project: str | None) -> str:
    if project:
        return str(Path(project).expanduser().resolve())
    with open_core(settings) as core:
        row = core.thread_of_session(session_id)
    if row is None:
        raise CliError(f"no thread shows session {session_id} here: pass --project DIR to say where it ran")
    return row.directory


async def wait_idle(args: argparse.Namespace) -> int:
    from kimaki_tui.cli.session_cmd import opencode_for
    from kimaki_tui.cli.session_markdown import render

    settings = settings_of(args)
    folder = session_folder(settings, args.session_id, args.project)
    async with opencode_for(settings) as reader:
        await reader.get_session(args.session_id, folder)  # an unknown id fails here, clearly

        async def finished() -> list[Message]:
            # OpenCode has no "tell me when this session is idle" call for a client without the
            # event stream: look again every WAIT_POLL seconds. Idle alone is not enough (a prompt
            # just sent may not have made it busy yet): the last message must be a finished answer.
            while True:
                if args.session_id not in await reader.session_status(folder):
                    messages = await reader.messages(args.session_id, folder)
                    if messages and messages[-1].info.finished:
                        return messages
                await asyncio.sleep(WAIT_POLL)

        try:
            messages = await asyncio.wait_for(finished(), args.timeout)
        except TimeoutError:
            raise CliError(f"session {args.session_id} was still busy after {args.timeout:g}s") from None
    answers = [m for m in messages if m.info.is_assistant]
    out(render(answers[-1:], assistant_only=True).rstrip() if answers else "(no answer)")
    return 1 if answers and answers[-1].info.error else 0


def matcher(query: str) -> re.Pattern[str]:
    """`/regex/flags` as a regex, anything else as literal words in any case."""
    found = re.fullmatch(r"/(.+)/([ims]*)", query, re.DOTALL)
    if found is None:
        return re.compile(re.escape(query), re.IGNORECASE)
    flags = 0
    for letter in found[2]:
        flags |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}[letter]
    try:
        return re.compile(found[1], flags)
    except re.error as exc:
        raise CliError(f"{query} is not a valid regular expression: {exc}", 2) from None


async def search_sessions(args: argparse.Namespace) -> int:
    from kimaki_tui.cli.session_cmd import opencode_for

    if args.limit < 1:
        raise CliError("--limit must be at least 1", 2)
    pattern = matcher(args.query)
    settings = settings_of(args)
    project = project_of(args)
    hits: list[dict[str, Any]] = []
    async with opencode_for(settings) as reader:
        for item in await all_sessions(settings, reader, project):
            for message in await reader.messages(item.info.id, item.info.directory):
                text = "\n".join(p.text for p in message.text_parts())
                found = pattern.search(text)
                if found is not None:
                    hits.append({**item.to_json(), "role": message.role, "snippet": _snippet(text, found)})
                    break  # one line per session
            if len(hits) >= args.limit:
                break
    if args.json:
        print_json(hits)
    elif not hits:
        out(f"No session matches {args.query}.")
    else:
        rows = [(h["id"], h["thread_id"] or "—", h["title"][:40], h["snippet"]) for h in hits]
        out(table(("SESSION", "THREAD", "TITLE", "MATCH"), rows))
    return 0


def _snippet(text: str, found: re.Match[str]) -> str:
    start, end = max(0, found.start() - 40), min(len(text), found.end() + 40)
    return " ".join(text[start:end].split())


async def abort_session(args: argparse.Namespace) -> int:
    from kimaki_tui.cli.session_cmd import opencode_for

    settings = settings_of(args)
    folder = session_folder(settings, args.session_id, args.project)
    async with opencode_for(settings) as reader:
        await reader.get_session(args.session_id, folder)
        busy = args.session_id in await reader.session_status(folder)
        await reader.abort(args.session_id, folder)
    out(f"Aborted session {args.session_id}." if busy else f"Session {args.session_id} was not running.")
    return 0


ARCHIVED = "📁"


async def archive_thread(args: argparse.Namespace) -> int:
    """Abort the thread's session, prefix its title with 📁, react 📁 on the thread's starter
    message and archive the thread (over REST, as the bot)."""
    from kimaki_tui.cli.local import discord_rest
    from kimaki_tui.cli.session_cmd import opencode_for
    from kimaki_tui.discord_rest import DiscordApiError

    if bool(args.thread) == bool(args.session):
        raise CliError("give a THREAD id or --session ID (one of them)", 2)
    settings = settings_of(args)
    row = _thread_row(settings, args.thread, args.session)
    async with opencode_for(settings) as reader:
        if row.session_id in await reader.session_status(row.directory):
            await reader.abort(row.session_id, row.directory)
        info = await reader.get_session(row.session_id, row.directory)
        if not info.title.startswith(ARCHIVED):
            await reader.update_session(row.session_id, row.directory, title=f"{ARCHIVED} {info.title}")
    async with discord_rest(settings) as rest:
        try:  # the starter message (a thread started from a message has its id) may be gone
            await rest.add_reaction(row.channel_id, row.thread_id, ARCHIVED)
        except DiscordApiError:
            pass
        await rest.edit_channel(row.thread_id, {"archived": True})
    out(f"Archived thread {row.thread_id} (session {row.session_id}).")
    return 0


def _thread_row(settings: Settings, thread_id: str | None, session_id: str | None) -> ThreadSession:
    with open_core(settings) as core:
        if session_id:
            row = core.thread_of_session(session_id)
        else:
            row = next((t for t in core.threads() if t.thread_id == thread_id), None)
    if row is None:
        which = f"session {session_id}" if session_id else f"thread {thread_id}"
        raise CliError(f"no thread of this kimaki shows {which} (`kimaki session list` shows them)")
    return row
