"""The real `kimaki demo` in tmux (120x40): the Discord view opens, a typed message asks for
permission, Accept is pressed from the keyboard, the view shows the result; Ctrl+C ends it."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.harness import wait_until

pytestmark = [
    pytest.mark.opencode,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (scripts/setup.sh --dev)"),
]


def tmux(socket: str, *args: str) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, check=False).stdout


class DemoPane:
    """`kimaki demo` in a tmux pane of the given size, with its temporary files under `tmp_path`
    so that a timed-out wait can show the screen and the end of the demo's log."""

    def __init__(self, opencode_binary: str, tmp_path: Path, width: int, height: int) -> None:
        self.socket = f"kimaki-demo-{uuid.uuid4().hex[:8]}"
        self.home = tmp_path / "home"
        self.home.mkdir()
        self.tmp = tmp_path / "tmp"
        self.tmp.mkdir()
        env = {
            "HOME": str(self.home),
            "TMPDIR": str(self.tmp),
            "OPENCODE_PATH": opencode_binary,
            "TERM": "xterm-256color",
            "PATH": os.environ.get("PATH", ""),
        }
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        command = f"env -i {exports} {shlex.quote(sys.executable)} -m kimaki_tui demo"
        tmux(self.socket, "new-session", "-d", "-x", str(width), "-y", str(height), command)

    def screen(self) -> str:
        return tmux(self.socket, "capture-pane", "-p")

    def keys(self, *keys: str) -> None:
        tmux(self.socket, "send-keys", *keys)

    def say(self, text: str) -> None:
        self.keys("-l", text)
        self.keys("Enter")

    def running(self) -> bool:
        return bool(tmux(self.socket, "list-sessions"))

    async def wait(self, shown: Callable[[str], bool], timeout: float, what: str) -> None:
        try:
            await wait_until(lambda: shown(self.screen()), timeout, 0.3, what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.seen()}") from None

    def seen(self) -> str:
        logs = sorted(self.tmp.glob("kimaki-demo-*/data/kimaki.log"))
        tail = logs[0].read_text().splitlines()[-60:] if logs else ["(no log)"]
        return "screen:\n" + self.screen() + "\nkimaki.log (end):\n" + "\n".join(tail)

    async def quit(self) -> None:
        """Ctrl+C; if the turn has not quite ended yet, quitting asks first: confirm."""
        self.keys("C-c")
        await wait_until(
            lambda: not self.running() or "Quit kimaki anyway?" in self.screen(), 30, 0.3, "exit or ask"
        )
        if self.running():
            self.keys("y")
        await wait_until(lambda: not self.running(), 30, 0.5, "kimaki demo to exit")

    def close(self) -> None:
        tmux(self.socket, "kill-server")


async def test_kimaki_demo_in_tmux(opencode_binary: str, tmp_path: Path) -> None:
    demo = DemoPane(opencode_binary, tmp_path, 120, 40)
    try:
        await demo.wait(lambda s: "Message # sample-project" in s, 60, "the Discord view")
        await demo.wait(lambda s: "6 Discord" in s and "sample-project" in s, 30, "every tab in the header")
        demo.keys("m")  # focus starts on the chat: m opens the message box
        await demo.wait(lambda s: "esc Read" in s, 30, "the message box to have the focus")
        demo.say("RUN_BASH: echo tmux > tmux.txt")
        await demo.wait(lambda s: "Permission needed" in s, 90, "the permission prompt")
        assert "Accept Always" in demo.screen()
        # Shift+Tab from the message box walks back over Deny and Accept Always to Accept.
        for _ in range(3):
            demo.keys("BTab")
        demo.keys("Enter")
        await demo.wait(lambda s: "Accepted once by you" in s, 60, "the edited prompt")
        await demo.wait(lambda s: "Tool said" in s, 60, "the rest of the turn")
        await demo.quit()
    finally:
        demo.close()
    assert not (demo.home / ".kimaki").exists()
    assert not list(demo.tmp.glob("kimaki-demo-*"))  # the demo's temporary directory is gone too


async def test_kimaki_demo_at_80x24_approve_abort_queue(opencode_binary: str, tmp_path: Path) -> None:
    """The smallest terminal: a permission approved from the Approvals screen, then a slow answer
    with a prompt queued behind it, aborted — the queued prompt is answered, all on 80×24."""
    demo = DemoPane(opencode_binary, tmp_path, 80, 24)
    try:
        await demo.wait(lambda s: "Message # sample-project" in s, 60, "the Discord view")
        # At first the header may show the data dir instead of the last tabs.
        await demo.wait(lambda s: "6 Discord" in s, 30, "every tab in the header")
        demo.keys("m")
        await demo.wait(lambda s: "esc Read" in s, 30, "the message box to have the focus")
        demo.say("RUN_BASH: echo small > small.txt")
        await demo.wait(lambda s: "Permission needed" in s, 90, "the permission prompt")
        demo.keys("Escape")  # leave the box (alone: Esc then 2 at once is Alt+2)
        await demo.wait(lambda s: "m Message" in s, 30, "the chat to have the focus")
        demo.keys("2")  # the digits switch screens again
        await demo.wait(lambda s: "Approve once" in s and "Deny" in s, 30, "Approvals")
        demo.keys("o")
        await demo.wait(lambda s: "Nothing is waiting" in s, 30, "the approval to go")
        demo.keys("6")
        await demo.wait(lambda s: "Accepted once by" in s, 60, "the edited prompt")
        await demo.wait(lambda s: "Tool said" in s, 60, "the rest of the turn")
        await demo.wait(lambda s: "m Message" in s, 30, "the chat to have the focus again")
        demo.keys("m")
        await demo.wait(lambda s: "esc Read" in s, 30, "the message box to have the focus")
        demo.say("SLOW:30")
        # The first turn's typing line may still show: wait for this message, then for typing.
        await demo.wait(lambda s: "SLOW:30" in s, 60, "the slow prompt in the thread")
        await demo.wait(lambda s: "is typing" in s, 60, "the slow answer to start")
        demo.say("/queue message=REPLY: queued at 80 columns")
        await demo.wait(lambda s: "Queued (position 1)" in s, 60, "the queue reply")
        demo.say("/abort")
        await demo.wait(
            lambda s: "queued at 80 columns" in s.split("Queued (position 1)")[-1], 90, "the answer"
        )
        await demo.quit()
    finally:
        demo.close()
