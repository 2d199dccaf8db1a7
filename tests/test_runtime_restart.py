"""The composition root's services with their own OpenCode server: killing OpenCode mid-turn is
survived."""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

import pytest

from kimaki_tui.core.events import PartCompleted, SessionFailed, TextDelta, TurnFinished
from kimaki_tui.core.prompts import PromptInput
from kimaki_tui.opencode.status import ServerStatus
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.root.build import Services
from kimaki_tui.root.offline import open_secrets
from kimaki_tui.settings import SessionSettings, Settings
from kimaki_tui.testing.scripted_model import ScriptedModel
from tests.harness import wait_until

pytestmark = pytest.mark.opencode


async def test_kill_opencode_mid_turn_restarts_and_keeps_queue(
    opencode_binary: str,
    spare_opencode_env: dict[str, str],
    project_dir: Path,
    tmp_path: Path,
    scripted_model: ScriptedModel,
) -> None:
    marker = uuid.uuid4().hex[:8]
    settings = Settings(data_dir=tmp_path / "data", sessions=SessionSettings(busy_policy="queue"))
    settings.data_dir.mkdir()
    supervisor = OpenCodeSupervisor(binary=opencode_binary, env=spare_opencode_env)
    runtime = Services(settings, open_secrets(settings, env={}), supervisor)
    events: list[object] = []
    runtime.bus.add_callback(events.append)
    async with runtime:
        await runtime.wait_ready(60)
        core = runtime.core
        thread = core.sessions.open("42", "7", str(project_dir))
        await core.conversations.submit("42", PromptInput(f"SLOW:30 {marker} doomed", author_name="alice"))
        await core.conversations.submit(
            "42", PromptInput(f"REPLY: {marker} after restart", author_name="alice")
        )
        await wait_until(lambda: any(isinstance(e, TextDelta) for e in events), 30, message="streaming")
        old_pid = runtime.supervisor.pid
        assert old_pid is not None
        os.kill(old_pid, signal.SIGKILL)

        failed = await wait_until(
            lambda: next((e for e in events if isinstance(e, SessionFailed)), None), 30, message="failed turn"
        )
        assert failed.name == "ServerRestarted" and failed.session_id == thread.session_id
        states = [e.state for e in events if isinstance(e, ServerStatus)]
        assert "restarting" in states
        await wait_until(lambda: runtime.supervisor.healthy and runtime.supervisor.pid != old_pid, 60)

        # The queued message survived and is answered by the restarted server.
        await wait_until(
            lambda: any(isinstance(e, PartCompleted) and e.text == f"{marker} after restart" for e in events),
            60,
            message="queued prompt answered after the restart",
        )
        await wait_until(
            lambda: any(isinstance(e, TurnFinished) and e.natural for e in events), 30, message="natural turn"
        )
        assert thread.queue() == ()
        # And a fresh prompt works too.
        await core.conversations.submit("42", PromptInput("REPLY: still alive", author_name="alice"))
        await wait_until(
            lambda: any(isinstance(e, PartCompleted) and e.text == "still alive" for e in events), 30
        )
    assert runtime.supervisor.pid is None or not _alive(old_pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
