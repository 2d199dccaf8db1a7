"""kimaki's MCP server wired to real OpenCode servers for end-to-end tests of the agent tools.

`AgentToolRig` runs the real `AgentToolServer` with a `CallTracker` fed by a real EventStream of
each OpenCode server it watches. The ports are local adapters that behave like the bot will:
`RecordingThread` shows buttons and upload prompts in a "thread" and waits for a person (the
test) to click or upload, saving uploads into the project like the bot; `Wakes` and `Starter`
keep what they were asked in lists. `call_tool` makes the scripted model call a tool in a fresh
session and `tool_result` finds what OpenCode handed the model back.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from kimaki_tui.agent_tools.calls import CallTracker
from kimaki_tui.agent_tools.opencode_config import server_entry
from kimaki_tui.agent_tools.ports import (
    Clicked,
    NoAnswer,
    OutgoingFile,
    SessionPlace,
    StartedSession,
    ToolRefused,
    Uploaded,
)
from kimaki_tui.agent_tools.server import AgentToolServer
from kimaki_tui.agent_tools.toolkit import SERVER_NAME, AgentToolkit, ToolLimits
from kimaki_tui.opencode.client import OpenCodeClient, text_part
from kimaki_tui.opencode.stream import EventStream
from kimaki_tui.testing.scripted_model import ScriptedModel, message_text
from tests.harness import wait_until


@dataclass
class Shown:
    """One interaction shown in a thread: buttons, an upload prompt or a posted file."""

    thread_id: str
    kind: Literal["buttons", "upload", "file"]
    prompt: str = ""
    labels: tuple[str, ...] = ()
    file: OutgoingFile | None = None
    state: Literal["waiting", "answered", "expired", "cancelled", "posted"] = "waiting"
    answer: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class RecordingThread:
    """ThreadActions the way a chat front end does them, with the test as the person answering."""

    def __init__(self) -> None:
        self.shown: list[Shown] = []

    async def _wait(self, shown: Shown, timeout: float) -> Any:
        self.shown.append(shown)
        try:
            async with asyncio.timeout(timeout):
                result = await shown.answer
        except TimeoutError:
            shown.state = "expired"
            return NoAnswer("timeout")
        except asyncio.CancelledError:
            shown.state = "cancelled"  # the bot takes its buttons down here
            raise
        shown.state = "answered"
        return result

    async def ask_files(
        self, place: SessionPlace, prompt: str, max_files: int, timeout: float
    ) -> Uploaded | NoAnswer:
        answer: Uploaded | NoAnswer = await self._wait(Shown(place.thread_id, "upload", prompt), timeout)
        return answer

    async def offer_buttons(
        self, place: SessionPlace, prompt: str, labels: Sequence[str], timeout: float
    ) -> Clicked | NoAnswer:
        shown = Shown(place.thread_id, "buttons", prompt, tuple(labels))
        answer: Clicked | NoAnswer = await self._wait(shown, timeout)
        return answer

    async def send_file(self, place: SessionPlace, file: OutgoingFile) -> None:
        self.shown.append(Shown(place.thread_id, "file", file=file, state="posted"))

    async def waiting(self, thread_id: str, kind: str) -> Shown:
        def find() -> Shown | None:
            return next(
                (
                    s
                    for s in self.shown
                    if s.thread_id == thread_id and s.kind == kind and s.state == "waiting"
                ),
                None,
            )

        return await wait_until(find, 30, 0.05, f"{kind} in thread {thread_id}")

    async def click(self, thread_id: str, label: str) -> Shown:
        shown = await self.waiting(thread_id, "buttons")
        assert label in shown.labels
        shown.answer.set_result(Clicked(label))
        return shown

    async def upload(self, thread_id: str, directory: Path, files: dict[str, bytes]) -> list[Path]:
        """Save the files where the bot saves attachments (<project>/uploads/) and answer."""
        shown = await self.waiting(thread_id, "upload")
        uploads = directory / "uploads"
        uploads.mkdir(exist_ok=True)
        paths = []
        for name, data in files.items():
            (uploads / name).write_bytes(data)
            paths.append(uploads / name)
        shown.answer.set_result(Uploaded(tuple(paths)))
        return paths


class Wakes:
    def __init__(self) -> None:
        self.scheduled: list[tuple[SessionPlace, datetime, str]] = []

    async def schedule_wake(self, place: SessionPlace, at: datetime, reason: str) -> None:
        self.scheduled.append((place, at, reason))


class Starter:
    """Project channels by name; "locked" exists but the thread's owner may not use it."""

    def __init__(self) -> None:
        self.started: list[tuple[str, str, SessionPlace]] = []

    async def start_session(self, target: str, prompt: str, by: SessionPlace) -> StartedSession:
        if target == "locked":
            raise ToolRefused("the owner of this thread may not start sessions in #locked.")
        if target != "other-project":
            raise ToolRefused(f"no project channel is called {target!r}.")
        self.started.append((target, prompt, by))
        return StartedSession(thread_id=f"thread-{len(self.started)}", where="#other-project")


