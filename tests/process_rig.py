"""The real `kimaki` process against the Discord twin: link a guild in its database, build its
environment, start it, read its stderr. Shared by the process tests."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

from kimaki_tui.store.repo import Store
from kimaki_tui.testing.discord_twin import Actor, Channel, DiscordTwin


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def linked_guild(twin: DiscordTwin, name: str, project_dir: Path, data: Path) -> tuple[Actor, Channel]:
    """A guild owned by the application's owner (the operator) with a project channel linked to
    `project_dir` in kimaki's database."""
    owner = twin.add_user("owner")
    twin.set_application_owner(owner)  # the operator's own server: served without approval
    guild = twin.add_guild(name, owner=owner)
    channel = guild.add_text_channel("project", category=guild.add_category("Kimaki"))
    with Store.open(data / "discord-sessions.db") as store:
        store.link_channel(str(channel.id), str(guild.id), str(project_dir))
    return owner, channel


def kimaki_env(
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


async def start_kimaki(
    data: Path, env: dict[str, str], stdout: int, *extra: str
) -> asyncio.subprocess.Process:
    """The real `kimaki --no-tui`, as a user starts it on a server."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kimaki_tui", "--no-tui", "--data-dir", str(data), *extra,
        env=env, stdin=asyncio.subprocess.DEVNULL, stdout=stdout, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def read_until(stream: asyncio.StreamReader, marker: str, timeout: float) -> list[str]:
    lines: list[str] = []
    async with asyncio.timeout(timeout):
        while True:
            raw = await stream.readline()
            if not raw:
                raise AssertionError(f"kimaki exited before {marker!r}; said: {lines}")
            lines.append(raw.decode().rstrip())
            if marker in lines[-1]:
                return lines


async def kimaki_cli(env: dict[str, str], *args: str, timeout: float = 60.0) -> tuple[int, str, str]:
    """A `kimaki ...` subcommand (or a run that ends by itself): exit code, stdout, stderr."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kimaki_tui", *args, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
