"""The real `kimaki` process against the Discord twin: cold starts and memory.

- `kimaki --no-tui` cold start → "ready" (gateway READY, guild commands synced, OpenCode healthy);
  kimaki needs 3.7 s here. Target ≤ 2.5 s.
- RSS of `kimaki --no-tui` (OpenCode excluded) right after start and after 10 answered messages;
  kimaki: 146 MB and 204 MB. Targets ≤ 100 MB and ≤ 120 MB.
- `kimaki` (control center, in tmux) cold start → dashboard drawn. Target ≤ 1.5 s.
- RSS of the whole process (control center + bot) with 50 sessions loaded. Target ≤ 100 MB (issue 14).
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil
from _common import ROOT, median, result

sys.path.insert(0, str(ROOT))

from kimaki_tui.store.repo import Store
from kimaki_tui.testing.discord_twin import DiscordTwin
from kimaki_tui.testing.scripted_model import ScriptedModel
from tests.harness import DEFAULT_OPENCODE, git_init, make_opencode_env

STARTS = 3
KIMAKI_START_S, KIMAKI_RSS_START, KIMAKI_RSS_10 = 3.7, 146, 204


def rss_mb(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss) / 2**20


class World:
    def __init__(self, tmp: Path, twin: DiscordTwin, model: ScriptedModel) -> None:
        self.tmp, self.twin = tmp, twin
        self.owner = twin.add_user("owner")
        twin.set_application_owner(self.owner)
        guild = twin.add_guild("Bench", owner=self.owner)
        self.channel = guild.add_text_channel("project", category=guild.add_category("Kimaki"))
        self.project = git_init(tmp / "project")
        self.guild = guild
        self.env = {
            **os.environ,
            **make_opencode_env(tmp / "opencode", model.base_url),
            **twin.env(),
            "KIMAKI_BOT_TOKEN": twin.bot_token,
            "OPENCODE_PATH": os.environ.get("OPENCODE_PATH") or str(DEFAULT_OPENCODE),
        }

    def data_dir(self, sessions: int = 0) -> Path:
        data = self.tmp / f"data-{uuid.uuid4().hex[:6]}"
        with Store.open(data / "discord-sessions.db") as store:
            store.link_channel(str(self.channel.id), str(self.guild.id), str(self.project))
            for n in range(sessions):
                store.map_thread(
                    str(900_000 + n), f"ses_bench{n:04d}", str(self.channel.id), str(self.project), "discord"
                )
        return data


async def headless_start(world: World) -> tuple[float, asyncio.subprocess.Process, Path]:
    data = world.data_dir()
    start = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kimaki_tui",
        "--no-tui",
        "--data-dir",
        str(data),
        env=world.env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    while b"kimaki: ready" not in await proc.stderr.readline():
        if proc.returncode is not None:
            raise RuntimeError("kimaki exited before it was ready")
    return time.perf_counter() - start, proc, data


async def stop(proc: asyncio.subprocess.Process) -> None:
    proc.terminate()
    await asyncio.wait_for(proc.wait(), 30)


async def opencode_alone(world: World) -> float:
    """The floor: OpenCode by itself, from spawn to healthy (kimaki's start must overlap it)."""
    from kimaki_tui.opencode.supervisor import OpenCodeSupervisor

    supervisor = OpenCodeSupervisor(binary=world.env["OPENCODE_PATH"], env=world.env, cwd=world.tmp)
    start = time.perf_counter()
    await supervisor.start()
    elapsed = time.perf_counter() - start
    await supervisor.aclose()
    return elapsed


async def bench_headless(world: World) -> None:
    times, floors = [], []
    for _ in range(STARTS):
        floors.append(await opencode_alone(world))
        elapsed, proc, _data = await headless_start(world)
        times.append(elapsed)
        await stop(proc)
    cold, floor = median(times), median(floors)
    result("opencode_alone_spawn_to_healthy", floor, "s", "reference")
    result("no_tui_cold_start_to_ready", cold, "s", "<=2.5")
    result("no_tui_cold_start_over_opencode_alone", cold - floor, "s", "report")
    result("no_tui_cold_start_vs_kimaki_ratio", cold / KIMAKI_START_S, "x", "<1")

    _, proc, _data = await headless_start(world)
    await asyncio.sleep(1.0)
    after_start = rss_mb(proc.pid)
    bot_id = world.twin.bot_user.id
    for n in range(10):
        await world.owner.send(world.channel, f"REPLY: rss-{n}")
        thread = await world.twin.wait_for_thread(
            world.channel, 30, predicate=lambda t, k=f"rss-{n}": k in t.name
        )
        await world.twin.wait_for_message(
            thread, lambda m, k=f"rss-{n}": k in m.content and m.author.id == bot_id, 60
        )
    await asyncio.sleep(1.0)
    after_ten = rss_mb(proc.pid)
    await stop(proc)
    result("no_tui_rss_after_start", after_start, "MB", "<=100")
    result("no_tui_rss_after_start_vs_kimaki_ratio", after_start / KIMAKI_RSS_START, "x", "<1")
    result("no_tui_rss_after_10_messages", after_ten, "MB", "<=120")
    result("no_tui_rss_after_10_vs_kimaki_ratio", after_ten / KIMAKI_RSS_10, "x", "<1")


def tmux(socket: str, *args: str) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, check=False).stdout


