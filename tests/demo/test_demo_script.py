"""`kimaki demo --no-tui --script FILE` as a subprocess: the real entry point with its own twin,
scripted model and OpenCode, replaying a message, a permission, a question, /queue and /abort."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.opencode

FLOW = Path(__file__).with_name("flow.txt")


def demo(
    args: list[str], home: Path, opencode: str | None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIMAKI_", "OPENCODE_"))}
    env["HOME"] = str(home)  # a stray ~/.kimaki or ~/.config/opencode would show up here
    if opencode is not None:
        env["OPENCODE_PATH"] = opencode
    else:
        env["PATH"] = str(Path(sys.executable).parent)  # no opencode on it
    return subprocess.run(
        [sys.executable, "-m", "kimaki_tui", "demo", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def test_the_scripted_flow_prints_the_transcript(opencode_binary: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    done = demo(["--no-tui", "--script", str(FLOW)], home, opencode_binary)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    channel, _, threads = out.partition("=== thread: Hello kimaki ===")
    assert "=== #sample-project ===" in channel
    assert "you: Hello kimaki\n  [thread: Hello kimaki]" in channel
    lines = threads.splitlines()
    expected_in_order = [
        "Kimaki: ⬥ Echo: Hello kimaki",
        "you: RUN_BASH: echo hi > demo.txt",
        "Kimaki: ✅ Accepted once by you",
        "Kimaki: ┣ bash `echo hi > demo.txt`",
        "you: ASK_QUESTION",
        "Kimaki: ✅ **Color** — Blue",
        'Kimaki: ⬥ Tool said: User has answered your questions: "Which color do you prefer?"="Blue".',
        "you: SLOW:30",
        "Kimaki: Queued (position 1)",
        "Kimaki: Aborted the current answer.",
        "Kimaki: » **you:** REPLY: queued hello",
        "Kimaki: ⬥ queued hello",
    ]
    position = 0
    for wanted in expected_in_order:
        found = next((i for i in range(position, len(lines)) if lines[i].startswith(wanted)), None)
        assert found is not None, f"{wanted!r} missing (in order) from:\n{out}"
        position = found + 1
    assert lines[-1].startswith("Kimaki: *sample-project · ") and "fake-model" in lines[-1]
    assert not any("tick 99" in line for line in lines), "the slow answer was not cut short"
    assert not (home / ".kimaki").exists()
    assert not (home / ".config" / "opencode").exists()


def test_a_bad_script_is_refused_before_anything_starts(tmp_path: Path) -> None:
    script = tmp_path / "bad.txt"
    script.write_text("say: hello\npress: Accept\n")
    done = demo(["--no-tui", "--script", str(script)], tmp_path, None, timeout=60)
    assert done.returncode == 2
    assert "line 2: expected one of say, new, click, select, slash, wait" in done.stderr


def test_without_opencode_it_says_how_to_install_it(tmp_path: Path) -> None:
    done = demo(["--no-tui", "--script", str(FLOW)], tmp_path, None, timeout=60)
    assert done.returncode == 1
    assert "npm install -g opencode-ai" in done.stderr
    assert done.stdout == ""
