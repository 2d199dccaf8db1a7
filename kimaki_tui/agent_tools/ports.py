"""What the agent tools need from the rest of kimaki, as Protocols, and the values that cross them.

The bot implements `ThreadActions` with Discord messages and components, the control center with
its own widgets; the core implements `SessionLocator` and `SessionStarter`, the store
`WakeScheduler`. Nothing here knows about Discord, Textual or MCP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from kimaki_tui.errors import KimakiError


class ToolRefused(KimakiError):
    """An adapter's or a rule's "no": the message goes back to the agent as the tool's error."""


@dataclass(frozen=True, slots=True)
class SessionPlace:
    """Where a calling session's interactions show: its thread and its project directory.

    `subagent` marks a child session (started by the `task` tool); its thread is its parent's.
    """

    session_id: str
    thread_id: str
    directory: Path
    subagent: bool = False


@dataclass(frozen=True, slots=True)
class Uploaded:
    """Files the user gave, saved inside the project directory (absolute paths)."""

    paths: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class Clicked:
    label: str


@dataclass(frozen=True, slots=True)
class NoAnswer:
    """The user did not answer: the wait timed out, or they dismissed the request (a new message,
    an abort...). `detail` says how, in words the agent can act on."""

    reason: Literal["timeout", "dismissed"]
    detail: str = ""


@dataclass(frozen=True, slots=True)
class OutgoingFile:
    """A project file to post, already read (so the adapter never opens a path itself)."""

    name: str
    relative_path: str
    data: bytes
    caption: str = ""


@dataclass(frozen=True, slots=True)
class StartedSession:
    """Where `kimaki_send` started the new session: its thread and a human name for the place."""

    thread_id: str
    where: str


class SessionLocator(Protocol):
    async def locate(self, session_id: str) -> SessionPlace | None:
        """The thread and directory of an OpenCode session kimaki runs (a subagent's: its parent's
        thread, `subagent` set), or None for any other."""
        ...


class ThreadActions(Protocol):
    """Interactions in the calling session's thread. The waits return `NoAnswer("timeout")` when
    `timeout` (seconds) passes; if the tool call is cancelled (the turn was aborted) they get
    CancelledError and should take their buttons or prompt down."""

    async def ask_files(
        self, place: SessionPlace, prompt: str, max_files: int, timeout: float
    ) -> Uploaded | NoAnswer: ...

    async def offer_buttons(
        self, place: SessionPlace, prompt: str, labels: Sequence[str], timeout: float
    ) -> Clicked | NoAnswer: ...

    async def send_file(self, place: SessionPlace, file: OutgoingFile) -> None: ...


class WakeScheduler(Protocol):
    async def schedule_wake(self, place: SessionPlace, at: datetime, reason: str) -> None:
        """Persist a wake-up for this session at `at` (aware, UTC) so it survives a restart; a
        later wake for the same session replaces it."""
        ...


class SessionStarter(Protocol):
    async def start_session(self, target: str, prompt: str, by: SessionPlace) -> StartedSession:
        """Start a session in the project channel `target` names (channel id, channel name or
        project name), as the owner of `by`'s thread; raise ToolRefused when the access rules
        say no or nothing matches."""
        ...