def dashboard_drawn(screen: str) -> bool:
    """The dashboard with its sessions, or the empty state it shows without any."""
    return "Dashboard" in screen and ("Sessions" in screen or "No sessions yet" in screen)


async def tui_start(world: World, sessions: int) -> tuple[float, float]:
    socket = f"bench-{uuid.uuid4().hex[:6]}"
    data = world.data_dir(sessions)
    env = {k: v for k, v in world.env.items() if k.isupper()} | {"TERM": "xterm-256color"}
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command = f"env {exports} {shlex.quote(sys.executable)} -m kimaki_tui --data-dir {shlex.quote(str(data))}"
    start = time.perf_counter()
    tmux(socket, "new-session", "-d", "-x", "120", "-y", "40", command)
    try:
        while not dashboard_drawn(tmux(socket, "capture-pane", "-p")):
            await asyncio.sleep(0.01)
            if time.perf_counter() - start > 30:
                raise RuntimeError("the dashboard never appeared")
        drawn = time.perf_counter() - start
        pid = int(tmux(socket, "display-message", "-p", "#{pane_pid}").strip())
        kimaki = psutil.Process(pid)
        await asyncio.sleep(6.0)  # OpenCode healthy, Discord connected, sessions listed
        rss = rss_mb(kimaki.pid)
    finally:
        tmux(socket, "send-keys", "C-c")
        await asyncio.sleep(3)
        tmux(socket, "kill-server")
    return drawn, rss


async def bench_tui(world: World) -> None:
    draws = []
    for _ in range(STARTS):
        drawn, _ = await tui_start(world, 0)
        draws.append(drawn)
    result("tui_cold_start_to_dashboard", median(draws), "s", "<=1.5")
    _, rss = await tui_start(world, 50)
    result("tui_and_bot_rss_50_sessions", rss, "MB", "<=100")
    result("tui_and_bot_rss_vs_kimaki_bot_ratio", rss / KIMAKI_RSS_10, "x", "<1")


async def run(tmp: Path) -> None:
    model = ScriptedModel()
    await model.start()
    try:
        async with DiscordTwin(bot_token="bench-process-token") as twin:
            world = World(tmp, twin, model)
            await bench_headless(world)
            await bench_tui(world)
    finally:
        await model.stop()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="kimaki-bench-") as tmp:
        asyncio.run(run(Path(tmp)))


if __name__ == "__main__":
    main()
