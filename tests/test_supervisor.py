"""OpenCodeSupervisor: finding the binary, start failures, crash restarts, crash loops, no orphans."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest

from kimaki_tui.opencode.client import text_part
from kimaki_tui.opencode.errors import OpenCodeCrashLoop, OpenCodeNotInstalled, OpenCodeStartError
from kimaki_tui.opencode.status import ServerStatus
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor, find_opencode
from tests.fake_opencode import EXITS_AT_ONCE, HEALTHY_THEN_EXIT, NEVER_HEALTHY, fake_binary
from tests.harness import REPO, wait_until


def gone(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def cmdline(process: psutil.Process) -> list[str]:
    try:
        return list(process.cmdline())
    except psutil.Error:  # exited (or a zombie) meanwhile
        return []


@pytest.fixture
def statuses() -> list[ServerStatus]:
    return []


@pytest.fixture
async def supervisors() -> AsyncIterator[list[OpenCodeSupervisor]]:
    """Supervisors a test creates; all are closed afterwards, even when the test fails."""
    created: list[OpenCodeSupervisor] = []
    yield created
    for supervisor in created:
        await supervisor.aclose()


def test_find_opencode(tmp_path: Path) -> None:
    with pytest.raises(OpenCodeNotInstalled) as missing:
        find_opencode(None, {"PATH": str(tmp_path)})
    assert "npm install -g opencode-ai" in str(missing.value) and "OPENCODE_PATH" in str(missing.value)
    with pytest.raises(OpenCodeNotInstalled, match="not an executable"):
        find_opencode(str(tmp_path / "nope"), {"PATH": ""})
    binary = fake_binary(tmp_path, "opencode", EXITS_AT_ONCE)
    assert find_opencode(None, {"PATH": str(tmp_path)}) == binary
    assert find_opencode(binary, {"PATH": ""}) == binary


async def test_start_without_binary_fails_clearly(
    tmp_path: Path, statuses: list[ServerStatus], supervisors: list[OpenCodeSupervisor]
) -> None:
    env = {"PATH": str(tmp_path), "OPENCODE_PATH": ""}
    supervisor = OpenCodeSupervisor(env=env, on_status=statuses.append)
    supervisors.append(supervisor)
    with pytest.raises(OpenCodeNotInstalled, match="npm install -g opencode-ai"):
        await supervisor.start()
    assert statuses[-1].state == "failed"


async def test_never_healthy_gives_output_tail(
    tmp_path: Path, statuses: list[ServerStatus], supervisors: list[OpenCodeSupervisor]
) -> None:
    supervisor = OpenCodeSupervisor(
        binary=fake_binary(tmp_path, "stuck", NEVER_HEALTHY), health_timeout=1.5, on_status=statuses.append
    )
    supervisors.append(supervisor)
    start = time.monotonic()
    with pytest.raises(OpenCodeStartError) as failed:
        await supervisor.start()
    assert time.monotonic() - start < 5
    message = str(failed.value)
    assert "the last words" in message and "boot step 49" in message and "\x1b[" not in message
    assert "boot step 10" not in message  # only the tail (30 lines)
    assert supervisor.pid is not None and gone(supervisor.pid)
    assert [s.state for s in statuses] == ["starting", "failed"]


async def test_exit_at_start_is_a_start_error(tmp_path: Path, supervisors: list[OpenCodeSupervisor]) -> None:
    supervisor = OpenCodeSupervisor(binary=fake_binary(tmp_path, "broken", EXITS_AT_ONCE), health_timeout=10)
    supervisors.append(supervisor)
    start = time.monotonic()
    with pytest.raises(OpenCodeStartError, match="exited with code 1") as failed:
        await supervisor.start()
    assert "ServeError" in str(failed.value) and time.monotonic() - start < 5


async def test_crash_loop_gives_up(
    tmp_path: Path,
    statuses: list[ServerStatus],
    supervisors: list[OpenCodeSupervisor],
    caplog: pytest.LogCaptureFixture,
) -> None:
    binary = fake_binary(tmp_path, "crashy", HEALTHY_THEN_EXIT.replace("LIFETIME", "0.3"))
    supervisor = OpenCodeSupervisor(
        binary=binary, max_crashes=3, crash_window=60, restart_backoff=0.05, on_status=statuses.append
    )
    supervisors.append(supervisor)
    restarts: list[int | None] = []

    async def restarted() -> None:
        restarts.append(supervisor.port)

    supervisor.on_restarted.append(restarted)
    await supervisor.start()
    await wait_until(lambda: statuses[-1].state == "failed", 20, 0.05, "the crash loop to give up")
    with pytest.raises(OpenCodeCrashLoop, match="crashed 3 times"):
        await supervisor.wait_healthy(timeout=1)
    assert [s.state for s in statuses] == [
        "starting", "healthy", "restarting", "healthy", "restarting", "healthy", "failed",
    ]  # fmt: skip
    assert "simulated crash" in str(supervisor.status.detail) or "code 3" in supervisor.status.detail
    assert len(restarts) == 2 and supervisor.pid is not None and gone(supervisor.pid)
    given_up = [r for r in caplog.records if r.levelno == logging.ERROR and "given up" in r.getMessage()]
    assert len(given_up) == 1 and "crashed 3 times" in given_up[0].getMessage()


@pytest.mark.opencode
async def test_kill_restart_then_stop_leaves_nothing(
    opencode_binary: str,
    spare_opencode_env: dict[str, str],
    project_dir: Path,
    statuses: list[ServerStatus],
    supervisors: list[OpenCodeSupervisor],
) -> None:
    supervisor = OpenCodeSupervisor(
        binary=opencode_binary,
        env=spare_opencode_env,
        restart_backoff=0.1,
        on_status=statuses.append,
        health_timeout=60,
    )
    supervisors.append(supervisor)
    restarted = asyncio.Event()

    async def on_restarted() -> None:
        restarted.set()

    supervisor.on_restarted.append(on_restarted)
    supervisor.start_background()  # other start-up work could run here
    await supervisor.wait_healthy(timeout=60)
    old_pid, old_password = supervisor.pid, supervisor.password
    assert old_pid is not None
    await supervisor.start()  # already running: no second process
    assert supervisor.pid == old_pid
    os.kill(old_pid, signal.SIGKILL)
    await asyncio.wait_for(restarted.wait(), 60)
    assert supervisor.healthy and supervisor.pid != old_pid and supervisor.password != old_password
    assert [s.state for s in statuses] == ["starting", "healthy", "restarting", "healthy"]
    assert statuses[-1].port == supervisor.port and (await supervisor.client.health()).healthy

    # A tool process the server started must die with it.
    session = await supervisor.client.create_session(
        project_dir, permission=[{"permission": "bash", "pattern": "*", "action": "allow"}]
    )
    await supervisor.client.prompt_async(session.id, project_dir, [text_part("RUN_BASH: sleep 300")])

    pid = supervisor.pid
    assert pid is not None

    def family() -> list[psutil.Process] | None:
        tree = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        return tree if any(cmdline(p) == ["sleep", "300"] for p in tree) else None

    tree = await wait_until(family, 20, 0.1, "the bash tool to start sleep")
    # OpenCode starts tools in their own process group: killing its group alone would miss them.
    assert any(os.getpgid(p.pid) != pid for p in tree[1:])
    await supervisor.stop()
    assert statuses[-1].state == "stopped"
    await wait_until(lambda: all(gone(p.pid) for p in tree), 10, 0.1, "opencode and its tools to exit")


CHILD = """
import asyncio, json, os, sys
sys.path.insert(0, {repo!r})
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor

