"""The footer's facts from the real OpenCode server: the branch and the context limit, and prompts
sent together in one directory sharing one lookup."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from kimaki_tui.core.server_info import FRESH_FOR, ServerFacts
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.client_http import Exchange
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor

pytestmark = pytest.mark.opencode


async def test_lookups_at_once_in_a_directory_share_one_request(
    opencode_server: OpenCodeSupervisor, project_dir: Path
) -> None:
    branch = ["git", "-C", str(project_dir), "checkout", "-q", "-b", "feature/facts"]
    await asyncio.to_thread(subprocess.run, branch, check=True)
    paths: list[str] = []

    def noted(exchange: Exchange) -> None:
        if not exchange.status:
            paths.append(exchange.path)

    async with OpenCodeClient(str(opencode_server.base_url), opencode_server.password) as client:
        client.watchers.append(noted)
        now = [100.0]
        facts = ServerFacts(client, clock=lambda: now[0])
        await asyncio.gather(*(facts.refresh(str(project_dir)) for _ in range(20)))
        assert facts.branch(str(project_dir)) == "feature/facts"
        assert facts.context_limit("fake", "fake-model") == 128000
        assert paths.count("/vcs") == 1 and paths.count("/config/providers") == 1
        # Right after, the lookup is reused; a second later it is made again (the agent may have
        # switched branches meanwhile).
        await facts.refresh(str(project_dir))
        assert paths.count("/vcs") == 1
        now[0] += FRESH_FOR
        await facts.refresh(str(project_dir))
        assert paths.count("/vcs") == 2 and paths.count("/config/providers") == 1
