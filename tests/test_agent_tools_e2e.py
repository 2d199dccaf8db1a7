"""The agent tools end to end: the scripted model calls each kimaki tool through the real
`opencode serve`, which reaches kimaki's real MCP server; the answer (a click, an upload, a
refusal, a timeout) comes back as the tool result the model receives.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from kimaki_tui.agent_tools.toolkit import ToolLimits
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.testing.scripted_model import ScriptedModel
from tests.agent_tools_rig import AgentToolRig
from tests.harness import wait_turn_done, wait_until

pytestmark = pytest.mark.opencode

MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"},
    },
}


@pytest.fixture(scope="module")
async def rig(scripted_model: ScriptedModel) -> AsyncIterator[AgentToolRig]:
    rig = AgentToolRig(scripted_model, ToolLimits(upload_timeout=600, buttons_timeout=600))
    await rig.start()
    yield rig
    await rig.stop()


@pytest.fixture
async def client(rig: AgentToolRig, opencode_client: OpenCodeClient, project_dir: Path) -> OpenCodeClient:
    await rig.connect(opencode_client, project_dir)
    return opencode_client


async def test_a_click_is_the_tool_result(
    rig: AgentToolRig, client: OpenCodeClient, project_dir: Path
) -> None:
    place = await rig.session(client, project_dir)
    marker = await rig.call_tool(
        client, place, "kimaki_action_buttons", {"buttons": ["Yes", "No"], "prompt": "Deploy now?"}
    )
    shown = await rig.thread.click(place.thread_id, "Yes")
    assert shown.labels == ("Yes", "No") and shown.prompt == "Deploy now?"
    assert await rig.tool_result(marker) == "The user clicked: Yes"
    await wait_turn_done(client, place.session_id, project_dir)
    # OpenCode 1.18 named its project (roots/list), which narrows the pairing to that directory.
    assert str(project_dir) in rig.server.project_directories


@pytest.fixture
def limits(rig: AgentToolRig) -> Iterator[None]:
    """Lets a test shorten the rig's limits; restores them afterwards."""
    before = rig.toolkit.limits
    yield None
    rig.toolkit.limits = before


async def test_uploaded_files_come_back_as_paths(
    rig: AgentToolRig, client: OpenCodeClient, project_dir: Path
) -> None:
    place = await rig.session(client, project_dir)
    marker = await rig.call_tool(
        client, place, "kimaki_file_upload", {"prompt": "Send the logo", "max_files": 2}
    )
    paths = await rig.thread.upload(
        place.thread_id, project_dir, {"logo.png": b"\x89PNG", "notes.txt": b"hi"}
    )
    result = await rig.tool_result(marker)
    assert result.splitlines() == [
        "The user uploaded 2 file(s), saved at:",
        *(f"- {path}" for path in paths),
    ]
    assert all(path.is_relative_to(project_dir) for path in paths)
    upload = next(s for s in rig.thread.shown if s.thread_id == place.thread_id)
    assert upload.prompt == "Send the logo" and upload.state == "answered"


async def test_unanswered_buttons_time_out_with_a_clear_result(
    rig: AgentToolRig, client: OpenCodeClient, project_dir: Path, limits: None
) -> None:
    rig.toolkit.limits = ToolLimits(buttons_timeout=1.0)
    place = await rig.session(client, project_dir)
    marker = await rig.call_tool(client, place, "kimaki_action_buttons", {"buttons": ["Go"]})
    assert await rig.tool_result(marker) == "Nobody clicked a button within 1 seconds; the request expired."
    assert [s.state for s in rig.thread.shown if s.thread_id == place.thread_id] == ["expired"]


async def test_an_unanswered_upload_times_out(
    rig: AgentToolRig, client: OpenCodeClient, project_dir: Path, limits: None
) -> None:
    rig.toolkit.limits = ToolLimits(upload_timeout=1.0)
    place = await rig.session(client, project_dir)
    marker = await rig.call_tool(client, place, "kimaki_file_upload", {"prompt": "Any file"})
    assert await rig.tool_result(marker) == "Nobody uploaded files within 1 seconds; the request expired."


async def test_six_buttons_are_refused(rig: AgentToolRig, client: OpenCodeClient, project_dir: Path) -> None:
    place = await rig.session(client, project_dir)
    labels = [f"Option {n}" for n in range(1, 7)]
    marker = await rig.call_tool(client, place, "kimaki_action_buttons", {"buttons": labels})
    assert "`buttons` has 6 labels; give 1 to 5." in await rig.tool_result(marker)
    assert not [s for s in rig.thread.shown if s.thread_id == place.thread_id]


