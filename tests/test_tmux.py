"""The real `kimaki` control center in tmux, against the Discord twin and a real OpenCode server.

Reads the screen a person would see with `tmux capture-pane`: the dashboard with Discord and
OpenCode connected, then the session a Discord message started. Ctrl+C ends it cleanly.
"""

from __future__ import annotations

import asyncio
import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from kimaki_tui.store.repo import Store
from kimaki_tui.testing.discord_twin import DiscordTwin
from tests.harness import wait_until

pytestmark = [
    pytest.mark.opencode,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (scripts/setup.sh --dev)"),
]


def tmux(socket: str, *args: str) -> str:
    done = subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, check=False)
    return done.stdout


def seen(screen: str, data: Path) -> str:
    """What a timed-out wait saw: the screen and the end of kimaki's log."""
    log = data / "kimaki.log"
    tail = log.read_text().splitlines()[-40:] if log.exists() else ["(no log)"]
    return "screen:\n" + screen + "\nkimaki.log (end):\n" + "\n".join(tail)


async def test_dashboard_in_tmux_shows_discord_and_a_session(
    opencode_binary: str, spare_opencode_env: dict[str, str], project_dir: Path, tmp_path: Path
) -> None:
    socket = f"kimaki-{uuid.uuid4().hex[:8]}"
    async with DiscordTwin(bot_token="tmux-test-token") as twin:
        owner = twin.add_user("owner")
        twin.set_application_owner(owner)
        guild = twin.add_guild("Tmux Guild", owner=owner)
        channel = guild.add_text_channel("project", category=guild.add_category("Kimaki"))
        data = tmp_path / "data"
        with Store.open(data / "discord-sessions.db") as store:
            store.link_channel(str(channel.id), str(guild.id), str(project_dir))
        env = {
            **spare_opencode_env,
            **twin.env(),
            "KIMAKI_BOT_TOKEN": twin.bot_token,
            "OPENCODE_PATH": opencode_binary,
            "TERM": "xterm-256color",
        }
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        command = (
            f"env {exports} {shlex.quote(sys.executable)} -m kimaki_tui --data-dir {shlex.quote(str(data))}"
        )
        tmux(socket, "new-session", "-d", "-x", "120", "-y", "40", command)
        try:

            def screen() -> str:
                return tmux(socket, "capture-pane", "-p")

            try:
                await wait_until(
                    lambda: "connected" in screen().lower() and "healthy" in screen().lower(),
                    60,
                    0.5,
                    "the dashboard to show Discord connected and OpenCode healthy",
                )
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{seen(screen(), data)}") from None
            await owner.send(channel, "REPLY: hello from tmux")
            thread = await twin.wait_for_thread(channel, timeout=30)
            await twin.wait_for_message(thread, lambda m: "hello from tmux" in m.content, timeout=60)
            await wait_until(
                lambda: "idle" in screen().lower() and project_dir.name in screen(),
                30,
                0.5,
                "the session row on the dashboard",
            )
            tmux(socket, "send-keys", "C-c")
            await wait_until(lambda: not tmux(socket, "list-sessions"), 30, 0.5, "kimaki to exit")
        finally:
            tmux(socket, "kill-server")
        await asyncio.sleep(0.2)
        log = (data / "kimaki.log").read_text()
        assert twin.bot_token not in log
        assert (data / "discord-sessions.db").stat().st_size > 0
