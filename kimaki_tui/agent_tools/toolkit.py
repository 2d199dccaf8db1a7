"""The five agent tools: their descriptions and what each does with a checked call.

`AgentToolkit.call()` is the whole path of one call, independent of MCP: check the arguments,
find the calling session (CallTracker) and its thread (SessionLocator), run the tool through the
injected ports, and turn every outcome, refusals and failures included, into a `ToolResult` the
agent reads. Nothing escapes as an exception except cancellation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from kimaki_tui.agent_tools import arguments as args
from kimaki_tui.agent_tools.calls import CallTracker
from kimaki_tui.agent_tools.files import MAX_FILE_BYTES, read_project_file
from kimaki_tui.agent_tools.ports import (
    NoAnswer,
    SessionLocator,
    SessionPlace,
    SessionStarter,
    ThreadActions,
    ToolRefused,
    WakeScheduler,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
Check = Callable[[Mapping[str, Any]], Any]
Run = Callable[[SessionPlace, Any], Awaitable["ToolResult"]]

SERVER_NAME = "kimaki"  # OpenCode names an MCP tool "<server>_<tool>": kimaki_file_upload...

DESCRIPTIONS: dict[str, str] = {
    "file_upload": (
        "Ask the user in this session's Discord thread to upload files. Returns the paths where they "
        "were saved inside the project, or says that nobody answered in time."
    ),
    "action_buttons": (
        "Show the user up to 5 buttons in this session's thread and wait for a click. Returns the label "
        "clicked, or says that nobody clicked in time. Use it for quick choices (Yes/No, deploy/skip)."
    ),
    "send_file": (
        "Post a file from the project (path relative to the project directory) to this session's "
        "thread, up to 25 MB."
    ),
    "sleep": (
        "Pause this session until a time (`duration` or `until`) and end your turn: kimaki wakes the "
        "session then with a message repeating `reason`, even if it was restarted meanwhile."
    ),
    "send": (
        "Start a new session in another project's channel with a first message, as the owner of "
        "this thread (their access rules apply)."
    ),
}


@dataclass(frozen=True, slots=True)
class ToolLimits:
    """How long the waits last and how big things may be (from the settings: root/agent_tools.py)."""

    upload_timeout: float = 600.0
    buttons_timeout: float = 600.0
    claim_timeout: float = 10.0
    max_file_bytes: int = MAX_FILE_BYTES
    longest_sleep: timedelta = timedelta(days=30)

    @property
    def longest_wait(self) -> float:
        return max(self.upload_timeout, self.buttons_timeout) + self.claim_timeout


@dataclass(frozen=True, slots=True)
class ToolResult:
    text: str
    error: bool = False


def opencode_tool_id(name: str) -> str:
    return f"{SERVER_NAME}_{name}"


def _span(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:g} seconds"
    return f"{seconds / 60:g} minutes"


def _no_answer(answer: NoAnswer, waited: float, what: str) -> ToolResult:
    if answer.reason == "timeout":
        text = answer.detail or f"Nobody {what} within {_span(waited)}; the request expired."
    else:
        text = answer.detail or f"The user dismissed the request; nobody {what}."
    return ToolResult(text)


@dataclass
class AgentToolkit:
    locator: SessionLocator
    actions: ThreadActions
    wakes: WakeScheduler
    starter: SessionStarter
    calls: CallTracker
    limits: ToolLimits = field(default_factory=ToolLimits)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    async def call(self, name: str, arguments: Mapping[str, Any], directory: str | None) -> ToolResult:
        """Run one MCP tool call; `directory` is the calling OpenCode instance's, when known."""
        tool = self._tools().get(name)
        if tool is None:
            return ToolResult(f"kimaki has no tool named {name!r}.", error=True)
        check, run = tool
        try:
            checked = check(arguments)
            place = await self._caller(name, arguments, directory)
            return await run(place, checked)
        except ToolRefused as exc:
            return ToolResult(str(exc), error=True)
        except Exception:  # cancellation (an aborted turn) is a BaseException and passes through
            log.exception("kimaki tool %s failed", name)
            failed = f"kimaki could not run {opencode_tool_id(name)}: an internal error (see kimaki.log)."
            return ToolResult(failed, error=True)

    async def _caller(self, name: str, arguments: Mapping[str, Any], directory: str | None) -> SessionPlace:
        tool, wait = opencode_tool_id(name), self.limits.claim_timeout
        caller = await self.calls.claim(tool, arguments, directory, wait)
        if caller is None:
            raise ToolRefused("kimaki could not tell which session made this call; try the call again.")
        place = await self.locator.locate(caller.session_id)
        if place is None:
            raise ToolRefused("kimaki tools only work in sessions kimaki runs for a thread.")
        return place

    def _tools(self) -> dict[str, tuple[Check, Run]]:
        """Each tool's argument check and what it does with the checked arguments."""
        return {
            "file_upload": (args.file_upload_args, self._file_upload),
            "action_buttons": (args.buttons_args, self._action_buttons),
            "send_file": (args.send_file_args, self._send_file),
            "sleep": (self._sleep_args, self._sleep),
            "send": (args.send_args, self._send),
        }

    def _sleep_args(self, raw: Mapping[str, Any]) -> args.SleepArgs:
        return args.sleep_args(raw, now=self.now(), longest=self.limits.longest_sleep)

    async def _bounded(self, wait: Awaitable[T | NoAnswer], timeout: float) -> T | NoAnswer:
        # The adapter times itself out; this only guards against one that never returns, well
        # before OpenCode's own request timeout (see opencode_config.request_timeout_ms).
        try:
            async with asyncio.timeout(timeout + self.limits.claim_timeout / 2):
                return await wait
        except TimeoutError:
            return NoAnswer("timeout")

    async def _file_upload(self, place: SessionPlace, checked: args.FileUploadArgs) -> ToolResult:
        waited = self.limits.upload_timeout
        answer = await self._bounded(
            self.actions.ask_files(place, checked.prompt, checked.max_files, waited), waited
        )
        if isinstance(answer, NoAnswer):
            return _no_answer(answer, waited, "uploaded files")
        if not answer.paths:
            return ToolResult("The user answered without uploading any file.")
        listed = "\n".join(f"- {path}" for path in answer.paths)
        return ToolResult(f"The user uploaded {len(answer.paths)} file(s), saved at:\n{listed}")

    async def _action_buttons(self, place: SessionPlace, checked: args.ButtonsArgs) -> ToolResult:
        waited = self.limits.buttons_timeout
        answer = await self._bounded(
            self.actions.offer_buttons(place, checked.prompt, checked.labels, waited), waited
        )
        if isinstance(answer, NoAnswer):
            return _no_answer(answer, waited, "clicked a button")
        return ToolResult(f"The user clicked: {answer.label}")

    async def _send_file(self, place: SessionPlace, checked: args.SendFileArgs) -> ToolResult:
        file = read_project_file(
            place.directory, checked.path, caption=checked.caption, limit=self.limits.max_file_bytes
        )
        await self.actions.send_file(place, file)
        return ToolResult(f"Posted {file.relative_path} ({len(file.data)} bytes) to the thread.")

    async def _sleep(self, place: SessionPlace, checked: args.SleepArgs) -> ToolResult:
        if place.subagent:
            raise ToolRefused("only the main session can sleep; finish this task and let it decide.")
        await self.wakes.schedule_wake(place, checked.at, checked.reason)
        return ToolResult(
            f"Sleeping until {checked.at:%Y-%m-%d %H:%M:%S} UTC. End your turn now without calling more "
            "tools; kimaki will wake this session then with your reason."
        )

    async def _send(self, place: SessionPlace, checked: args.SendArgs) -> ToolResult:
        started = await self.starter.start_session(checked.target, checked.prompt, place)
        return ToolResult(f"Started a session in {started.where} (thread {started.thread_id}).")
