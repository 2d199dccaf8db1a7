"""Tells which OpenCode session made an MCP tool call, from OpenCode's own event stream.

OpenCode's `tools/call` request names the tool and its arguments but not the calling session (no
header, nothing in `_meta`; checked on 1.2.27 and 1.18.33). What does name it is the tool part
OpenCode publishes for the call: `message.part.updated` with `tool: "kimaki_<name>"`, the
session id, the arguments as `state.input` and, from `/global/event`, the directory. So the
tracker keeps the kimaki tool parts that are pending or running, and `claim()` pairs an incoming
call with the first unclaimed one with the same tool and arguments (and the same directory when
the MCP connection told it). Parts can arrive before or after the MCP request; `claim()` waits
for a bounded time. Two identical calls running at once in one directory are paired in the order
their parts appeared. A completed or failed part, or the session going idle, drops the entries.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kimaki_tui.opencode.events import Event, PartUpdated, SessionIdle, SessionStatus
from kimaki_tui.opencode.parts import ToolState

log = logging.getLogger(__name__)

_OPEN = frozenset({"pending", "running"})
_MAX_TRACKED = 1000


def arguments_key(arguments: Mapping[str, Any]) -> str:
    """Canonical JSON of a call's arguments, so the same call compares equal however it was keyed."""
    return json.dumps(arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _same_directory(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return True  # one side does not know: do not let that refuse the call
    return a == b or os.path.realpath(a) == os.path.realpath(b)


@dataclass(frozen=True, slots=True)
class Caller:
    session_id: str
    call_id: str
    directory: str | None


@dataclass(slots=True)
class _OpenCall:
    tool: str
    key: str
    directory: str | None
    claimed: bool = False


class CallTracker:
    """Feed it every OpenCode event (`observe`); ask it who made a call (`claim`)."""

    def __init__(self, tool_prefix: str) -> None:
        self._prefix = tool_prefix
        self._open: dict[tuple[str, str], _OpenCall] = {}
        self._changed = asyncio.Event()

    def observe(self, event: Event) -> None:
        if isinstance(event, PartUpdated):
            self._part(event)
        elif isinstance(event, SessionIdle) or (isinstance(event, SessionStatus) and event.status == "idle"):
            self._forget_session(event.sid)

    def _part(self, event: PartUpdated) -> None:
        part = event.part
        tool = part.get("tool")
        if part.get("type") != "tool" or not isinstance(tool, str) or not tool.startswith(self._prefix):
            return
        ident = (event.sid, str(part.get("callID") or part.get("id") or ""))
        state = ToolState.from_json(part.get("state"))
        if state.status not in _OPEN:
            self._open.pop(ident, None)
            return
        known = self._open.get(ident)
        key = arguments_key(state.input)
        if known is None:
            self._open[ident] = _OpenCall(tool, key, event.directory)
            self._trim()
        else:
            known.key = key  # pending parts may not have their arguments yet
        self._notify()

    def _forget_session(self, session_id: str) -> None:
        for ident in [i for i in self._open if i[0] == session_id]:
            del self._open[ident]

    def _trim(self) -> None:
        while len(self._open) > _MAX_TRACKED:
            dropped = next(iter(self._open))
            log.warning("tracking too many open kimaki tool calls; forgetting %s", dropped)
            del self._open[dropped]

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _match(self, tool: str, key: str, directory: str | None) -> Caller | None:
        for (session_id, call_id), call in self._open.items():
            if call.claimed or call.tool != tool or call.key != key:
                continue
            if _same_directory(call.directory, directory):
                call.claimed = True
                return Caller(session_id, call_id, call.directory or directory)
        return None

    async def claim(
        self, tool: str, arguments: Mapping[str, Any], directory: str | None, timeout: float
    ) -> Caller | None:
        """The session whose open `tool` part has these arguments, or None after `timeout` s."""
        key = arguments_key(arguments)
        try:
            async with asyncio.timeout(timeout):
                while (found := self._match(tool, key, directory)) is None:
                    await self._changed.wait()
        except TimeoutError:
            log.warning("no open %s part with arguments %s (directory %s)", tool, key[:200], directory)
            return None
        return found
