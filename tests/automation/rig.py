"""AutomationRig: what a machine running kimaki looks like to the CLI, in one test process.

The real KimakiBot and core (the bot rig's parts) on the shared OpenCode server and the Discord
twin, with the database in a data dir, the lock port serving the control API, and the task
scheduler handing due tasks to the bot — the same wiring as app.py. `cli(...)` runs `kimaki ...` through
`main()` in a worker thread (its own event loop, as in a real process) and captures its output.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kimaki_tui.bot.presence import show_bot_status
from kimaki_tui.bot.scheduled import BotTaskSubmitter
from kimaki_tui.cli.main import main
from kimaki_tui.control_api import ControlActions, InstanceStatus
from kimaki_tui.instance import InstanceLock
from kimaki_tui.opencode.injection_guard import guard_files
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.root.offline import open_secrets
from kimaki_tui.root.task_gate import CoreTaskGate
from kimaki_tui.sandbox.api import SandboxBackend
from kimaki_tui.scheduling.scheduler import TaskScheduler
from kimaki_tui.settings import SandboxSettings
from kimaki_tui.store.repo import Store
from kimaki_tui.testing.discord_twin import DiscordTwin
from tests.bot.rig import TOKEN, BotRig, ErrorLog, build_guild, rig_settings
from tests.core_rig import CoreRig


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class CliResult:
    code: int
    out: str
    err: str


@dataclass
class AutomationRig:
    bot: BotRig
    data_dir: Path
    server: OpenCodeSupervisor
    grace: timedelta = timedelta(minutes=10)
    scheduler: TaskScheduler | None = None
    _cli_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def twin(self) -> DiscordTwin:
        return self.bot.twin

    @property
    def store(self) -> Store:
        """The running kimaki's store (scheduled tasks included)."""
        return self.bot.core.store

    async def cli(self, *argv: str, stdin: str | None = None) -> CliResult:
        """`kimaki --data-dir <data dir> ARGV...` in a worker thread; stdout/stderr captured."""
        args = ["--data-dir", str(self.data_dir), *argv]
        async with self._cli_lock:  # sys.stdout is process-wide: one CLI run at a time
            return await asyncio.to_thread(_run_cli, args, stdin)

    async def start_scheduler(self) -> TaskScheduler:
        submitter = BotTaskSubmitter(lambda: self.bot.bot)
        gate = CoreTaskGate(self.bot.core)
        self.scheduler = TaskScheduler(self.store, submitter, grace=self.grace, sync_interval=0.5, gate=gate)
        self.bot.core.tasks.use_timers(self.scheduler)  # as the composition root does
        await self.scheduler.start(online=True)
        return self.scheduler

    async def stop_scheduler(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()
            self.bot.core.tasks.use_timers(None)
            self.scheduler = None

    def sessions(self) -> list[dict[str, object]]:
        return [
            {"thread_id": s.thread_id, "session_id": s.session_id, "directory": s.directory, "state": s.state}
            for s in self.bot.core.conversations.all()
        ]

    async def bot_status_changed(self) -> None:
        if self.bot.bot is not None:
            await show_bot_status(self.bot.bot)

    async def tasks_changed(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.sync()

    async def commands_sync(self) -> int | None:
        bot = self.bot.bot
        return None if bot is None else await bot.guild_keeper.refresh_commands()


def _run_cli(args: Sequence[str], stdin: str | None) -> CliResult:
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    try:
        if stdin is not None:
            sys.stdin = io.StringIO(stdin)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse errors
                code = int(exc.code or 0)
    finally:
        sys.stdin = old_stdin
    return CliResult(code, out.getvalue(), err.getvalue())


@contextlib.asynccontextmanager
async def automation_rig(
    server: OpenCodeSupervisor,
    project_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    scheduler: bool = True,
    sandbox: tuple[SandboxSettings, SandboxBackend] | None = None,
    **bot_options: Any,
) -> AsyncIterator[AutomationRig]:
    errors = ErrorLog()
    errors.install()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    try:
        async with DiscordTwin(bot_token=TOKEN, bot_name="Kimaki") as twin:
            monkeypatch.setenv("KIMAKI_BOT_TOKEN", TOKEN)
            monkeypatch.setenv("KIMAKI_DISCORD_API_URL", twin.api_url)
            lock_port = free_port()
            monkeypatch.setenv("KIMAKI_LOCK_PORT", str(lock_port))  # for the CLI run in this process
            guild, users = build_guild(twin)
            category = guild.add_category("Kimaki")
            channel = guild.add_text_channel(project_dir.name, category=category)
            settings = rig_settings(data_dir, tmp_path, **bot_options)
            guard = guard_files(server.environment)  # as the composition root does
            database = data_dir / "discord-sessions.db"
            async with CoreRig(server.client, database, injection_guard=guard, sandbox=sandbox) as core_rig:
                core_rig.core.projects.link(str(channel.id), str(guild.id), str(project_dir))
                secrets = open_secrets(settings)
                bot = BotRig(twin, core_rig, guild, category, channel, users, project_dir, settings, secrets)
                rig = AutomationRig(bot, data_dir, server)
                lock = InstanceLock(
                    data_dir,
                    lambda: InstanceStatus(discord_state="connected", opencode_state="healthy"),
                    lock_port,
                    actions=ControlActions(
                        sessions=rig.sessions,
                        opencode=lambda: {
                            "url": server.base_url,
                            "username": "opencode",
                            "password": server.password,
                        },
                        tasks_changed=rig.tasks_changed,
                        commands_sync=rig.commands_sync,
                        bot_status_changed=rig.bot_status_changed,
                    ),
                )
                await lock.acquire()
                try:
                    await bot.start_bot()
                    if scheduler:
                        await rig.start_scheduler()
                    yield rig
                finally:
                    await rig.stop_scheduler()
                    await bot.stop_bot()
                    await lock.release()
            twin.assert_clean()
    finally:
        errors.remove()
    lines = errors.lines()
    assert not lines, "the bot logged errors:\n" + "\n".join(lines)
