"""`kimaki session export-events-jsonl|discord-url`: a session as an event stream that
`kimaki events render` replays, and the Discord link of the thread that shows a session.

OpenCode keeps no event history, so the stream is rebuilt from what it keeps: per message a
`message.updated` with its header, then a `message.part.updated` per part in order, and a
`session.idle` at the end — the events a live stream ends with for the same conversation.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from kimaki_tui.cli.local import CliError, add_data_dir, out, run, settings_of
from kimaki_tui.root.offline import open_core


def register(actions: Any) -> None:
    export = actions.add_parser(
        "export-events-jsonl",
        help="write a session as OpenCode events, one JSON per line (`kimaki events render` replays it)",
    )
    export.add_argument("--session", metavar="ID", help="the session to export (required)")
    export.add_argument("--project", metavar="DIR", help="the session's folder, when no thread shows it")
    export.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    add_data_dir(export)
    export.set_defaults(handler=lambda args: run(lambda: export_events(args)))
    url = actions.add_parser("discord-url", help="the Discord link of the thread showing a session")
    url.add_argument("session_id", metavar="ID")
    url.add_argument("--json", action="store_true", help="print JSON (url, thread, channel, server)")
    add_data_dir(url)
    url.set_defaults(handler=lambda args: run(lambda: discord_url(args)))


def events_of(session_id: str, messages: list[Any]) -> list[dict[str, Any]]:
    """The events that replay `messages` (OpenCode's `{info, parts}` rows), in order."""
    events: list[dict[str, Any]] = []
    for message in messages:
        info = message.get("info") or {}
        events.append({"type": "message.updated", "properties": {"sessionID": session_id, "info": info}})
        for part in message.get("parts") or []:
            props = {"sessionID": session_id, "part": part}
            events.append({"type": "message.part.updated", "properties": props})
    events.append({"type": "session.idle", "properties": {"sessionID": session_id}})
    return events


async def export_events(args: argparse.Namespace) -> int:
    from kimaki_tui.cli.session_cmd import opencode_for
    from kimaki_tui.cli.session_tools import session_folder

    if not args.session:
        raise CliError("--session ID is required (the session to export)", 2)
    settings = settings_of(args)
    folder = session_folder(settings, args.session, args.project)
    async with opencode_for(settings) as reader:
        await reader.get_session(args.session, folder)  # an unknown id fails here, clearly
        rows = await reader.raw_messages(args.session, folder)
    lines = "".join(json.dumps(event, ensure_ascii=False) + "\n" for event in events_of(args.session, rows))
    if args.out is None:
        print(lines, end="", flush=True)
    else:
        target = _write(args.out, lines)
        out(f"Wrote {lines.count(chr(10))} events of session {args.session} to {target}")
    return 0


def _write(path: str, text: str) -> Path:
    target = Path(path).expanduser()
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write --out {path}: {exc.strerror or exc}") from None
    return target


def discord_url(args: argparse.Namespace) -> int:
    from kimaki_tui.setup.guide import channel_url

    with open_core(settings_of(args)) as core:
        row = core.thread_of_session(args.session_id)
        link = (
            None
            if row is None
            else next((c for c in core.projects.links() if str(c.channel_id) == str(row.channel_id)), None)
        )
    if row is None:
        raise CliError(f"no thread of this kimaki shows session {args.session_id} (`kimaki session list`)")
    if link is None:
        raise CliError(f"channel {row.channel_id} (of session {args.session_id}'s thread) is not linked")
    url = channel_url(str(link.guild_id), str(row.thread_id))
    if args.json:
        fields = {"url": url, "session_id": args.session_id, "thread_id": str(row.thread_id)}
        out(json.dumps({**fields, "channel_id": str(row.channel_id), "guild_id": str(link.guild_id)}))
    else:
        out(url)
    return 0
