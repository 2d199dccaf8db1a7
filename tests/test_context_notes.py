"""A message that is context, not a prompt: added to the session without a turn when idle, and
held during a turn (OpenCode would answer it after the turn) to go with the next prompt."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimaki_tui.core.events import TextDelta, TurnFinished
from kimaki_tui.core.prompts import PromptInput
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.testing.scripted_model import ScriptedModel, latest_user_text
from tests.core_rig import CoreRig
from tests.harness import texts, wait_until

pytestmark = pytest.mark.opencode


def note(text: str) -> PromptInput:
    return PromptInput(text, author_name="bob", origin="test")


async def test_a_note_during_a_turn_waits_for_the_next_prompt(
    opencode_client: OpenCodeClient, project_dir: Path, tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    async with CoreRig(opencode_client, tmp_path / "db.sqlite") as rig:
        thread = rig.thread(project_dir)
        await rig.core.conversations.submit(thread.thread_id, rig.prompt("SLOW:1 working"))
        await rig.wait_for(TextDelta)
        await rig.core.conversations.note(thread.thread_id, note("nice work"))
        await rig.wait_count(TurnFinished, 1)
        asked = len(scripted_model.requests)

        await rig.core.conversations.submit(thread.thread_id, rig.prompt("REPLY: next"))
        await rig.wait_count(TurnFinished, 2)
        turns = [b for b in scripted_model.requests[asked:] if b.get("tools")]
        assert len(turns) == 1  # no turn ran for the note itself
        assert latest_user_text(turns[0]["messages"]).endswith("REPLY: next")
        assert "[bob, to the others in the thread] nice work" in str(turns[0]["messages"][-1])


async def test_a_note_while_idle_joins_the_session_without_a_turn(
    opencode_client: OpenCodeClient, project_dir: Path, tmp_path: Path
) -> None:
    async with CoreRig(opencode_client, tmp_path / "db.sqlite") as rig:
        thread = rig.thread(project_dir)
        await rig.core.conversations.submit(thread.thread_id, rig.prompt("REPLY: done"))
        await rig.wait_count(TurnFinished, 1)
        await rig.core.conversations.note(thread.thread_id, note("thanks!"))

        async def in_session() -> list[str]:
            said = [t for m in await rig.core.history.messages(thread.thread_id) for t in texts(m)]
            return [t for t in said if t.endswith("thanks!")]

        assert await wait_until(in_session, 20, message="the note in the session") == [
            "[bob, to the others in the thread] thanks!"
        ]
        assert not thread.busy and len(rig.of_type(TurnFinished)) == 1
