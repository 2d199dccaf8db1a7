"""The real `kimaki --no-tui` process with the real `kimaki send` command line against the twin: a
scheduled send fires in the running kimaki (its scheduler comes online with Discord), and
`--wait` prints the answer through the running kimaki's control API.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kimaki_tui.store.repo import Store
from kimaki_tui.testing.discord_twin import DiscordTwin
from tests.automation.rig import free_port
from tests.harness import wait_until

pytestmark = pytest.mark.opencode


async def kimaki(env: dict[str, str], *args: str, timeout: float = 60.0) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kimaki_tui", *args, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def read_until(stream: asyncio.StreamReader, marker: str, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError(f"kimaki exited before {marker!r}")
            if marker in line:
                return


async def test_scheduled_send_and_wait_with_the_real_kimaki(
    opencode_binary: str, spare_opencode_env: dict[str, str], project_dir: Path, tmp_path: Path
) -> None:
    async with DiscordTwin(bot_token="automation-process-token") as twin:
        owner = twin.add_user("owner")
        twin.set_application_owner(owner)
        guild = twin.add_guild("Automation", owner=owner)
        channel = guild.add_text_channel("project", category=guild.add_category("Kimaki"))
        data = tmp_path / "data"
        with Store.open(data / "discord-sessions.db") as store:
            store.link_channel(str(channel.id), str(guild.id), str(project_dir))
        env = {
            **os.environ,
            **spare_opencode_env,
            **twin.env(),
            "KIMAKI_BOT_TOKEN": twin.bot_token,
            "OPENCODE_PATH": opencode_binary,
            "KIMAKI_LOCK_PORT": str(free_port()),
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "kimaki_tui", "--no-tui", "--data-dir", str(data), env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            assert proc.stderr is not None
            await read_until(proc.stderr, "kimaki: ready", 60)
            # Start-up is over: what it left alive is out of the garbage collector's full passes.
            log = data / "kimaki.log"
            await wait_until(lambda: "start-up objects set aside" in log.read_text(), 10)
            when = (datetime.now(UTC) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            code, out, err = await kimaki(
                env, "send", "--data-dir", str(data), "-c", str(channel.id),
                "-p", "REPLY: fired by the scheduler", "--send-at", when,
            )  # fmt: skip
            assert code == 0, err
            assert "Scheduled task 1" in out and "No kimaki is running" not in out
            thread = await twin.wait_for_thread(channel, timeout=30)
            await twin.wait_for_message(thread, lambda m: m.content == "⬥ fired by the scheduler", timeout=60)

            code, out, err = await kimaki(
                env, "send", "--data-dir", str(data), "--thread", str(thread.id),
                "-p", "REPLY: waited in a real kimaki", "--wait",
            )  # fmt: skip
            assert code == 0, err
            assert out.rstrip().endswith("waited in a real kimaki")
            code, out, err = await kimaki(env, "task", "list", "--all", "--data-dir", str(data))
            assert code == 0 and " done " in out.splitlines()[2]
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 30)
        assert code == 0
        twin.assert_clean()