async def main():
    env = json.loads(os.environ["CHILD_ENV"])
    supervisor = OpenCodeSupervisor(binary={binary!r}, env=env, health_timeout=60)
    await supervisor.start()
    print(supervisor.pid, flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


@pytest.mark.opencode
async def test_opencode_dies_with_a_killed_parent(
    opencode_binary: str, spare_opencode_env: dict[str, str], tmp_path: Path
) -> None:
    import json

    script = tmp_path / "parent.py"
    script.write_text(CHILD.format(repo=str(REPO), binary=opencode_binary))
    env = {**os.environ, "CHILD_ENV": json.dumps(spare_opencode_env)}
    parent = await asyncio.create_subprocess_exec(sys.executable, script, stdout=subprocess.PIPE, env=env)
    assert parent.stdout is not None
    line = await asyncio.wait_for(parent.stdout.readline(), 60)
    opencode_pid = int(line)
    assert psutil.Process(opencode_pid).ppid() == parent.pid
    parent.kill()  # SIGKILL: no cleanup code runs in the parent
    await parent.wait()
    await wait_until(lambda: gone(opencode_pid), 15, 0.1, "opencode to exit after its parent was killed")


async def start_sleeping_tool(supervisor: OpenCodeSupervisor, project_dir: Path) -> psutil.Process:
    """An approved bash tool call running `sleep 300` under the server; returns the sleep."""
    session = await supervisor.client.create_session(
        project_dir, permission=[{"permission": "bash", "pattern": "*", "action": "allow"}]
    )
    await supervisor.client.prompt_async(session.id, project_dir, [text_part("RUN_BASH: sleep 300")])
    return await sleep_under(supervisor.pid)


async def sleep_under(pid: int | None) -> psutil.Process:
    assert pid is not None

    def sleeper() -> psutil.Process | None:
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(pid).children(recursive=True):
                if cmdline(child) == ["sleep", "300"]:
                    return child
        return None

    return await wait_until(sleeper, 30, 0.1, "the bash tool to start sleep")


@pytest.mark.opencode
async def test_the_tools_of_a_crashed_server_end_with_it(
    opencode_binary: str,
    spare_opencode_env: dict[str, str],
    project_dir: Path,
    supervisors: list[OpenCodeSupervisor],
) -> None:
    supervisor = OpenCodeSupervisor(
        binary=opencode_binary, env=spare_opencode_env, restart_backoff=0.1, health_timeout=60
    )
    supervisors.append(supervisor)
    restarted = asyncio.Event()

    async def on_restarted() -> None:
        restarted.set()

    supervisor.on_restarted.append(on_restarted)
    await supervisor.start()
    sleeper = await start_sleeping_tool(supervisor, project_dir)
    assert supervisor.pid is not None
    os.kill(supervisor.pid, signal.SIGKILL)  # the crash: nothing of OpenCode's cleans up
    await wait_until(lambda: gone(sleeper.pid), 30, 0.1, "the crashed server's tool to end")
    await asyncio.wait_for(restarted.wait(), 60)


KILLED_PARENT = """
import asyncio, json, os, sys
sys.path.insert(0, {repo!r})
from kimaki_tui.opencode.client import text_part
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor

async def main():
    env = json.loads(os.environ["CHILD_ENV"])
    supervisor = OpenCodeSupervisor(binary={binary!r}, env=env, health_timeout=60)
    await supervisor.start()
    session = await supervisor.client.create_session(
        {project!r}, permission=[{{"permission": "bash", "pattern": "*", "action": "allow"}}]
    )
    await supervisor.client.prompt_async(session.id, {project!r}, [text_part("RUN_BASH: sleep 300")])
    print(supervisor.pid, flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


@pytest.mark.opencode
async def test_tools_left_by_a_killed_kimaki_are_ended_at_the_next_start(
    opencode_binary: str,
    spare_opencode_env: dict[str, str],
    project_dir: Path,
    tmp_path: Path,
    supervisors: list[OpenCodeSupervisor],
) -> None:
    import json

    script = tmp_path / "parent.py"
    script.write_text(KILLED_PARENT.format(repo=str(REPO), binary=opencode_binary, project=str(project_dir)))
    env = {**os.environ, "CHILD_ENV": json.dumps(spare_opencode_env)}
    parent = await asyncio.create_subprocess_exec(sys.executable, script, stdout=subprocess.PIPE, env=env)
    assert parent.stdout is not None
    opencode_pid = int(await asyncio.wait_for(parent.stdout.readline(), 60))
    sleeper = await sleep_under(opencode_pid)
    parent.kill()  # SIGKILL: no cleanup code runs in kimaki
    await parent.wait()
    await wait_until(lambda: gone(opencode_pid), 15, 0.1, "opencode to exit after its parent was killed")
    assert not gone(sleeper.pid)  # orphaned: nothing was left to end it
    supervisor = OpenCodeSupervisor(binary=opencode_binary, env=spare_opencode_env, health_timeout=60)
    supervisors.append(supervisor)
    await supervisor.start()
    await wait_until(lambda: gone(sleeper.pid), 10, 0.1, "the orphaned tool to be ended")
