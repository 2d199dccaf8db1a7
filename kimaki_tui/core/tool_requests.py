"""The agent's tool requests waiting for a person (kimaki_action_buttons, kimaki_file_upload), which
every front end lists and answers.

The agent tool opens a request and waits for its resolution; the Discord thread and the control
center show it and answer it here. The first answer wins, a later one gets "already answered"; the
resolution (answered, expired, cancelled) is published on the bus with who answered and from where,
so each front end takes its buttons down. Requests live in memory only: OpenCode's tool call does
not survive a restart either.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Literal

from kimaki_tui.core.api import AnswerResult
from kimaki_tui.core.bus import EventBus
from kimaki_tui.core.events import ToolRequest, ToolRequestAsked, ToolRequestResolved
from kimaki_tui.private_files import write_private

log = logging.getLogger(__name__)

UPLOAD_DIR = "uploads"  # inside the project: where files the agent asked for land
ALREADY = "This request was already answered or has expired."
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._\-]+")


@dataclass(frozen=True, slots=True)
class ToolRequestPlace:
    """Where a request comes from: the calling session, its thread and its project directory."""

    session_id: str
    thread_id: str
    directory: str


@dataclass(frozen=True, slots=True)
class OpenedRequest:
    """A request just opened, and the future its end (answer, expiry, cancellation) settles."""

    request: ToolRequest
    resolved: asyncio.Future[ToolRequestResolved]


class ToolRequests:
    """The pending requests by id, each with the future its resolution settles."""

    def __init__(self, bus: EventBus, clock: Callable[[], float] = time.time) -> None:
        self._bus = bus
        self._clock = clock
        self._pending: dict[str, tuple[ToolRequest, asyncio.Future[ToolRequestResolved]]] = {}
        self._attending = 0

    def attend(self) -> Callable[[], None]:
        """A front end besides the chat (the control center) lists and answers requests until the
        returned callable is called: the agent may ask while the chat is disconnected."""
        self._attending += 1
        left = False

        def leave() -> None:
            nonlocal left
            if not left:
                left, self._attending = True, self._attending - 1

        return leave

    @property
    def attended(self) -> bool:
        """Whether a front end besides the chat shows requests right now."""
        return self._attending > 0

    def open(
        self,
        place: ToolRequestPlace,
        kind: Literal["buttons", "files"],
        prompt: str,
        *,
        labels: Sequence[str] = (),
        max_files: int = 0,
    ) -> OpenedRequest:
        """Track a new request and announce it; the caller waits on its `resolved` future."""
        request = ToolRequest(
            secrets.token_urlsafe(9),
            place.session_id,
            place.thread_id,
            kind,
            prompt,
            tuple(labels),
            max_files,
            place.directory,
            self._clock(),
        )
        future = asyncio.get_running_loop().create_future()
        self._pending[request.request_id] = (request, future)
        self._bus.publish(ToolRequestAsked(request.session_id, request, thread_id=request.thread_id))
        return OpenedRequest(request, future)

    def pending(self, session_id: str | None = None) -> list[ToolRequest]:
        """Pending requests (of one session, when given), newest first."""
        items = [r for r, _ in self._pending.values() if session_id is None or r.session_id == session_id]
        return sorted(items, key=lambda r: r.asked_at, reverse=True)

    def get(self, request_id: str) -> ToolRequest | None:
        entry = self._pending.get(request_id)
        return entry[0] if entry is not None else None

    def choose(self, request_id: str, label: str, *, by: str, origin: str) -> AnswerResult:
        """A click on one of a buttons request's labels."""
        request = self.get(request_id)
        if request is None or request.kind != "buttons":
            return AnswerResult("already_answered", ALREADY)
        if label not in request.labels:
            return AnswerResult("failed", f"{label!r} is not one of the choices.")
        self._resolve(request, "answered", by, origin, label=label)
        return AnswerResult("answered")

    def give_files(self, request_id: str, paths: Sequence[Path], *, by: str, origin: str) -> AnswerResult:
        """Files already saved in the project (the bot saves Discord's attachments itself)."""
        request = self.get(request_id)
        if request is None or request.kind != "files":
            return AnswerResult("already_answered", ALREADY)
        self._resolve(request, "answered", by, origin, paths=tuple(str(p) for p in paths))
        return AnswerResult("answered")

    def give_local_files(
        self, request_id: str, typed: Sequence[str], *, by: str, origin: str
    ) -> AnswerResult:
        """Files on this machine, named by path (typed in the control center): copied into the
        project's uploads folder. A path that is not a readable file refuses the whole answer,
        and the request keeps waiting."""
        request = self.get(request_id)
        if request is None or request.kind != "files":
            return AnswerResult("already_answered", ALREADY)
        sources = [Path(t).expanduser() for t in typed if t.strip()]
        if not sources:
            return AnswerResult("failed", "Name at least one file (paths separated by spaces).")
        if len(sources) > request.max_files:
            return AnswerResult("failed", f"At most {request.max_files} file(s) were asked for.")
        missing = [str(s) for s in sources if not s.is_file()]
        if missing:
            return AnswerResult("failed", f"Not a file: {', '.join(missing)}")
        try:
            saved = [copy_upload(source, Path(request.directory)) for source in sources]
        except OSError as exc:
            return AnswerResult("failed", f"Could not copy the file: {exc}")
        return self.give_files(request_id, saved, by=by, origin=origin)

    def close(self, request_id: str, outcome: Literal["expired", "cancelled"]) -> None:
        """The agent stopped waiting: the wait timed out, or its tool call was cancelled."""
        request = self.get(request_id)
        if request is not None:
            self._resolve(request, outcome, outcome, "kimaki")

    def _resolve(
        self,
        request: ToolRequest,
        outcome: Literal["answered", "expired", "cancelled"],
        by: str,
        origin: str,
        *,
        label: str | None = None,
        paths: tuple[str, ...] = (),
    ) -> None:
        _, future = self._pending.pop(request.request_id)
        event = ToolRequestResolved(
            request.session_id, request, outcome, by, origin, label, paths, thread_id=request.thread_id
        )
        future.set_result(event)
        log.info("tool request %s %s (by %s, from %s)", request.request_id, outcome, by, origin)
        self._bus.publish(event)


def safe_upload_name(name: str) -> str:
    return _SAFE_NAME.sub("_", PurePath(name).name).strip("._") or "upload"


def upload_target(directory: Path, name: str) -> Path:
    """An unused path for `name` in <project>/uploads/ (created), with a safe file name."""
    folder = directory / UPLOAD_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stem = safe_upload_name(name)
    target = folder / stem
    counter = 1
    while target.exists():
        counter += 1
        target = folder / f"{PurePath(stem).stem}-{counter}{PurePath(stem).suffix}"
    return target


def copy_upload(source: Path, directory: Path) -> Path:
    data = source.read_bytes()
    target = upload_target(directory, source.name)
    write_private(target, data)
    return target.resolve()
