"""Against each real OpenCode (1.18 and the oldest supported, 1.2): a model's thinking levels
(`variants`) as the catalogue lists them and the level a prompt names reaching the model
(`reasoning_effort`), and moving a forked session into a git worktree of its project."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from kimaki_tui.core.worktrees import create_worktree
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.errors import OpenCodeHTTPError
from kimaki_tui.opencode.schema import ModelRef
from kimaki_tui.testing.scripted_model import ScriptedModel, latest_user_text

pytestmark = pytest.mark.opencode

THINKER = {
    "name": "Fake Thinker",
    "tool_call": True,
    "limit": {"context": 64000, "output": 2048},
    "variants": {"low": {"reasoningEffort": "low"}, "high": {"reasoningEffort": "high"}},
}


async def test_a_prompt_names_a_thinking_level(
    versioned_client: OpenCodeClient, project_dir: Path, scripted_model: ScriptedModel
) -> None:
    (project_dir / "opencode.json").write_text(
        json.dumps({"provider": {"fake": {"models": {"fake-thinker": THINKER}}}})
    )
    catalog = await versioned_client.providers(project_dir)
    thinker = catalog.model("fake/fake-thinker")
    assert thinker is not None and thinker.variants == ("low", "high")
    plain = catalog.model("fake/fake-model")
    assert plain is not None and plain.variants == ()

    text = f"REPLY: deep {uuid.uuid4().hex[:8]}"
    session = await versioned_client.create_session(project_dir)
    thinker_ref = ModelRef("fake", "fake-thinker")
    await versioned_client.prompt(
        session.id, project_dir, [{"type": "text", "text": text}], model=thinker_ref, variant="high"
    )
    sent = [b for b in scripted_model.requests if b.get("tools") and latest_user_text(b["messages"]) == text]
    assert sent and sent[0].get("reasoning_effort") == "high"


async def test_a_fork_moves_into_a_worktree(
    versioned_client: OpenCodeClient, project_dir: Path, tmp_path: Path
) -> None:
    worktree = (await create_worktree(project_dir, "side", tmp_path)).path
    session = await versioned_client.create_session(project_dir)
    await versioned_client.prompt(session.id, project_dir, [{"type": "text", "text": "REPLY: hi"}])
    fork = await versioned_client.fork(session.id, project_dir)
    if (await versioned_client.health()).version.startswith("1.2."):
        # The oldest OpenCode has no move-session route (the kimaki bot says so in the thread).
        with pytest.raises(OpenCodeHTTPError):
            await versioned_client.move_session(fork.id, worktree)
        return
    await versioned_client.move_session(fork.id, worktree)
    moved = await versioned_client.get_session(fork.id, worktree)
    assert Path(moved.directory) == worktree
