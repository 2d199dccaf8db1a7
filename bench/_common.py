"""Shared bits of the benchmarks: the RESULT line format, percentiles, where the venv's programs
are, and the real parts most benchmarks assemble (scripted model + `opencode serve`, a Discord
twin guild with a project channel, the real KimakiBot running against it)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot
    from kimaki_tui.bot.global_pace import GlobalPace
    from kimaki_tui.core.service import Core
    from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
    from kimaki_tui.settings import Settings
    from kimaki_tui.testing.discord_twin import Actor, Channel, DiscordTwin, Guild


def venv_bin(name: str) -> Path:
    """A program installed next to the running interpreter (the venv's console scripts)."""
    return Path(sys.executable).parent / name


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], share: float) -> float:
    """The value below which `share` (0..1) of `values` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def result(metric: str, value: float, unit: str, target: str) -> None:
    """The line the benchmark harness reads: `RESULT <metric> <value> <unit> target=<target>`."""
    shown = f"{value:.0f}" if value >= 100 else f"{value:.4g}"
    print(f"RESULT {metric} {shown} {unit} target={target}", flush=True)


def opencode_binary() -> str:
    from tests.harness import DEFAULT_OPENCODE

    return os.environ.get("OPENCODE_PATH") or str(DEFAULT_OPENCODE)


def as_another_machine(pid: int) -> None:
    """Lowest CPU priority for a process that stands for another machine (Discord, the model's
    provider): on these two shared cores its work would otherwise preempt kimaki's loop and count
    as kimaki's delay (a burst of 100 messages sent at once preempted the loop for 60–90 ms)."""
    os.setpriority(os.PRIO_PROCESS, pid, 19)


class ModelProcess:
    """The scripted model in a process of its own: parsing OpenCode's large request bodies in the
    bench's process fragmented its heap, which counted against kimaki's RSS. It keeps no requests,
    and runs as another machine (`as_another_machine`)."""

    def __init__(self) -> None:
        self.port = 0
        self._process: asyncio.subprocess.Process | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "kimaki_tui.testing.scripted_model", stdout=asyncio.subprocess.PIPE
        )
        assert self._process.stdout is not None
        self.port = int(await self._process.stdout.readline())
        as_another_machine(self._process.pid)

    async def stop(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
            await self._process.wait()


@dataclass
class OpenCodeParts:
    """The scripted model and a real `opencode serve` in an isolated home, plus a git project."""

    model: ModelProcess
    supervisor: OpenCodeSupervisor
    env: dict[str, str]
    project: Path


def merge_config(path: Path, config: dict[str, Any]) -> None:
    path.write_text(json.dumps({**json.loads(path.read_text()), **config}, indent=2))


@contextlib.asynccontextmanager
async def opencode_parts(tmp: Path, config: dict[str, Any] | None = None) -> AsyncIterator[OpenCodeParts]:
    """Start the scripted model (in its own process) and OpenCode (`config` is merged into
    OpenCode's config file)."""
    from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
    from tests.harness import git_init, make_opencode_env

    model = ModelProcess()
    await model.start()
    env = make_opencode_env(tmp / "opencode", model.base_url)
    if config:
        merge_config(Path(env["OPENCODE_CONFIG"]), config)
    project = git_init(tmp / "project")
    supervisor = OpenCodeSupervisor(binary=opencode_binary(), env=env, cwd=tmp)
    try:
        await supervisor.start()
        yield OpenCodeParts(model, supervisor, env, project)
    finally:
        await supervisor.aclose()
        await model.stop()


@dataclass
class DiscordPlace:
    """A twin guild owned by the bot's owner, with one project channel under a Kimaki category."""

    twin: DiscordTwin
    owner: Actor
    guild: Guild
    channel: Channel

    @property
    def bot_id(self) -> int:
        return self.twin.bot_user.id


def discord_place(twin: DiscordTwin, name: str = "bench") -> DiscordPlace:
    owner = twin.add_user("owner")
    twin.set_application_owner(owner)
    guild = twin.add_guild("Bench", owner=owner)
    channel = guild.add_text_channel(name, category=guild.add_category("Kimaki"))
    return DiscordPlace(twin, owner, guild, channel)


def bot_settings(tmp: Path) -> Settings:
    """A run's settings for a bot in this process (discord.py's wait for guilds made short)."""
    from kimaki_tui.settings import DiscordSettings, Settings

    return Settings(data_dir=tmp / "data", discord=DiscordSettings(guild_ready_timeout=0.1))


@contextlib.asynccontextmanager
async def running_bot(
    core: Core, twin: DiscordTwin, settings: Settings, pace: GlobalPace | None = None
) -> AsyncIterator[KimakiBot]:
    """The real KimakiBot (discord.py) on `core`, connected to the twin until the block ends."""
    address = (twin.bot_token, twin.api_url, twin.gateway_url)
    async with running_bot_at(core, *address, settings, pace=pace) as bot:
        yield bot


@contextlib.asynccontextmanager
async def running_bot_at(
    core: Core,
    token: str,
    api_url: str,
    gateway_url: str,
    settings: Settings,
    *,
    pace: GlobalPace | None = None,
) -> AsyncIterator[KimakiBot]:
    """The real KimakiBot on `core`, connected to a twin at these addresses (in any process);
    `pace`: its own pace under Discord's global limit instead of the real one."""
    from kimaki_tui.root.heap import set_start_up_objects_aside
    from kimaki_tui.root.offline import open_secrets
    from kimaki_tui.testing.discord_twin.patch import point_discord_at
    from tests.bot.rig import TestBot

    bot = TestBot(core, settings=settings, secrets=open_secrets(settings, env={}), pace=pace)
    with point_discord_at(api_url, gateway_url):
        task = asyncio.create_task(bot.start(token))
        try:
            await asyncio.wait_for(bot.wait_until_ready(), 30)
            set_start_up_objects_aside()  # as kimaki does when Discord first connects
            yield bot
        finally:
            await bot.close()
            await asyncio.gather(task, return_exceptions=True)


def posted_ms(message_id: int) -> int:
    """When the twin created a message (milliseconds since the Unix epoch, from its snowflake)."""
    from kimaki_tui.testing.discord_twin.snowflake import DISCORD_EPOCH_MS

    return (message_id >> 22) + DISCORD_EPOCH_MS
