"""A real `opencode run` in a terminal, attached to the running kimaki's OpenCode server in a
linked project, shows up in Discord as a "Sync:" thread with its answer."""

from __future__ import annotations

import asyncio
import os

import pytest

from tests.automation.rig import AutomationRig

pytestmark = pytest.mark.opencode


async def test_opencode_run_in_a_linked_project_gets_a_thread(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    binary = os.environ.get("OPENCODE_PATH", "opencode")
    url = rig.server.base_url
    assert url is not None
    run = await asyncio.create_subprocess_exec(
        binary, "run", "--attach", url, "--dir", str(rig.bot.project_dir),
        "REPLY: answered for the terminal 5150",
        cwd=rig.bot.project_dir,
        env={**os.environ, "OPENCODE_SERVER_PASSWORD": rig.server.password or ""},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(run.communicate(), 120)
    assert run.returncode == 0, err.decode(errors="replace")
    assert "answered for the terminal 5150" in out.decode(errors="replace")
    thread = await rig.bot.wait_thread(predicate=lambda t: t.name.startswith("Sync:"), timeout=30)
    await rig.bot.wait_bot_message(thread, lambda m: "External session" in m.content)
    answer = "answered for the terminal 5150"
    await rig.bot.wait_bot_message(
        thread, lambda m: answer in m.content and "External session" not in m.content
    )
    row = next(r for r in rig.sessions() if r["thread_id"] == str(thread.id))
    assert row["directory"] == str(rig.bot.project_dir)
