"""The real `kimaki --no-tui` process against the Discord twin and a real OpenCode server.

This is what a user runs on a server: the token comes from KIMAKI_BOT_TOKEN, the Discord endpoints
from KIMAKI_DISCORD_API_URL / KIMAKI_DISCORD_GATEWAY_URL. A message in the project channel gets
its thread and answer; SIGTERM stops everything, OpenCode included.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from kimaki_tui.store.repo import Store
from kimaki_tui.testing.discord_twin import Actor, Channel, DiscordTwin
from tests.harness import wait_until

pytestmark = pytest.mark.opencode


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _status(http: httpx.AsyncClient, path: str, code: int) -> bool:
    return (await http.get(path)).status_code == code


def _linked_guild(twin: DiscordTwin, name: str, project_dir: Path, data: Path) -> tuple[Actor, Channel]:
    """A guild with an owner and a project channel linked to `project_dir` in kimaki's database."""
    owner = twin.add_user("owner")
    twin.set_application_owner(owner)  # the operator's own server: served without approval
    guild = twin.add_guild(name, owner=owner)
    channel = guild.add_text_channel("project", category=guild.add_category("Kimaki"))
    with Store.open(data / "discord-sessions.db") as store:
        store.link_channel(str(channel.id), str(guild.id), str(project_dir))
    return owner, channel


def _kimaki_env(
    twin: DiscordTwin, opencode_env: dict[str, str], binary: str, lock_port: int
) -> dict[str, str]:
    return {
        **os.environ,
        **opencode_env,
        **twin.env(),
        "KIMAKI_BOT_TOKEN": twin.bot_token,
        "OPENCODE_PATH": binary,
        "KIMAKI_LOCK_PORT": str(lock_port),
    }


async def _start_kimaki(data: Path, env: dict[str, str], stdout: int) -> asyncio.subprocess.Process:
    """The real `kimaki --no-tui`, as a user starts it on a server."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kimaki_tui", "--no-tui", "--data-dir", str(data),
        env=env, stdin=asyncio.subprocess.DEVNULL, stdout=stdout, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _read_until(stream: asyncio.StreamReader, marker: str, timeout: float) -> list[str]:
    lines: list[str] = []
    async with asyncio.timeout(timeout):
        while True:
            raw = await stream.readline()
            if not raw:
                raise AssertionError(f"kimaki exited before {marker!r}; said: {lines}")
            lines.append(raw.decode().rstrip())
            if marker in lines[-1]:
                return lines


async def test_kimaki_no_tui_answers_in_discord_and_stops_cleanly(
    opencode_binary: str, spare_opencode_env: dict[str, str], project_dir: Path, tmp_path: Path
) -> None:
    async with DiscordTwin(bot_token="process-test-token") as twin:
        data = tmp_path / "data"
        owner, channel = _linked_guild(twin, "Process Test", project_dir, data)
        lock_port = free_port()
        env = _kimaki_env(twin, spare_opencode_env, opencode_binary, lock_port)
        proc = await _start_kimaki(data, env, asyncio.subprocess.PIPE)
        try:
            assert proc.stderr is not None
            said = await _read_until(proc.stderr, "kimaki: ready", 60)
            assert "1 server" in said[-1]
            children = psutil.Process(proc.pid).children(recursive=True)
            assert any("opencode" in " ".join(c.cmdline()) for c in children)

            await owner.send(channel, "hello from discord")
            thread = await twin.wait_for_thread(channel, timeout=30)
            answer = await twin.wait_for_message(
                thread, lambda m: "Echo: hello from discord" in m.content, timeout=60
            )
            assert answer.author.bot
            footer = await twin.wait_for_message(thread, lambda m: "fake-model" in m.content, timeout=30)
            assert project_dir.name in footer.content

            # One instance per data dir: a second kimaki names the running pid and exits.
            second = await _start_kimaki(data, env, asyncio.subprocess.PIPE)
            _, err = await asyncio.wait_for(second.communicate(), 30)
            assert (
                second.returncode == 1 and f"pid {proc.pid}" in err.decode() and "--replace" in err.decode()
            )

            # /healthz and /readyz on the lock port; /readyz follows the Discord connection.
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{lock_port}") as http:
                health = (await http.get("/healthz")).json()
                assert health["pid"] == proc.pid and health["active_sessions"] >= 0
                assert (await http.get("/readyz")).status_code == 200
                async with twin.gateway_outage():
                    await wait_until(lambda: _status(http, "/readyz", 503), 30, 0.2, "/readyz to say 503")
                await wait_until(lambda: _status(http, "/readyz", 200), 60, 0.2, "/readyz back to 200")
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 30)
        assert code == 0
        assert proc.stdout is not None and (await proc.stdout.read()) == b""  # nothing on stdout
        await asyncio.sleep(0.5)
        assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
        log = (data / "kimaki.log").read_text()
        assert twin.bot_token not in log
        twin.assert_clean()


async def test_sigusr2_restarts_in_place_and_keeps_the_queue(
    opencode_binary: str, spare_opencode_env: dict[str, str], project_dir: Path, tmp_path: Path
) -> None:
    async with DiscordTwin(bot_token="restart-test-token") as twin:
        data = tmp_path / "data"
        owner, channel = _linked_guild(twin, "Restart Test", project_dir, data)
        env = _kimaki_env(twin, spare_opencode_env, opencode_binary, free_port())
        proc = await _start_kimaki(data, env, asyncio.subprocess.DEVNULL)
        try:
            assert proc.stderr is not None
            await _read_until(proc.stderr, "kimaki: ready", 60)
            await owner.send(channel, "SLOW:20 a long answer")
            thread = await twin.wait_for_thread(channel, timeout=30)
            await twin.wait_for_typing(thread)  # the turn is running
            await owner.send(thread, "REPLY: survived the restart")
            with Store.open(data / "discord-sessions.db") as store:
                await wait_until(
                    lambda: store.queue_items(str(thread.id)), 10, 0.1, "the message to be queued"
                )
            proc.send_signal(signal.SIGUSR2)
            await _read_until(proc.stderr, "kimaki: ready", 60)  # the same pid, re-executed
            await twin.wait_for_message(
                thread,
                lambda m: "survived the restart" in m.content and not m.content.startswith("»"),
                timeout=60,
            )
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 30)
        assert code == 0
