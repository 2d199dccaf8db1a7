"""`kimaki events render FILE.jsonl`: print the Discord messages a recorded event stream produces.

Lines may be `/event` objects or `/global/event` envelopes; extra keys (like the sample's
`_section`) are ignored. A line that is not an event is reported on stderr and skipped. Each
session gets its own reducer state, as each Discord thread has its own runtime; a subagent's
session (created with a `parentID`) has no thread, so its events are left out, as in Discord.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from kimaki_tui.presentation.render import Verbosity

# Kept in step with kimaki_tui.presentation.render.VERBOSITIES (a test checks); importing it here would
# load the renderer for every `kimaki --help`.
VERBOSITIES = ("tools_and_text", "text_and_essential_tools", "text_only")
_LABELS = {
    "PermissionAskedEvent": "permission prompt",
    "QuestionAskedEvent": "question",
    "TurnFinished": "footer",
    "SessionFailed": "error",
    "ToolStarted": "tool",
}


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    session_id: str
    label: str
    text: str


def register(subparsers: Any) -> None:
    events = subparsers.add_parser("events", help="inspect recorded OpenCode event streams")
    actions = events.add_subparsers(dest="events_command", metavar="ACTION", title="actions")
    events.set_defaults(handler=lambda args: _usage(events))
    render = actions.add_parser(
        "render",
        help="print the messages the bot would post for a recorded stream",
        description="Replay a recorded OpenCode event stream (JSON lines) and print, in order, the "
        "Discord messages the bot would post for it.",
    )
    render.add_argument("file", metavar="FILE.jsonl", type=Path, help="one event per line")
    render.add_argument(
        "--verbosity",
        choices=VERBOSITIES,
        default="text_and_essential_tools",
        help="which tool lines to show (default: %(default)s)",
    )
    render.set_defaults(handler=run_render)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_render(args: argparse.Namespace) -> int:
    try:
        with args.file.open(encoding="utf-8", errors="replace") as stream:
            return _print_messages(render_lines(stream, args.verbosity, warn=_warn))
    except OSError as exc:
        print(f"kimaki: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1


def render_lines(
    lines: Iterable[str], verbosity: str, *, warn: Callable[[str], None]
) -> Iterator[RenderedMessage]:
    """The messages for a stream of JSON lines, in posting order; bad lines go to `warn`."""
    import json

    from kimaki_tui.core.reducer import initial_state, reduce
    from kimaki_tui.core.stream_state import StreamState
    from kimaki_tui.opencode.events import EventParseError, SessionInfoEvent, parse_event
    from kimaki_tui.presentation.render import render_event

    if verbosity not in VERBOSITIES:
        raise ValueError(f"unknown verbosity {verbosity!r}")
    level = cast("Verbosity", verbosity)
    states: dict[str, StreamState] = {}
    subagents: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            event = parse_event(json.loads(line))
        except (ValueError, EventParseError) as exc:  # JSONDecodeError is a ValueError
            warn(f"line {number}: not an OpenCode event ({exc}); skipped")
            continue
        session_id = event.session_id
        if isinstance(event, SessionInfoEvent) and event.info.get("parentID") and session_id:
            subagents.add(session_id)
        if session_id is None or session_id in subagents:
            continue
        state, outputs = reduce(states.get(session_id) or initial_state(session_id), event)
        states[session_id] = state
        for output in outputs:
            label = getattr(output, "kind", "") or _LABELS.get(type(output).__name__, "")
            for text in render_event(output, verbosity=level):
                yield RenderedMessage(session_id, label, text)


def _print_messages(messages: Iterable[RenderedMessage]) -> int:
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")  # a non-UTF-8 terminal still gets the text
    count = 0
    try:
        for count, message in enumerate(messages, 1):
            print(f"─── message {count} · thread of {message.session_id} · {message.label} ───")
            print(message.text)
            print()
        sys.stdout.flush()
    except BrokenPipeError:  # `kimaki events render … | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    print(f"{count} messages", file=sys.stderr)
    return 0


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
