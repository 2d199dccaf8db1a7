"""The lock port: one kimaki per data dir, --replace hand-over, /healthz, /readyz and the control API."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from kimaki_tui.control_api import ControlActions, ControlClient, InstanceStatus
from kimaki_tui.instance import (
    DEFAULT_LOCK_PORT,
    AlreadyRunning,
    InstanceLock,
    PortInUse,
    control_client,
    lock_port,
    running_instance,
)
from tests.harness import wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def port() -> int:
    """A free lock port per test: derived ports could collide with other runs on this machine."""
    return free_port()


class Status:
    """A mutable status provider, as the runtime's would be."""

    def __init__(self) -> None:
        self.now = InstanceStatus(opencode_state="healthy", opencode_port=4096, active_sessions=2)

    def __call__(self) -> InstanceStatus:
        return self.now


@pytest.fixture
async def lock(tmp_path: Path, port: int) -> AsyncIterator[InstanceLock]:
    held = InstanceLock(tmp_path, Status(), port)
    await held.acquire()
    yield held
    await held.release()


def test_lock_port_matches_kimaki() -> None:
    # Values computed with kimaki's JavaScript getLockPort() under node.
    assert lock_port(Path("/tmp/kimaki-data")) == 39792
    assert lock_port(Path("/home/ünïcode/😀/.kimaki-x")) == 33277
    assert lock_port(Path("~/.kimaki").expanduser()) == DEFAULT_LOCK_PORT
    assert lock_port(Path("/tmp/kimaki-data"), 41234) == 41234  # the lock_port setting


async def test_second_instance_is_refused_with_the_pid(
    lock: InstanceLock, tmp_path: Path, port: int
) -> None:
    second = InstanceLock(tmp_path, Status(), port)
    token_before = (tmp_path / "control-token").read_text()
    with pytest.raises(AlreadyRunning) as caught:
        await second.acquire()
    assert caught.value.pid == os.getpid()
    assert str(caught.value) == (
        f"kimaki is already running for this data dir (pid {os.getpid()}). "
        "Use --replace to stop it and take over."
    )
    assert not second.held
    assert (tmp_path / "control-token").read_text() == token_before, "the refused start kept out"
    assert await running_instance(tmp_path, port) is not None


async def test_replace_asks_the_running_one_to_stop(tmp_path: Path, port: int) -> None:
    stopped = asyncio.Event()

    async def shut_down() -> None:
        await first.release()
        stopped.set()

    first = InstanceLock(tmp_path, Status(), port, actions=ControlActions(shutdown=shut_down))
    await first.acquire()
    second = InstanceLock(tmp_path, Status(), port)
    try:
        await second.acquire(replace=True)
        assert stopped.is_set() and not first.held and second.held
        assert (tmp_path / "control-token").read_text() == second.token
        health = await ControlClient(second.port).health()
        assert health is not None and health["pid"] == os.getpid()
    finally:
        await second.release()
        await first.release()


