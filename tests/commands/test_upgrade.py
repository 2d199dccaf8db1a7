"""`kimaki upgrade` and /upgrade-and-restart: how the installation is detected, which commands run,
and what is said — with an injected runner and restarter (no network, no restart of the tests)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import pytest

from kimaki_tui.bot.commands.server import NOT_RESTARTED_TEXT, ServerCog
from kimaki_tui.cli import upgrade_cmd
from kimaki_tui.cli.main import build_parser
from kimaki_tui.upgrade import (
    DIST,
    InstallFacts,
    RunResult,
    Upgrader,
    UpgradeRefused,
    current_facts,
    plan_upgrade,
)
from tests.bot.rig import BotRig

PY = "/opt/env/bin/python"


def facts(
    prefix: Path, installer: str | None = "pip", direct: dict[str, object] | None = None
) -> InstallFacts:
    return InstallFacts(prefix=prefix, executable=PY, installer=installer, direct_url=direct, version="0.1.0")


def test_detects_each_kind_of_installation(tmp_path: Path) -> None:
    assert plan_upgrade(facts(tmp_path)).commands == ((PY, "-m", "pip", "install", "--upgrade", DIST),)
    uv_pip = plan_upgrade(facts(tmp_path, installer="uv"))
    assert (uv_pip.kind, uv_pip.commands) == (
        "uv-pip",
        (("uv", "pip", "install", "--upgrade", "--python", PY, DIST),),
    )
    (tmp_path / "pipx_metadata.json").write_text("{}")
    assert plan_upgrade(facts(tmp_path)).commands == (("pipx", "upgrade", DIST),)
    (tmp_path / "uv-receipt.toml").write_text("")
    assert plan_upgrade(facts(tmp_path, installer="uv")).commands == (("uv", "tool", "upgrade", DIST),)


def test_editable_git_checkout_pulls_and_reinstalls(tmp_path: Path) -> None:
    checkout = tmp_path / "src" / "kimaki tui"
    (checkout / ".git").mkdir(parents=True)
    direct: dict[str, object] = {"url": checkout.as_uri(), "dir_info": {"editable": True}}
    plan = plan_upgrade(facts(tmp_path, direct=direct))
    assert plan.kind == "editable" and plan.checkout == checkout
    assert plan.commands == (
        ("git", "-C", str(checkout), "pull", "--ff-only"),
        (PY, "-m", "pip", "install", "-e", str(checkout)),
    )
    uv = plan_upgrade(facts(tmp_path, installer="uv", direct=direct))
    assert uv.commands[1] == ("uv", "pip", "install", "--python", PY, "-e", str(checkout))


def test_refuses_what_it_cannot_upgrade(tmp_path: Path) -> None:
    folder: dict[str, object] = {"url": (tmp_path / "plain").as_uri(), "dir_info": {"editable": True}}
    with pytest.raises(UpgradeRefused, match="not a git checkout"):
        plan_upgrade(facts(tmp_path, direct=folder))
    vcs: dict[str, object] = {"url": "https://example.invalid/kimaki.git", "vcs_info": {"vcs": "git"}}
    with pytest.raises(UpgradeRefused, match="the same way you installed it"):
        plan_upgrade(facts(tmp_path, direct=vcs))


def test_this_checkout_is_detected_as_editable_git() -> None:
    plan = plan_upgrade(current_facts())
    repo = Path(__file__).resolve().parents[2]
    assert plan.kind == "editable" and plan.checkout == repo


class FakeRunner:
    """Answers like pip/git would: the version query reports `versions` in turn."""

    def __init__(self, *versions: str, fail: str | None = None) -> None:
        self.versions = list(versions)
        self.fail = fail
        self.calls: list[tuple[str, ...]] = []

    async def __call__(self, args: Sequence[str]) -> RunResult:
        self.calls.append(tuple(args))
        if args[1:2] == ("-c",):
            return RunResult(0, self.versions.pop(0) + "\n")
        if self.fail and self.fail in args:
            return RunResult(1, "ERROR: No matching distribution found")
        return RunResult(0, "ok")


def upgrader(tmp_path: Path, runner: FakeRunner, restarted: list[Path]) -> Upgrader:
    async def restart(data_dir: Path) -> bool:
        restarted.append(data_dir)
        return True

    return Upgrader(runner=runner, facts=lambda: facts(tmp_path), restarter=restart)


def test_cli_upgrade_runs_the_plan_and_restarts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["--data-dir", str(tmp_path / "data"), "upgrade"])
    assert args.handler is upgrade_cmd.run_upgrade and not args.skip_restart
    runner, restarted = FakeRunner("0.1.0", "0.2.0"), list[Path]()
    assert upgrade_cmd.run_upgrade(args, upgrader(tmp_path, runner, restarted)) == 0
    assert runner.calls[1] == (PY, "-m", "pip", "install", "--upgrade", DIST)
    assert restarted == [(tmp_path / "data").resolve()]
    out = capsys.readouterr().out
    assert "Upgraded kimaki-tui 0.1.0 → 0.2.0." in out and "Restarting the running kimaki." in out

    skip = argparse.Namespace(skip_restart=True, data_dir=None)
    restarted.clear()
    assert upgrade_cmd.run_upgrade(skip, upgrader(tmp_path, FakeRunner("0.1.0", "0.3.0"), restarted)) == 0
    assert restarted == [] and "--skip-restart" in capsys.readouterr().out
    assert upgrade_cmd.run_upgrade(skip, upgrader(tmp_path, FakeRunner("0.3.0", "0.3.0"), restarted)) == 0
    assert "Already on the latest version (0.3.0)." in capsys.readouterr().out
    failing = FakeRunner("0.3.0", fail="--upgrade")
    assert upgrade_cmd.run_upgrade(skip, upgrader(tmp_path, failing, restarted)) == 1
    assert "No matching distribution" in capsys.readouterr().err


async def test_upgrade_and_restart_command(bot_rig: BotRig, tmp_path: Path) -> None:
    assert bot_rig.bot is not None
    cog = bot_rig.bot.get_cog("ServerCog")
    assert isinstance(cog, ServerCog)
    restarted: list[Path] = []
    cog.upgrader = upgrader(tmp_path, FakeRunner("0.1.0", "0.1.0"), restarted)
    owner = bot_rig.users.owner
    reply = await (await owner.slash(bot_rig.channel, "upgrade-and-restart")).wait_response(15)
    assert reply.content == "Already on the latest version (0.1.0)." and restarted == []

    cog.upgrader = upgrader(tmp_path, FakeRunner("0.1.0", "0.2.0"), restarted)
    inter = await owner.slash(bot_rig.channel, "upgrade-and-restart")
    reply = await inter.wait_response(15)
    assert reply.content == "⬆️ Upgraded kimaki-tui 0.1.0 → 0.2.0; restarting…"
    assert restarted == [bot_rig.settings.data_dir]

    async def refuse(data_dir: Path) -> bool:
        return False

    cog.upgrader = Upgrader(
        runner=FakeRunner("0.2.0", "0.3.0"), facts=lambda: facts(tmp_path), restarter=refuse
    )
    inter = await owner.slash(bot_rig.channel, "upgrade-and-restart")
    await inter.wait_response(15)
    assert (await inter.wait_followup(1, 15)).content == NOT_RESTARTED_TEXT

    member = bot_rig.users.member
    refused = await (await member.slash(bot_rig.channel, "upgrade-and-restart")).wait_response()
    assert refused.ephemeral and "role" in refused.content