async def test_a_project_file_is_posted_to_the_thread(
    rig: AgentToolRig, client: OpenCodeClient, project_dir: Path
) -> None:
    (project_dir / "out").mkdir()
    (project_dir / "out/report.md").write_text("# Report\n")
    place = await rig.session(client, project_dir)
    marker = await rig.call_tool(
        client, place, "kimaki_send_file", {"path": "out/report.md", "caption": "Done"}
    )
    assert await rig.tool_result(marker) == "Posted out/report.md (9 bytes) to the thread."
    posted = next(s for s in rig.thread.shown if s.thread_id == place.thread_id)
    assert posted.file is not None
    assert (posted.file.name, posted.file.data, posted.file.caption) == ("report.md", b"# Report\n", "Done")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("traversal", "'../secret.txt' is outside the project directory"),
        ("symlink", "'link.txt' is outside the project directory"),
        ("oversize", "'big.bin' is 26,214,401 bytes (25.0 MB); the limit is 26,214,400 bytes (25.0 MB)."),
        ("missing", "'nope.txt' does not exist in the project directory."),
    ],
)
async def test_send_file_refusals(
    rig: AgentToolRig, client: OpenCodeClient, project_dir: Path, name: str, expected: str
) -> None:
    secret = project_dir.parent / "secret.txt"
    secret.write_text("not for the thread")
    (project_dir / "link.txt").symlink_to(secret)
    with (project_dir / "big.bin").open("wb") as big:
        big.truncate(25 * 2**20 + 1)
    path = {"traversal": "../secret.txt", "symlink": "link.txt", "oversize": "big.bin", "missing": "nope.txt"}
    place = await rig.session(client, project_dir)
    marker = await rig.call_tool(client, place, "kimaki_send_file", {"path": path[name]})
    assert expected in await rig.tool_result(marker)
    assert not [s for s in rig.thread.shown if s.thread_id == place.thread_id]


async def test_sleep_schedules_a_wake(rig: AgentToolRig, client: OpenCodeClient, project_dir: Path) -> None:
    place = await rig.session(client, project_dir)
    before = datetime.now(UTC)
    marker = await rig.call_tool(client, place, "kimaki_sleep", {"duration": "2h", "reason": "CI runs"})
    result = await rig.tool_result(marker)
    [(_, at, reason)] = [w for w in rig.wakes.scheduled if w[0] == place]
    assert reason == "CI runs" and before + timedelta(hours=2) <= at <= datetime.now(UTC) + timedelta(hours=2)
    assert result.startswith(f"Sleeping until {at:%Y-%m-%d %H:%M:%S} UTC. End your turn now")


async def test_a_subagent_cannot_sleep(rig: AgentToolRig, client: OpenCodeClient, project_dir: Path) -> None:
    place = await rig.session(client, project_dir, subagent=True)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    marker = await rig.call_tool(client, place, "kimaki_sleep", {"until": tomorrow, "reason": "x"})
    assert "only the main session can sleep" in await rig.tool_result(marker)
    assert not [w for w in rig.wakes.scheduled if w[0] == place]


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        ("other-project", "Started a session in #other-project (thread thread-"),
        ("locked", "the owner of this thread may not start sessions in #locked."),
        ("nowhere", "no project channel is called 'nowhere'."),
    ],
)
async def test_send_starts_a_session_elsewhere_or_says_why_not(
    rig: AgentToolRig, client: OpenCodeClient, project_dir: Path, channel: str, expected: str
) -> None:
    place = await rig.session(client, project_dir)
    marker = await rig.call_tool(
        client, place, "kimaki_send", {"channel": channel, "prompt": "Bump the version"}
    )
    assert expected in await rig.tool_result(marker)
    started = [s for s in rig.starter.started if s[2] == place]
    assert started == ([("other-project", "Bump the version", place)] if channel == "other-project" else [])


async def test_a_session_kimaki_does_not_run_is_refused(
    rig: AgentToolRig, client: OpenCodeClient, project_dir: Path
) -> None:
    place = await rig.session(client, project_dir)
    del rig.locator.places[place.session_id]
    marker = await rig.call_tool(client, place, "kimaki_action_buttons", {"buttons": ["A"]})
    assert "kimaki tools only work in sessions kimaki runs for a thread." in await rig.tool_result(marker)


async def test_aborting_the_turn_takes_the_buttons_down(
    rig: AgentToolRig, client: OpenCodeClient, project_dir: Path
) -> None:
    place = await rig.session(client, project_dir)
    await rig.call_tool(client, place, "kimaki_action_buttons", {"buttons": ["Wait"]})
    shown = await rig.thread.waiting(place.thread_id, "buttons")
    await client.abort(place.session_id, project_dir)
    await wait_until(lambda: shown.state == "cancelled", 20, 0.05, "the buttons to be cancelled")


async def test_requests_without_the_secret_are_refused(rig: AgentToolRig) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        missing = await http.post(rig.server.url, json=INITIALIZE, headers=MCP_HEADERS)
        wrong = await http.post(
            rig.server.url, json=INITIALIZE, headers={**MCP_HEADERS, "Authorization": "Bearer nope"}
        )
        right = await http.post(
            rig.server.url, json=INITIALIZE, headers={**MCP_HEADERS, **rig.server.headers}
        )
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert missing.json() == {"error": "missing or wrong kimaki MCP secret"}
    assert right.status_code == 200 and "kimaki" in right.text


async def test_the_click_comes_back_on_every_supported_opencode(
    rig: AgentToolRig, versioned_client: OpenCodeClient, project_dir: Path
) -> None:
    await rig.connect(versioned_client, project_dir)
    place = await rig.session(versioned_client, project_dir)
    marker = await rig.call_tool(
        versioned_client, place, "kimaki_action_buttons", {"buttons": ["Red", "Blue"]}
    )
    await rig.thread.click(place.thread_id, "Blue")
    assert await rig.tool_result(marker) == "The user clicked: Blue"
