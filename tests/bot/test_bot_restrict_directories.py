"""--restrict-directories: OpenCode started with kimaki's external_directory allow-list writes to
a safe folder outside the project without asking, and asks in Discord before any other folder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kimaki_tui.opencode.directory_rules import external_directory_rule, with_directory_rule
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.testing.opencode_env import make_opencode_env
from kimaki_tui.testing.scripted_model import ScriptedModel
from tests.bot.rig import bot_rig_context, is_footer

pytestmark = pytest.mark.opencode


@pytest.fixture
async def restricted_server(
    opencode_binary: str, scripted_model: ScriptedModel, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[OpenCodeSupervisor, Path]]:
    """Its own OpenCode, whose only safe folder outside a project is `scratch` (when the test's
    `restrict` parameter says so; else kimaki's default rule: any folder)."""
    root, scratch = tmp_path / "opencode", tmp_path / "scratch"
    root.mkdir()
    scratch.mkdir()
    rule = external_directory_rule(bool(getattr(request, "param", True)), [scratch])
    env = with_directory_rule(make_opencode_env(root, scripted_model.base_url), rule)
    supervisor = OpenCodeSupervisor(binary=opencode_binary, env=env, cwd=root, health_timeout=60.0)
    await supervisor.start()
    yield supervisor, scratch
    await supervisor.aclose()


async def test_only_safe_folders_are_used_without_asking(
    restricted_server: tuple[OpenCodeSupervisor, Path], project_dir: Path, tmp_path: Path
) -> None:
    server, scratch = restricted_server
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    async with bot_rig_context(server.client, project_dir, tmp_path / "rig") as rig:
        await rig.user_says("owner", f"WRITE_FILE: {scratch}/notes.txt safe")
        thread = await rig.wait_thread()
        await rig.wait_bot_message(thread, is_footer)
        assert (scratch / "notes.txt").read_text() == "safe"
        assert not any("Permission needed" in m.content for m in rig.bot_messages(thread))

        await rig.user_says("owner", f"WRITE_FILE: {elsewhere}/notes.txt unsafe", thread)
        prompt = await rig.wait_bot_message(thread, lambda m: "Permission needed" in m.content)
        assert "external\\_directory" in prompt.content  # the long path itself may be shortened
        [request] = rig.core.approvals.pending_permissions()
        assert request.kind == "external_directory" and f"{elsewhere}/*" in request.always
        await rig.users.owner.click(prompt, f"kimaki:perm:reject:{request.request_id}")
        await rig.twin.wait_until(lambda: prompt.content.startswith("❌ Denied by owner"), 10, "the denial")
        await rig.wait_idle(thread)
        assert not (elsewhere / "notes.txt").exists()


@pytest.mark.parametrize("restricted_server", [False], indirect=True)
async def test_without_the_flag_any_folder_is_used_without_asking(
    restricted_server: tuple[OpenCodeSupervisor, Path], project_dir: Path, tmp_path: Path
) -> None:
    server, _ = restricted_server
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    async with bot_rig_context(server.client, project_dir, tmp_path / "rig") as rig:
        await rig.user_says("owner", f"WRITE_FILE: {elsewhere}/notes.txt anywhere")
        thread = await rig.wait_thread()
        await rig.wait_bot_message(thread, is_footer)
        assert (elsewhere / "notes.txt").read_text() == "anywhere"
        assert not any("Permission needed" in m.content for m in rig.bot_messages(thread))
