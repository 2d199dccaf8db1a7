"""`kimaki commands sync` against a running kimaki (control API, real bot on the twin, real
OpenCode): a command added to the project shows as a slash command; an unchanged set sends no
update; without a running kimaki it says so."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kimaki_tui.cli.main import main
from tests.automation.rig import AutomationRig, free_port
from tests.automation.test_cli_admin import answered_thread

pytestmark = pytest.mark.opencode


async def test_a_new_opencode_command_is_registered_by_the_cli(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    await answered_thread(rig, "REPLY: ready")  # OpenCode has read the project once already
    folder = rig.bot.project_dir / ".opencode/command"
    folder.mkdir(parents=True)
    (folder / "deploy.md").write_text("---\ndescription: Ship it\n---\nREPLY: shipped\n")
    await rig.server.client.dispose_instance(rig.bot.project_dir)  # as a restarted OpenCode would read it
    synced = await rig.cli("commands", "sync")
    assert synced.code == 0, synced.err
    assert "checked in 1 server" in synced.out
    deploy = next(c for c in rig.twin.commands(rig.bot.guild) if c.name == "deploy-cmd")
    assert deploy.schema["description"] == "Ship it"
    before = len(rig.twin.requests)
    again = await rig.cli("commands", "sync")
    assert again.code == 0, again.err
    assert [r.method for r in rig.twin.requests[before:] if "/commands" in r.path] == ["GET"]


async def test_without_a_running_kimaki_the_cli_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KIMAKI_LOCK_PORT", str(free_port()))
    code = await asyncio.to_thread(main, ["--data-dir", str(tmp_path / "d"), "commands", "sync"])
    assert code == 1
    assert "no kimaki is running for this data dir" in capsys.readouterr().err
