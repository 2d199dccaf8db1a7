"""MEMORY.md reaches the model: as context on a session's first prompt, and as a reminder to save
what matters after an idle gap (the core's clock is faked, nobody waits ten minutes)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from kimaki_tui.core.events import TurnFinished
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.testing.scripted_model import ScriptedModel, message_text
from tests.core_rig import CoreRig

pytestmark = pytest.mark.opencode


def last_user_message(model: ScriptedModel, marker: str) -> str:
    """The full text (reminder parts included) of the user message that carried `marker`."""
    for body in reversed(model.requests):
        if not body.get("tools"):
            continue  # title generation
        users: list[Mapping[str, Any]] = [m for m in body.get("messages", []) if m.get("role") == "user"]
        if users and marker in message_text(users[-1]):
            return message_text(users[-1])
    raise AssertionError(f"the model never got {marker!r}")


async def test_memory_context_then_reminder_after_idle_gap(
    opencode_client: OpenCodeClient, project_dir: Path, tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    marker = uuid.uuid4().hex[:8]
    (project_dir / "MEMORY.md").write_text(f"# Notes\nThe build uses tabs-{marker}.\n")
    now = [5000.0]
    async with CoreRig(opencode_client, tmp_path / "core.sqlite", clock=lambda: now[0]) as rig:
        rig.thread(project_dir)
        for count, word in enumerate(("one", "two"), start=1):
            await rig.core.conversations.submit("1000", rig.prompt(f"REPLY: {word}-{marker}"))
            await rig.wait_count(TurnFinished, count)
        first = last_user_message(scripted_model, f"REPLY: one-{marker}")
        assert f"The build uses tabs-{marker}." in first and "<system-reminder>" in first
        second = last_user_message(scripted_model, f"REPLY: two-{marker}")
        assert "MEMORY.md" not in second and "tabs-" not in second

        now[0] += 11 * 60  # eleven quiet minutes
        await rig.core.conversations.submit("1000", rig.prompt(f"REPLY: three-{marker}"))
        await rig.wait_count(TurnFinished, 3)
        third = last_user_message(scripted_model, f"REPLY: three-{marker}")
        assert "About 11 minutes passed" in third and "save what matters" in third and "MEMORY.md" in third
        # The reminder is synthetic: kept out of what people see as the user's message.
        messages = await opencode_client.messages(
            rig.core.conversations.runtime("1000").session_id or "", project_dir
        )
        last_user = [m for m in messages if m.info.is_user][-1]
        synthetic = [p for p in last_user.text_parts() if p.synthetic]
        assert len(synthetic) == 1 and "MEMORY.md" in synthetic[0].text


async def test_no_memory_file_no_extra_parts(
    opencode_client: OpenCodeClient, project_dir: Path, tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    marker = uuid.uuid4().hex[:8]
    async with CoreRig(opencode_client, tmp_path / "core.sqlite") as rig:
        rig.thread(project_dir)
        await rig.core.conversations.submit("1000", rig.prompt(f"REPLY: plain-{marker}"))
        await rig.wait_count(TurnFinished, 1)
    sent = last_user_message(scripted_model, marker)
    # Only kimaki's own context block (core/context.py) comes before the prompt.
    assert "MEMORY.md" not in sent and sent.endswith(f"</system-reminder>\nREPLY: plain-{marker}")
