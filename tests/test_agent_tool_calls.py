"""Pairing MCP tool calls with the OpenCode sessions that made them, the toolkit's handling of
calls it cannot pair or run, the OpenCode config entry, and the lazy import of the MCP library."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from kimaki_tui.agent_tools.calls import Caller, CallTracker
from kimaki_tui.agent_tools.opencode_config import request_timeout_ms, with_agent_tools
from kimaki_tui.agent_tools.ports import (
    Clicked,
    NoAnswer,
    OutgoingFile,
    SessionPlace,
    StartedSession,
    Uploaded,
)
from kimaki_tui.agent_tools.toolkit import AgentToolkit, ToolLimits, ToolResult
from kimaki_tui.errors import KimakiError
from kimaki_tui.opencode.config_content import CONFIG_CONTENT
from kimaki_tui.opencode.events import parse_event

TOOL = "kimaki_action_buttons"
ARGS = {"buttons": ["Yes", "No"], "prompt": "Ship?"}


def part_event(
    session: str, call: str, status: str, arguments: Any = ARGS, *, tool: str = TOOL, directory: str = "/p"
) -> Any:
    """A `/global/event` envelope of a tool part update, as OpenCode 1.18 sends it."""
    part = {
        "id": f"prt_{call}",
        "sessionID": session,
        "messageID": "msg_1",
        "type": "tool",
        "callID": call,
        "tool": tool,
        "state": {"status": status, "input": arguments, "time": {"start": 1}},
    }
    payload = {"type": "message.part.updated", "properties": {"sessionID": session, "part": part}}
    return parse_event({"directory": directory, "payload": payload})


def idle_event(session: str) -> Any:
    return parse_event({"type": "session.idle", "properties": {"sessionID": session}})


async def test_a_call_is_paired_with_the_running_part_with_its_arguments() -> None:
    tracker = CallTracker("kimaki_")
    tracker.observe(part_event("ses_other", "c0", "running", {"buttons": ["Other"]}))
    tracker.observe(part_event("ses_a", "c1", "pending", {}))
    tracker.observe(part_event("ses_a", "c1", "running", {"prompt": "Ship?", "buttons": ["Yes", "No"]}))
    assert await tracker.claim(TOOL, ARGS, "/p", 1) == Caller("ses_a", "c1", "/p")
    assert await tracker.claim(TOOL, ARGS, "/p", 0.05) is None  # claimed once only


async def test_a_call_that_arrives_first_waits_for_its_part() -> None:
    tracker = CallTracker("kimaki_")
    claim = asyncio.create_task(tracker.claim(TOOL, ARGS, None, 10))
    await asyncio.sleep(0)  # the claim is waiting before the part shows up
    tracker.observe(part_event("ses_a", "c1", "running"))
    assert await claim == Caller("ses_a", "c1", "/p")


async def test_identical_calls_are_paired_in_the_order_their_parts_appeared() -> None:
    tracker = CallTracker("kimaki_")
    tracker.observe(part_event("ses_a", "c1", "running"))
    tracker.observe(part_event("ses_b", "c2", "running"))
    first, second = await asyncio.gather(
        tracker.claim(TOOL, ARGS, "/p", 1), tracker.claim(TOOL, ARGS, "/p", 1)
    )
    assert (first, second) == (Caller("ses_a", "c1", "/p"), Caller("ses_b", "c2", "/p"))


async def test_finished_parts_idle_sessions_other_tools_and_directories_do_not_match() -> None:
    tracker = CallTracker("kimaki_")
    tracker.observe(part_event("ses_a", "c1", "running"))
    tracker.observe(part_event("ses_a", "c1", "completed"))
    tracker.observe(part_event("ses_b", "c2", "running"))
    tracker.observe(idle_event("ses_b"))
    tracker.observe(part_event("ses_c", "c3", "running", tool="bash"))
    tracker.observe(part_event("ses_d", "c4", "running", directory="/elsewhere"))
    assert await tracker.claim(TOOL, ARGS, "/p", 0.05) is None
    assert await tracker.claim(TOOL, ARGS, "/elsewhere", 0.05) == Caller("ses_d", "c4", "/elsewhere")


class Thread:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    async def ask_files(
        self, place: SessionPlace, prompt: str, max_files: int, timeout: float
    ) -> Uploaded | NoAnswer:
        return NoAnswer("dismissed")

    async def offer_buttons(
        self, place: SessionPlace, prompt: str, labels: Sequence[str], timeout: float
    ) -> Clicked | NoAnswer:
        if self.fail:
            raise RuntimeError("Discord said no")
        await asyncio.Event().wait()  # never answers: the toolkit's own bound must end the wait
        raise AssertionError("unreachable")

    async def send_file(self, place: SessionPlace, file: OutgoingFile) -> None:
        pass


class Nothing:
    async def schedule_wake(self, place: SessionPlace, at: datetime, reason: str) -> None:
        pass

    async def start_session(self, target: str, prompt: str, by: SessionPlace) -> StartedSession:
        raise AssertionError("not called")


class Places:
    async def locate(self, session_id: str) -> SessionPlace | None:
        return SessionPlace(session_id, "thread-1", Path("/p"))


def toolkit(thread: Thread, limits: ToolLimits) -> tuple[AgentToolkit, CallTracker]:
    tracker = CallTracker("kimaki_")
    kit = AgentToolkit(
        locator=Places(), actions=thread, wakes=Nothing(), starter=Nothing(), calls=tracker, limits=limits
    )
    return kit, tracker


async def test_the_toolkit_answers_every_call_with_a_result() -> None:
    kit, tracker = toolkit(Thread(fail=True), ToolLimits(claim_timeout=0.05))
    assert await kit.call("rm_rf", {}, None) == ToolResult("kimaki has no tool named 'rm_rf'.", error=True)
    unpaired = await kit.call("action_buttons", ARGS, "/p")
    assert unpaired == ToolResult(
        "kimaki could not tell which session made this call; try the call again.", True
    )
    tracker.observe(part_event("ses_a", "c1", "running"))
    failed = await kit.call("action_buttons", ARGS, "/p")
    assert failed == ToolResult(
        "kimaki could not run kimaki_action_buttons: an internal error (see kimaki.log).", True
    )
    tracker.observe(part_event("ses_a", "c2", "running", {"prompt": "x"}, tool="kimaki_file_upload"))
    dismissed = await kit.call("file_upload", {"prompt": "x"}, "/p")
    assert dismissed == ToolResult("The user dismissed the request; nobody uploaded files.")


async def test_an_adapter_that_never_answers_still_times_out() -> None:
    kit, tracker = toolkit(Thread(), ToolLimits(buttons_timeout=0.1, claim_timeout=0.1))
    tracker.observe(part_event("ses_a", "c1", "running"))
    result = await kit.call("action_buttons", ARGS, "/p")
    assert result == ToolResult("Nobody clicked a button within 0.1 seconds; the request expired.")


def test_the_opencode_config_entry_is_merged_into_existing_content() -> None:
    limits = ToolLimits(upload_timeout=300, buttons_timeout=120, claim_timeout=10)
    env = {"HOME": "/h", CONFIG_CONTENT: json.dumps({"share": "manual", "mcp": {"other": {"type": "local"}}})}
    merged = with_agent_tools(env, "http://127.0.0.1:5/mcp", {"Authorization": "Bearer s"}, limits)
    content = json.loads(merged[CONFIG_CONTENT])
    assert (
        merged["HOME"] == "/h"
        and content["share"] == "manual"
        and content["mcp"]["other"] == {"type": "local"}
    )
    assert content["mcp"]["kimaki"] == {
        "type": "remote",
        "url": "http://127.0.0.1:5/mcp",
        "headers": {"Authorization": "Bearer s"},
        "enabled": True,
        "oauth": False,
        "timeout": 370_000,
    }
    assert request_timeout_ms(limits) == 370_000
    with pytest.raises(KimakiError, match="is not valid JSON"):
        with_agent_tools({CONFIG_CONTENT: "{"}, "u", {}, limits)


def test_the_mcp_library_loads_only_when_the_server_starts() -> None:
    code = (
        "import sys, kimaki_tui.agent_tools.toolkit, kimaki_tui.agent_tools.opencode_config, "
        "kimaki_tui.agent_tools.server, kimaki_tui.cli.main; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'mcp', 'uvicorn', 'starlette', 'pydantic'}))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert loaded.strip() == "[]"
