"""The real `kimaki --no-tui` process against the Discord twin and a real OpenCode server.

This is what a user runs on a server: the token comes from KIMAKI_BOT_TOKEN, the Discord endpoints
from KIMAKI_DISCORD_API_URL / KIMAKI_DISCORD_GATEWAY_URL. A message in the project channel gets
its thread and answer; SIGTERM stops everything, OpenCode included.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import psutil
import pytest

from kimaki_tui.store.repo import Store
from kimaki_tui.testing.discord_twin import DiscordTwin
from tests.harness import wait_until
from tests.process_rig import free_port, kimaki_env, linked_guild, read_until, start_kimaki

pytestmark = pytest.mark.opencode


async def _status(http: httpx.AsyncClient, path: str, code: int) -> bool:
    return (await http.get(path)).status_code == code


async def test_kimaki_no_tui_answers_in_discord_and_stops_cleanly(
    opencode_binary: str, spare_opencode_env: dict[str, str], project_dir: Path, tmp_path: Path
) -> None:
    async with DiscordTwin(bot_token="process-test-token") as twin:
        data = tmp_path / "data"
        owner, channel = linked_guild(twin, "Process Test", project_dir, data)
        lock_port = free_port()
        env = kimaki_env(twin, spare_opencode_env, opencode_binary, lock_port)
        proc = await start_kimaki(data, env, asyncio.subprocess.PIPE)
        try:
            assert proc.stderr is not None
            said = await read_until(proc.stderr, "kimaki: ready", 60)
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
            second = await start_kimaki(data, env, asyncio.subprocess.PIPE)
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
        owner, channel = linked_guild(twin, "Restart Test", project_dir, data)
        env = kimaki_env(twin, spare_opencode_env, opencode_binary, free_port())
        proc = await start_kimaki(data, env, asyncio.subprocess.DEVNULL)
        try:
            assert proc.stderr is not None
            await read_until(proc.stderr, "kimaki: ready", 60)
            await owner.send(channel, "SLOW:20 a long answer")
            thread = await twin.wait_for_thread(channel, timeout=30)
            await twin.wait_for_typing(thread)  # the turn is running
            await owner.send(thread, "REPLY: survived the restart")
            with Store.open(data / "discord-sessions.db") as store:
                await wait_until(
                    lambda: store.queue_items(str(thread.id)), 10, 0.1, "the message to be queued"
                )
            proc.send_signal(signal.SIGUSR2)
            await read_until(proc.stderr, "kimaki: ready", 60)  # the same pid, re-executed
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


async def test_the_agent_offers_buttons_in_discord_through_the_runs_own_mcp_server(
    opencode_binary: str, spare_opencode_env: dict[str, str], project_dir: Path, tmp_path: Path
) -> None:
    """The run starts kimaki's MCP server and spawns OpenCode with it: the model's tool call shows
    buttons in the thread, and the click is what the model gets back."""
    async with DiscordTwin(bot_token="process-test-token") as twin:
        data = tmp_path / "data"
        owner, channel = linked_guild(twin, "Tools Test", project_dir, data)
        env = kimaki_env(twin, spare_opencode_env, opencode_binary, free_port())
        proc = await start_kimaki(data, env, asyncio.subprocess.PIPE)
        try:
            assert proc.stderr is not None
            await read_until(proc.stderr, "kimaki: ready", 60)
            ask = '{"prompt": "Ship it?", "buttons": ["Ship", "Wait"]}'
            await owner.send(channel, f"CALL_TOOL: kimaki_action_buttons {ask}")
            thread = await twin.wait_for_thread(channel, timeout=30)
            shown = await twin.wait_for_message(thread, lambda m: m.content == "Ship it?", timeout=60)
            button = shown.components[0]["components"][0]
            assert button["label"] == "Ship" and button["custom_id"].startswith("kimaki:tool:")
            await owner.click(shown, button["custom_id"])
            await twin.wait_for_message(
                thread, lambda m: "Tool said: The user clicked: Ship" in m.content, timeout=60
            )
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 30)
        assert code == 0
        twin.assert_clean()
