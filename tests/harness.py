"""Test helpers shared across the suite: an isolated OpenCode environment, git projects,
polling with a deadline, and a recorder that collects events from a live EventStream.
"""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, overload

from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.events import Event
from kimaki_tui.opencode.models import Message
from kimaki_tui.opencode.parts import ToolPart
from kimaki_tui.opencode.stream import EventStream
from kimaki_tui.testing.opencode_env import OPENCODE_VERSION
from kimaki_tui.testing.opencode_env import make_opencode_env as _make_opencode_env

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests/fixtures"
DEFAULT_OPENCODE = REPO / ".tools/opencode/node_modules/.bin/opencode"
# The oldest supported OpenCode line, which `scripts/setup.sh --dev` installs next to the pinned one
# (OPENCODE_1_2_PATH points elsewhere; KIMAKI_SKIP_OPENCODE_1_2=1 skips its tests instead of failing).
OLD_OPENCODE_VERSION = "1.2.27"
OLD_OPENCODE = REPO / ".tools/opencode-1.2/bin/opencode"
VENV_BIN = REPO / ".venv/bin"


def make_opencode_env(root: Path, model_base_url: str, version: str = OPENCODE_VERSION) -> dict[str, str]:
    """An isolated offline OpenCode env under `root` for OpenCode `version` (see
    kimaki_tui.testing.opencode_env), with the repository's venv (its `rg`) first on PATH."""
    return _make_opencode_env(root, model_base_url, bin_dir=VENV_BIN, version=version)


def git_init(path: Path) -> Path:
    """A git repository with one commit and a local identity."""
    path.mkdir(parents=True, exist_ok=True)
    # A unique root commit: OpenCode derives the project id from it, and "always" approvals
    # apply per project, so two identical repositories would share them.
    (path / "README.md").write_text(f"# test project {uuid.uuid4()}\n")
    for args in (
        ["init", "-q"],
        ["config", "user.email", "tests@example.invalid"],
        ["config", "user.name", "Tests"],
        ["add", "README.md"],
        ["commit", "-q", "-m", "init"],
    ):
        subprocess.run(["git", *args], cwd=path, check=True, capture_output=True)
    return path


@overload
async def wait_until(
    predicate: Callable[[], Awaitable[T | None]],
    timeout: float = ...,
    interval: float = ...,
    message: str = ...,
) -> T: ...
@overload
async def wait_until(
    predicate: Callable[[], T | None], timeout: float = ..., interval: float = ..., message: str = ...
) -> T: ...
async def wait_until(
    predicate: Callable[[], Any],
    timeout: float = 20.0,
    interval: float = 0.1,
    message: str = "condition",
) -> Any:
    """Poll `predicate` (sync or async) until it returns something truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        await asyncio.sleep(interval)


def texts(message: Message) -> list[str]:
    """The text parts of one message people see (not the synthetic context kimaki adds)."""
    return [p.text for p in message.text_parts() if not p.synthetic]


def assistant_text(messages: list[Message]) -> str:
    """All assistant text of a session, joined by newlines."""
    out = [t for m in messages if m.info.is_assistant for t in texts(m)]
    return "\n".join(out)


def tool_parts(messages: list[Message], tool: str) -> list[ToolPart]:
    return [p for m in messages for p in m.parts if isinstance(p, ToolPart) and p.tool == tool]


async def wait_turn_done(
    client: OpenCodeClient, session_id: str, directory: Path | str, timeout: float = 30.0
) -> list[Message]:
    """Wait until the session is idle and its last message is a completed assistant reply."""

    async def done() -> list[Message] | None:
        if session_id in await client.session_status(directory):
            return None
        messages = await client.messages(session_id, directory)
        finished = bool(messages) and messages[-1].info.is_assistant and bool(messages[-1].info.completed)
        return messages if finished else None

    return await wait_until(done, timeout, 0.2, f"session {session_id} to finish its turn")


class EventRecorder:
    """Runs an EventStream in the background and keeps every event it delivers."""

    def __init__(self, client: OpenCodeClient, **stream_kwargs: Any) -> None:
        self.events: list[Event] = []
        self.connects = 0
        self.stream = EventStream(client, self.events.append, on_connect=self._on_connect, **stream_kwargs)
        self._task: asyncio.Task[None] | None = None

    async def _on_connect(self) -> None:
        self.connects += 1

    async def __aenter__(self) -> EventRecorder:
        self._task = asyncio.create_task(self.stream.run())
        if not await self.stream.wait_connected(20):
            raise AssertionError("event stream did not connect")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 20.0) -> Event:
        """The first recorded event matching `predicate` (waiting for it if needed)."""
        return await wait_until(
            lambda: next((e for e in self.events if predicate(e)), None), timeout, 0.05, "a matching event"
        )
