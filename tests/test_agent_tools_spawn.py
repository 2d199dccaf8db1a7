"""kimaki's MCP server given to OpenCode the way the root does it, in the config it is spawned
with: OpenCode connects, offers the model the five kimaki tools, and still does after a restart.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kimaki_tui.agent_tools.opencode_config import with_agent_tools
from kimaki_tui.agent_tools.toolkit import ToolLimits
from kimaki_tui.opencode.client import OpenCodeClient, text_part
from kimaki_tui.opencode.config_content import CONFIG_CONTENT
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.testing.scripted_model import ScriptedModel
from tests.agent_tools_rig import AgentToolRig

pytestmark = pytest.mark.opencode

KIMAKI_TOOLS = {
    "kimaki_file_upload",
    "kimaki_action_buttons",
    "kimaki_send_file",
    "kimaki_sleep",
    "kimaki_send",
}


@pytest.fixture
async def rig(scripted_model: ScriptedModel) -> AsyncIterator[AgentToolRig]:
    rig = AgentToolRig(scripted_model)
    await rig.start()
    yield rig
    await rig.stop()


@pytest.fixture
async def supervisor(
    rig: AgentToolRig, opencode_binary: str, spare_opencode_env: dict[str, str], tmp_path: Path
) -> AsyncIterator[OpenCodeSupervisor]:
    env = with_agent_tools(spare_opencode_env, rig.server.url, rig.server.headers, rig.toolkit.limits)
    supervisor = OpenCodeSupervisor(binary=opencode_binary, env=env, cwd=tmp_path, health_timeout=60)
    await supervisor.start()
    stream = await rig.watch(supervisor.client)

    async def reconnect() -> None:
        stream.reconnect_now()

    supervisor.on_restarted.append(reconnect)
    yield supervisor
    await supervisor.aclose()


async def offered_tools(rig: AgentToolRig, client: OpenCodeClient, project_dir: Path) -> set[str]:
    place = await rig.session(client, project_dir)
    marker = f"tools-{place.session_id}"
    await client.prompt(place.session_id, project_dir, [text_part(f"REPLY: ok {marker}")], timeout=60)
    body = next(b for b in reversed(rig.model.requests) if marker in str(b.get("messages")))
    return {tool["function"]["name"] for tool in body.get("tools") or []}


async def click_round_trip(rig: AgentToolRig, client: OpenCodeClient, project_dir: Path) -> str:
    place = await rig.session(client, project_dir)
    marker = await rig.call_tool(client, place, "kimaki_action_buttons", {"buttons": ["Ship it"]})
    await rig.thread.click(place.thread_id, "Ship it")
    return await rig.tool_result(marker)


async def test_opencode_spawned_with_the_config_connects_and_survives_a_restart(
    rig: AgentToolRig, supervisor: OpenCodeSupervisor, project_dir: Path
) -> None:
    client = supervisor.client
    assert await client.mcp_status(project_dir) == {"kimaki": "connected"}
    assert await offered_tools(rig, client, project_dir) >= KIMAKI_TOOLS
    assert await click_round_trip(rig, client, project_dir) == "The user clicked: Ship it"

    await supervisor.restart()
    assert await client.mcp_status(project_dir) == {"kimaki": "connected"}
    assert await click_round_trip(rig, client, project_dir) == "The user clicked: Ship it"


def test_the_run_reserves_its_endpoint_and_keeps_other_config_content() -> None:
    from kimaki_tui.root.agent_tools import AgentEndpoint

    endpoint = AgentEndpoint.reserve()
    try:
        env = endpoint.opencode_env({CONFIG_CONTENT: '{"theme": "x"}', "OTHER": "1"}, ToolLimits())
        content = json.loads(env[CONFIG_CONTENT])
        port = endpoint.listener.getsockname()[1]
        assert env["OTHER"] == "1" and content["theme"] == "x"
        assert content["mcp"]["kimaki"]["url"] == f"http://127.0.0.1:{port}/mcp"
        assert content["mcp"]["kimaki"]["headers"] == {"Authorization": f"Bearer {endpoint.secret}"}
    finally:
        endpoint.listener.close()
