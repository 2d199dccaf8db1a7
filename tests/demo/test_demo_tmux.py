"""The real `kimaki demo` in tmux (120x40): the Discord view opens, a typed message asks for
permission, Accept is pressed from the keyboard, the view shows the result; Ctrl+C ends it."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.harness import wait_until

pytestmark = [
    pytest.mark.opencode,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (scripts/setup.sh --dev)"),
]


def tmux(socket: str, *args: str) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, check=False).stdout


async def test_kimaki_demo_in_tmux(opencode_binary: str, tmp_path: Path) -> None:
    socket = f"kimaki-demo-{uuid.uuid4().hex[:8]}"
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "OPENCODE_PATH": opencode_binary,
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
    }
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command = f"env -i {exports} {shlex.quote(sys.executable)} -m kimaki_tui demo"
    tmux(socket, "new-session", "-d", "-x", "120", "-y", "40", command)

    def screen() -> str:
        return tmux(socket, "capture-pane", "-p")

    try:
        await wait_until(lambda: "Message # sample-project" in screen(), 60, 0.3, "the Discord view")
        assert "6 Discord" in screen() and "sample-project" in screen()
        tmux(socket, "send-keys", "m")  # focus starts on the chat: m opens the message box
        tmux(socket, "send-keys", "-l", "RUN_BASH: echo tmux > tmux.txt")
        tmux(socket, "send-keys", "Enter")
        await wait_until(lambda: "Permission needed" in screen(), 90, 0.3, "the permission prompt")
        assert "Accept Always" in screen()
        # Shift+Tab from the message box walks back over Deny and Accept Always to Accept.
        for _ in range(3):
            tmux(socket, "send-keys", "BTab")
        tmux(socket, "send-keys", "Enter")
        await wait_until(lambda: "Accepted once by you" in screen(), 60, 0.3, "the edited prompt")
        await wait_until(lambda: "Tool said" in screen(), 60, 0.3, "the rest of the turn")
        tmux(socket, "send-keys", "C-c")
        # If the turn has not quite ended yet, quitting asks first: confirm.
        await wait_until(
            lambda: not tmux(socket, "list-sessions") or "Quit kimaki anyway?" in screen(),
            30,
            0.3,
            "exit or ask",
        )
        if tmux(socket, "list-sessions"):
            tmux(socket, "send-keys", "y")
        await wait_until(lambda: not tmux(socket, "list-sessions"), 30, 0.5, "kimaki demo to exit")
    finally:
        tmux(socket, "kill-server")
    assert not (home / ".kimaki").exists()


async def test_kimaki_demo_at_80x24_approve_abort_queue(opencode_binary: str, tmp_path: Path) -> None:
    """The smallest terminal: a permission approved from the Approvals screen, then a slow answer
    with a prompt queued behind it, aborted — the queued prompt is answered, all on 80×24."""
    socket = f"kimaki-demo-{uuid.uuid4().hex[:8]}"
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "OPENCODE_PATH": opencode_binary,
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
    }
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command = f"env -i {exports} {shlex.quote(sys.executable)} -m kimaki_tui demo"
    tmux(socket, "new-session", "-d", "-x", "80", "-y", "24", command)

    def screen() -> str:
        return tmux(socket, "capture-pane", "-p")

    def say(text: str) -> None:
        tmux(socket, "send-keys", "-l", text)
        tmux(socket, "send-keys", "Enter")

    try:
        await wait_until(lambda: "Message # sample-project" in screen(), 60, 0.3, "the Discord view")
        # At first the header may show the data dir instead of the last tabs.
        await wait_until(lambda: "6 Discord" in screen(), 30, 0.3, "every tab in the header")
        tmux(socket, "send-keys", "m")
        say("RUN_BASH: echo small > small.txt")
        await wait_until(lambda: "Permission needed" in screen(), 90, 0.3, "the permission prompt")
        tmux(socket, "send-keys", "Escape")  # leave the box (alone: Esc then 2 at once is Alt+2)
        await wait_until(lambda: "m Message" in screen(), 30, 0.3, "the chat to have the focus")
        tmux(socket, "send-keys", "2")  # the digits switch screens again
        await wait_until(lambda: "Approve once" in screen() and "Deny" in screen(), 30, 0.3, "Approvals")
        tmux(socket, "send-keys", "o")
        await wait_until(lambda: "Nothing is waiting" in screen(), 30, 0.3, "the approval to go")
        tmux(socket, "send-keys", "6")
        await wait_until(lambda: "Accepted once by" in screen(), 60, 0.3, "the edited prompt")
        await wait_until(lambda: "Tool said" in screen(), 60, 0.3, "the rest of the turn")
        await wait_until(lambda: "m Message" in screen(), 30, 0.3, "the chat to have the focus again")
        tmux(socket, "send-keys", "m")
        await wait_until(lambda: "esc Read" in screen(), 30, 0.3, "the message box to have the focus")
        say("SLOW:30")
        # The first turn's typing line may still show: wait for this message, then for typing.
        await wait_until(lambda: "SLOW:30" in screen(), 60, 0.3, "the slow prompt in the thread")
        await wait_until(lambda: "is typing" in screen(), 60, 0.3, "the slow answer to start")
        say("/queue message=REPLY: queued at 80 columns")
        await wait_until(lambda: "Queued (position 1)" in screen(), 60, 0.3, "the queue reply")
        say("/abort")
        await wait_until(
            lambda: "queued at 80 columns" in screen().split("Queued (position 1)")[-1], 90, 0.3, "the answer"
        )
        tmux(socket, "send-keys", "C-c")
        await wait_until(
            lambda: not tmux(socket, "list-sessions") or "Quit kimaki anyway?" in screen(), 30, 0.3, "ask"
        )
        if tmux(socket, "list-sessions"):
            tmux(socket, "send-keys", "y")
        await wait_until(lambda: not tmux(socket, "list-sessions"), 30, 0.5, "kimaki demo to exit")
    finally:
        tmux(socket, "kill-server")
