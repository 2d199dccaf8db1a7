"""Typed async client for the OpenCode HTTP API: `OpenCodeClient`, every route kimaki uses over one
connection (`client_http`).

The routes are grouped by area, one module each: the server and projects' configuration
(`client_server`), sessions and their history (`client_sessions`), and what drives a turn
(`client_turns`); all share the connection and its one request path (`client_http`), where every
transport failure is translated into the `errors` tree. Requests are scoped to a project with
`?directory=`. The supervisor `rebind`s the client after a restart (new port, new password); the
event stream opens through `open_event_stream`.
"""

from __future__ import annotations

from kimaki_tui.opencode.client_http import JSON
from kimaki_tui.opencode.client_server import ServerCalls
from kimaki_tui.opencode.client_sessions import SessionCalls
from kimaki_tui.opencode.client_turns import TurnCalls
from kimaki_tui.opencode.schema import ModelRef, SessionInfo, file_part, text_part

__all__ = ["JSON", "ModelRef", "OpenCodeClient", "SessionInfo", "file_part", "text_part"]


class OpenCodeClient(ServerCalls, SessionCalls, TurnCalls):
    """Every route kimaki uses, over one connection (`HttpTransport`)."""
