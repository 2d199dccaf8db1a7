"""The OpenCode server's health as the supervisor reports it (not tied to a session)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ServerState = Literal["starting", "healthy", "restarting", "failed", "stopped"]


@dataclass(frozen=True, slots=True)
class ServerStatus:
    """`warning` stays shown while healthy (e.g. an OpenCode newer than kimaki was tested with)."""

    state: ServerState
    port: int | None = None
    detail: str = ""
    pid: int | None = None
    warning: str = ""
