"""Fixtures for Discord twin tests: a started twin, a running discord.py bot, and a guard that fails
the test on ERROR logs from discord.* (discord.py swallows handler exceptions into logs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from discord.ext import commands

from kimaki_tui.testing.discord_twin import Actor, Channel, DiscordTwin, Guild


class _ErrorCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def discord_errors() -> Iterator[list[logging.LogRecord]]:
    """ERROR records from discord.*; the test fails if any remain at teardown (clear to accept)."""
    collector = _ErrorCollector()
    logger = logging.getLogger("discord")
    logger.addHandler(collector)
    try:
        yield collector.records
    finally:
        logger.removeHandler(collector)
    lines = [f"{r.name}: {r.getMessage()}" for r in collector.records]
    assert not lines, "discord.py logged errors:\n" + "\n".join(lines)


@pytest.fixture
async def twin(discord_errors: list[logging.LogRecord]) -> AsyncIterator[DiscordTwin]:
    async with DiscordTwin(bot_token="twin-test-token", bot_name="Kimaki") as started:
        yield started
    started.assert_clean()


@dataclass
class Scene:
    """A guild owned by olivia, with member alice and a #general channel."""

    alice: Actor
    guild: Guild
    general: Channel


@pytest.fixture
def scene(twin: DiscordTwin) -> Scene:
    alice = twin.add_user("alice")
    guild = twin.add_guild("Test Guild", owner=twin.add_user("olivia"))
    guild.add_member(alice)
    return Scene(alice, guild, guild.add_text_channel("general", topic="chat"))


@contextlib.asynccontextmanager
async def running(twin: DiscordTwin, client: commands.Bot, timeout: float = 10.0) -> AsyncIterator[None]:
    """Run a discord.py bot against the twin until its on_ready; close it on exit."""
    ready = asyncio.Event()

    async def on_ready() -> None:
        ready.set()

    client.add_listener(on_ready, "on_ready")
    with twin.patch_discord():
        task = asyncio.create_task(client.start(twin.bot_token))
        waiter = asyncio.create_task(ready.wait())
        done, _ = await asyncio.wait({task, waiter}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:
            waiter.cancel()
            await client.close()
            if task in done:
                task.result()  # re-raise why the client stopped
            raise TimeoutError("the discord.py client never became ready")
        try:
            yield
        finally:
            await client.close()
            with contextlib.suppress(asyncio.CancelledError):
                await task