async def test_healthz_reports_status_without_secrets(lock: InstanceLock, tmp_path: Path) -> None:
    async with httpx.AsyncClient(trust_env=False) as client:
        response = await client.get(f"http://127.0.0.1:{lock.port}/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body.pop("uptime_s") >= 0
    assert body == {
        "ok": True,
        "service": "kimaki",
        "pid": os.getpid(),
        "data_dir": str(tmp_path),
        "discord": {"state": "stopped", "guilds": 0},
        "opencode": {"state": "healthy", "port": 4096},
        "active_sessions": 2,
    }
    assert lock.token is not None and lock.token not in response.text


async def test_readyz_follows_discord_and_opencode(tmp_path: Path, port: int) -> None:
    status = Status()
    async with InstanceLock(tmp_path, status, port) as held, httpx.AsyncClient(trust_env=False) as client:
        url = f"http://127.0.0.1:{held.port}/readyz"
        assert (await client.get(url)).status_code == 503
        status.now = InstanceStatus(discord_state="connected", guilds=1)
        ready = await client.get(url)
        assert ready.status_code == 200
        assert ready.json() == {"ready": True, "discord": "connected", "opencode": "stopped"}
        status.now = InstanceStatus(discord_state="reconnecting", guilds=1)
        assert (await client.get(url)).status_code == 503
        # Connected to Discord, but OpenCode was given up on after a crash loop: not ready.
        status.now = InstanceStatus(discord_state="connected", guilds=1, opencode_state="failed")
        given_up = await client.get(url)
        assert given_up.status_code == 503 and given_up.json()["opencode"] == "failed"


async def test_control_api_needs_the_token(tmp_path: Path, port: int) -> None:
    rows = [{"session_id": "ses_1", "status": "busy"}]
    restarts: list[str] = []
    actions = ControlActions(sessions=lambda: rows, restart=lambda: restarts.append("restart"))
    async with InstanceLock(tmp_path, Status(), port, actions=actions) as held:
        base = f"http://127.0.0.1:{held.port}"
        async with httpx.AsyncClient(trust_env=False) as client:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bot {held.token}"}):
                assert (await client.get(f"{base}/api/sessions", headers=headers)).status_code == 401
                assert (await client.post(f"{base}/api/restart", headers=headers)).status_code == 401
        assert restarts == []
        api = control_client(tmp_path, port)
        assert api.token == held.token
        assert await api.sessions() == rows
        await api.restart()
        await wait_until(lambda: restarts == ["restart"], timeout=5, message="the restart action")


async def test_token_file_is_private_and_per_start(tmp_path: Path, port: int) -> None:
    tokens = []
    for _ in range(2):
        async with InstanceLock(tmp_path, Status(), port) as held:
            path = tmp_path / "control-token"
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert path.read_text() == held.token
            tokens.append(held.token)
        assert not path.exists(), "removed when the instance stops"
    assert tokens[0] != tokens[1]


async def test_a_port_held_by_another_program_is_named(tmp_path: Path, port: int) -> None:
    from aiohttp import web

    async def not_kimaki(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "pid": 1})

    other = web.Application()
    other.router.add_get("/healthz", not_kimaki)
    runner = web.AppRunner(other)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        with pytest.raises(PortInUse, match=r"another program.*KIMAKI_LOCK_PORT"):
            await InstanceLock(tmp_path, Status(), port).acquire(replace=True)
    finally:
        await runner.cleanup()


async def test_another_data_dir_on_the_same_port_is_not_replaced(
    lock: InstanceLock, tmp_path: Path, port: int
) -> None:
    with pytest.raises(PortInUse, match="another data dir"):
        await InstanceLock(tmp_path / "other", Status(), port).acquire(replace=True)
    assert lock.held


CHILD = textwrap.dedent(
    """
    import asyncio, signal, sys
    from pathlib import Path
    from kimaki_tui.control_api import InstanceStatus
    from kimaki_tui.instance import InstanceLock

    async def main():
        lock = InstanceLock(Path(sys.argv[1]), InstanceStatus, int(sys.argv[2]))
        await lock.acquire()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        print("ready", flush=True)
        await asyncio.wait_for(stop.wait(), 60)
        await lock.release()

    asyncio.run(main())
    """
)


@pytest.mark.parametrize("token_lost", [False, True], ids=["control-api", "sigterm-fallback"])
async def test_replace_stops_another_process(tmp_path: Path, port: int, token_lost: bool) -> None:
    """The real thing: a kimaki in another process stops (its own SIGTERM handler) and we take over."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, str(tmp_path), str(port), stdout=asyncio.subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        ready = await asyncio.wait_for(child.stdout.readline(), 30)
        assert ready.strip() == b"ready"
        if token_lost:  # the control API refuses us, so --replace falls back to SIGTERM
            (tmp_path / "control-token").write_text("not-the-token")
        lock = InstanceLock(tmp_path, Status(), port)
        with pytest.raises(AlreadyRunning, match=f"pid {child.pid}"):
            await lock.acquire()
        await lock.acquire(replace=True)
        try:
            assert await asyncio.wait_for(child.wait(), 10) == 0
            health = await ControlClient(lock.port).health()
            assert health is not None and health["pid"] == os.getpid()
        finally:
            await lock.release()
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
