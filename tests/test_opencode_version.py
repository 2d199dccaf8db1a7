"""The supported OpenCode range: parsing versions, the verdicts, and the check at start-up."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from kimaki_tui.opencode.errors import OpenCodeStartError, OpenCodeTooOld
from kimaki_tui.opencode.status import ServerStatus
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.opencode.version import (
    NEWEST_TESTED,
    OLDEST_SUPPORTED,
    Version,
    check_version,
    parse_version_output,
    probe_binary_version,
)
from tests.fake_opencode import EXITS_AT_ONCE, HEALTHY_THEN_EXIT, fake_binary
from tests.harness import DEFAULT_OPENCODE, wait_until
from tests.test_app_cli import OFFLINE_DISCORD, run_kimaki

SERVES = HEALTHY_THEN_EXIT.replace("LIFETIME", "600")


def test_versions_parse_and_order() -> None:
    assert Version.parse("1.2.27") == Version(1, 2, 27)
    assert Version.parse("v1.18.33\n") == Version(1, 18, 33)
    assert Version.parse("1.3.0-beta.2") == Version(1, 3, 0)
    assert Version.parse("fake") is None and Version.parse("") is None
    assert Version(1, 2, 27) < Version(1, 18, 0) < Version(1, 18, 33) < Version(2, 0, 0)
    assert str(Version(1, 2, 0)) == "1.2.0"


def test_version_output_with_noise_around_it() -> None:
    # Offline, OpenCode logs that it could not reach models.dev, before or after the version.
    noisy = "ERROR 2026-12-04T14:31:05 +178ms service=models.dev Failed to fetch models.dev\n1.2.27\n"
    assert parse_version_output(noisy) == Version(1, 2, 27)
    assert parse_version_output("1.18.33\nERROR 2026-12-04T14:31:05 +178ms service=models.dev") == (
        Version(1, 18, 33)
    )
    assert parse_version_output("error: unknown option --version") is None


def test_verdicts_and_their_messages() -> None:
    assert Version(1, 2, 27) >= OLDEST_SUPPORTED and Version(1, 18, 33) == NEWEST_TESTED
    for supported in ("1.2.0", "1.2.27", "1.14.2", "1.18.33"):
        check = check_version(Version.parse(supported))
        assert (check.verdict, check.ok, check.message) == ("supported", True, "")
    old = check_version(Version(1, 1, 9))
    assert (old.verdict, old.ok) == ("too_old", False)
    assert old.message == "OpenCode 1.1.9 is older than the oldest supported 1.2.0."
    new = check_version(Version(1, 19, 0))
    assert (new.verdict, new.ok) == ("newer_than_tested", True)
    assert new.short == "OpenCode 1.19.0 is newer than the newest tested 1.18.33"
    assert "kimaki runs anyway" in new.message
    unknown = check_version(None)
    assert unknown.ok and "supports 1.2.0 to 1.18.33" in unknown.message


@pytest.mark.opencode
async def test_the_pinned_opencode_reports_a_supported_version() -> None:
    binary = os.environ.get("OPENCODE_PATH") or str(DEFAULT_OPENCODE)
    version = await probe_binary_version(binary, {"OPENCODE_DISABLE_MODELS_FETCH": "1"})
    assert version is not None and check_version(version).verdict == "supported"


async def test_too_old_opencode_is_refused_with_how_to_upgrade(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    statuses: list[ServerStatus] = []
    binary = fake_binary(tmp_path, "opencode", SERVES, version="1.1.9")
    supervisor = OpenCodeSupervisor(binary=binary, on_status=statuses.append, health_timeout=20)
    try:
        with pytest.raises(OpenCodeTooOld) as refused:
            await supervisor.start()
    finally:
        await supervisor.aclose()
    assert str(refused.value) == "OpenCode 1.1.9 is older than the oldest supported 1.2.0."
    assert "npm install -g opencode-ai@latest" in refused.value.hint and "OPENCODE_PATH" in refused.value.hint
    failed = next(s for s in statuses if s.state == "failed")
    assert failed.detail.startswith("OpenCode 1.1.9 is older") and failed.warning == ""
    assert [r.message for r in caplog.records if r.levelno == logging.ERROR] == [
        f"OpenCode 1.1.9 is older than the oldest supported 1.2.0. {OpenCodeTooOld.hint}"
    ]


async def test_an_old_opencode_that_cannot_even_serve_is_named(tmp_path: Path) -> None:
    binary = fake_binary(tmp_path, "opencode", EXITS_AT_ONCE, version="0.15.31")
    supervisor = OpenCodeSupervisor(binary=binary, health_timeout=20)
    try:
        with pytest.raises(OpenCodeTooOld, match=r"OpenCode 0\.15\.31 is older") as refused:
            await supervisor.start()
    finally:
        await supervisor.aclose()
    # What actually went wrong stays attached.
    assert isinstance(refused.value.__cause__, OpenCodeStartError)


async def test_newer_opencode_runs_with_one_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    statuses: list[ServerStatus] = []
    # The server says nothing about its version: the binary is asked instead.
    binary = fake_binary(tmp_path, "opencode", SERVES, version="1.19.0", reported="")
    supervisor = OpenCodeSupervisor(binary=binary, on_status=statuses.append, health_timeout=20)
    try:
        await supervisor.start()
        await wait_until(lambda: statuses[-1].state == "healthy", 5, 0.05, "a healthy status")
        await supervisor.restart()
    finally:
        await supervisor.aclose()
    healthy = [s for s in statuses if s.state == "healthy"]
    assert [s.warning for s in healthy] == ["OpenCode 1.19.0 is newer than the newest tested 1.18.33"] * 2
    warnings = [r.message for r in caplog.records if r.levelno == logging.WARNING and "1.19.0" in r.message]
    assert len(warnings) == 1  # once, not at every (re)start


def test_kimaki_refuses_an_old_opencode_at_start(tmp_path: Path) -> None:
    binary = fake_binary(tmp_path, "opencode", EXITS_AT_ONCE, version="1.1.9")
    env = {**os.environ, **OFFLINE_DISCORD, "OPENCODE_PATH": binary, "HOME": str(tmp_path)}
    done = run_kimaki(["--no-tui", "--data-dir", str(tmp_path / "data")], env)
    assert done.returncode == 1
    assert "OpenCode 1.1.9 is older than the oldest supported 1.2.0." in done.stderr
    assert "npm install -g opencode-ai@latest" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_the_control_center_shows_the_warning_while_healthy() -> None:
    from kimaki_tui.screens.format import Palette
    from kimaki_tui.screens.widgets.status_bar import server_text

    warning = check_version(Version(1, 19, 0)).short
    line = server_text(ServerStatus("healthy", port=4567, warning=warning), None, Palette()).plain
    assert line == f"OpenCode ● healthy · port 4567 · ⚠ {warning}"
    assert warning == "OpenCode 1.19.0 is newer than the newest tested 1.18.33"
    assert "⚠" not in server_text(ServerStatus("healthy", port=4567), None, Palette()).plain
