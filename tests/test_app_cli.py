"""The root `kimaki` command as a user runs it: clear start-up errors, nothing on stdout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_kimaki(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kimaki_tui", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


OFFLINE_DISCORD = {
    "KIMAKI_BOT_TOKEN": "MTAwMDAwMDAwMDAwMDAwMDAx.fake.token-for-tests",
    # A closed local port: the bot worker never reaches out to the internet in these tests.
    "KIMAKI_DISCORD_API_URL": "http://127.0.0.1:9/api/v10",
    "KIMAKI_DISCORD_GATEWAY_URL": "ws://127.0.0.1:9/gateway",
}


def test_no_token_names_the_env_var(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "KIMAKI_BOT_TOKEN"}
    done = run_kimaki(["--no-tui", "--data-dir", str(tmp_path / "data")], env)
    assert done.returncode == 2
    assert "KIMAKI_BOT_TOKEN" in done.stderr and done.stdout == ""


def test_missing_opencode_says_how_to_install(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENCODE_PATH"} | OFFLINE_DISCORD
    env["PATH"] = "/usr/bin:/bin"  # no opencode here
    env["HOME"] = str(tmp_path)
    data = tmp_path / "data"
    done = run_kimaki(["--no-tui", "--data-dir", str(data)], env)
    assert done.returncode == 1
    assert "opencode" in done.stderr.lower() and "npm install -g opencode-ai" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    log = (data / "kimaki.log").read_text()
    assert "OpenCode could not start" in log
    assert OFFLINE_DISCORD["KIMAKI_BOT_TOKEN"] not in log  # secrets never reach the log


def test_opencode_path_to_nothing_is_named(tmp_path: Path) -> None:
    env = {**os.environ, **OFFLINE_DISCORD, "OPENCODE_PATH": str(tmp_path / "no-such-opencode")}
    env["HOME"] = str(tmp_path)
    done = run_kimaki(["--no-tui", "--data-dir", str(tmp_path / "data")], env)
    assert done.returncode == 1
    assert "no-such-opencode" in done.stderr and "Traceback" not in done.stderr
