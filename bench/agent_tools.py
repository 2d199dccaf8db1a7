"""What kimaki's MCP server (the agent tools) costs: imports, start-up, and one tool call.

- light import: the agent_tools modules the root imports at start (no MCP library), fresh process,
  on top of the standard modules every kimaki process has already imported;
- server import: what `AgentToolServer.start()` imports on first use (mcp, starlette, uvicorn);
- start: from a fresh interpreter to the server listening, imports included;
- call: one `tools/call` of kimaki_send_file over HTTP (bearer check, session pairing, file
  read, the adapter's send) once the MCP session is up, median of many.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from _common import median, result

RUNS = 7
CALLS = 50
LIGHT = "import kimaki_tui.agent_tools.toolkit, kimaki_tui.agent_tools.opencode_config"
HEAVY = "import kimaki_tui.agent_tools.server, kimaki_tui.agent_tools.embedded_http, mcp.server.lowlevel"


# What a kimaki process has imported before it builds the agent tools (the core parses events).
ALREADY_LOADED = (
    *("asyncio", "datetime", "json", "logging", "pathlib", "re"),
    *("kimaki_tui.errors", "kimaki_tui.opencode.events", "kimaki_tui.opencode.parts"),
)
BASELINE = "import " + ", ".join(ALREADY_LOADED)


def fresh_import(modules: str) -> float:
    """Seconds `modules` take to import in a fresh interpreter, on top of BASELINE."""
    code = f"{BASELINE}; import time; t = time.perf_counter(); {modules}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return float(out)


class Ports:
    """Every port answers at once: the call's cost is kimaki's, not a person's."""

    def __init__(self, place: Any) -> None:
        self.place = place

    async def locate(self, session_id: str) -> Any:
        return self.place

    async def send_file(self, place: Any, file: Any) -> None:
        pass

    async def ask_files(self, place: Any, prompt: str, max_files: int, timeout: float) -> Any:
        raise NotImplementedError

    async def offer_buttons(self, place: Any, prompt: str, labels: Sequence[str], timeout: float) -> Any:
        raise NotImplementedError

    async def schedule_wake(self, place: Any, at: datetime, reason: str) -> None:
        pass

    async def start_session(self, target: str, prompt: str, by: Any) -> Any:
        raise NotImplementedError


def build(directory: Path) -> Any:
    from kimaki_tui.agent_tools.calls import CallTracker
    from kimaki_tui.agent_tools.ports import SessionPlace
    from kimaki_tui.agent_tools.server import AgentToolServer
    from kimaki_tui.agent_tools.toolkit import AgentToolkit

    ports = Ports(SessionPlace("ses_bench", "thread", directory))
    tracker = CallTracker("kimaki_")
    kit = AgentToolkit(locator=ports, actions=ports, wakes=ports, starter=ports, calls=tracker)
    return AgentToolServer(kit), tracker


def part(call: str, arguments: dict[str, Any]) -> Any:
    from kimaki_tui.opencode.events import parse_event

    state = {"status": "running", "input": arguments}
    tool = {"type": "tool", "callID": call, "tool": "kimaki_send_file", "state": state}
    return parse_event(
        {"type": "message.part.updated", "properties": {"sessionID": "ses_bench", "part": tool}}
    )


async def rpc(http: httpx.AsyncClient, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post(url, json=body)
    response.raise_for_status()
    for line in response.text.splitlines():
        if line.startswith("data: "):
            return dict(json.loads(line[6:]))
    return {}


async def time_calls() -> tuple[float, list[float]]:
    directory = Path(tempfile.mkdtemp())
    (directory / "notes.txt").write_text("hello\n")
    server, tracker = build(directory)
    started = time.perf_counter()
    await server.start()
    start_in_process = time.perf_counter() - started
    headers = {**server.headers, "Accept": "application/json, text/event-stream"}
    async with httpx.AsyncClient(headers=headers, timeout=10) as http:
        hello = {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "b", "version": "0"},
        }
        init = await http.post(
            server.url, json={"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": hello}
        )
        http.headers["mcp-session-id"] = init.headers["mcp-session-id"]
        await http.post(server.url, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
        times = []
        for n in range(1, CALLS + 1):
            arguments = {"path": "notes.txt"}
            tracker.observe(part(f"call_{n}", arguments))
            body = {
                "jsonrpc": "2.0",
                "id": n,
                "method": "tools/call",
                "params": {"name": "send_file", "arguments": arguments},
            }
            t = time.perf_counter()
            reply = await rpc(http, server.url, body)
            times.append(time.perf_counter() - t)
            assert reply["result"]["content"][0]["text"].startswith("Posted notes.txt"), reply
    await server.stop()
    return start_in_process, times


async def start_once(began: float) -> None:
    """Start a server and print the seconds since `began` (taken before any kimaki import)."""
    server, _ = build(Path(tempfile.mkdtemp()))
    await server.start()
    print(time.perf_counter() - began)
    await server.stop()


def fresh_start() -> float:
    code = (
        "import asyncio, sys, time; began = time.perf_counter(); sys.path.insert(0, 'bench'); "
        "import agent_tools; asyncio.run(agent_tools.start_once(began))"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=root)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    light = [fresh_import(LIGHT) for _ in range(RUNS)]
    heavy = [fresh_import(HEAVY) for _ in range(RUNS)]
    starts = [fresh_start() for _ in range(RUNS)]
    _, calls = asyncio.run(time_calls())
    print(f"{RUNS} fresh processes per import/start figure; {CALLS} calls of kimaki_send_file")
    result("agent_tools_light_import", median(light) * 1000, "ms", "<=30")
    result("agent_tools_server_import", median(heavy) * 1000, "ms", "info (paid when the server starts)")
    result("agent_tools_start", median(starts) * 1000, "ms", "<=1000")
    result("agent_tools_call_round_trip", median(calls) * 1000, "ms", "<=20")


if __name__ == "__main__":
    main()