class Locator:
    def __init__(self) -> None:
        self.places: dict[str, SessionPlace] = {}

    async def locate(self, session_id: str) -> SessionPlace | None:
        return self.places.get(session_id)


class AgentToolRig:
    def __init__(self, model: ScriptedModel, limits: ToolLimits | None = None) -> None:
        self.model = model
        self.thread = RecordingThread()
        self.wakes = Wakes()
        self.starter = Starter()
        self.locator = Locator()
        self.tracker = CallTracker(f"{SERVER_NAME}_")
        self.toolkit = AgentToolkit(
            locator=self.locator,
            actions=self.thread,
            wakes=self.wakes,
            starter=self.starter,
            calls=self.tracker,
            limits=limits or ToolLimits(),
        )
        self.server = AgentToolServer(self.toolkit)
        self._streams: dict[int, tuple[EventStream, asyncio.Task[None]]] = {}

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        for _, task in self._streams.values():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self.server.stop()

    async def watch(self, client: OpenCodeClient) -> EventStream:
        """Feed the tracker from this OpenCode server's event stream (once per client)."""
        if id(client) not in self._streams:
            stream = EventStream(client, self.tracker.observe)
            self._streams[id(client)] = (stream, asyncio.create_task(stream.run()))
            assert await stream.wait_connected(20), "event stream did not connect"
        return self._streams[id(client)][0]

    async def connect(self, client: OpenCodeClient, directory: Path) -> None:
        """Add the MCP server to this project's OpenCode instance (the shared server cannot be
        restarted with it in its config; production passes it at spawn, see opencode_config)."""
        await self.watch(client)
        entry = server_entry(self.server.url, self.server.headers, self.toolkit.limits)
        await client.add_mcp_server(SERVER_NAME, entry, directory)

    async def session(
        self, client: OpenCodeClient, directory: Path, *, subagent: bool = False
    ) -> SessionPlace:
        """A new OpenCode session, known to the locator with its own thread."""
        info = await client.create_session(directory)
        place = SessionPlace(info.id, f"thread-{uuid.uuid4().hex[:8]}", directory, subagent=subagent)
        self.locator.places[info.id] = place
        return place

    async def call_tool(self, client: OpenCodeClient, place: SessionPlace, tool: str, arguments: Any) -> str:
        """Make the scripted model call `tool` (returns at once; the turn runs on)."""
        marker = f"marker-{uuid.uuid4().hex}"
        text = f"CALL_TOOL: {tool} {json.dumps(arguments)}\n{marker}"
        await client.prompt_async(place.session_id, place.directory, [text_part(text)])
        return marker

    async def tool_result(self, marker: str, timeout: float = 60) -> str:
        """What OpenCode handed the model as the result of the call made under `marker`."""

        def find() -> str | None:
            for body in reversed(self.model.requests):
                messages = body.get("messages") or []
                if messages and messages[-1].get("role") == "tool" and marker in json.dumps(messages):
                    return message_text(messages[-1])
            return None

        return await wait_until(find, timeout, 0.1, f"the tool result for {marker}")
