"""Another program holds kimaki's database (a write lock, longer than SQLite's own wait): a message
sent meanwhile is answered once the lock is gone — delayed, not dropped — and exactly once."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterator

import pytest

from tests.bot.rig import BotRig

pytestmark = pytest.mark.opencode

# Holds an exclusive transaction until told (a line on stdin) to let go.
LOCKER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
db.execute("COMMIT")
"""


class Waits(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def waits() -> Iterator[Waits]:
    handler = Waits()
    logger = logging.getLogger("kimaki_tui.bot.ingress")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


async def test_a_message_sent_while_the_database_is_locked_is_answered_once_it_is_free(
    bot_rig: BotRig, waits: Waits
) -> None:
    path = bot_rig.core.store.path
    locker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LOCKER, str(path),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert locker.stdin is not None and locker.stdout is not None
    try:
        assert await locker.stdout.readline() == b"locked\n"
        await bot_rig.user_says("owner", "REPLY: while locked")
        hit_the_lock = lambda: any("waits for the database" in w for w in waits.lines)  # noqa: E731
        await bot_rig.twin.wait_until(hit_the_lock, 60, "the bot to hit the lock")
    finally:
        locker.stdin.write(b"\n")
        await locker.stdin.drain()
        await locker.wait()
    thread = await bot_rig.wait_thread()
    await bot_rig.wait_bot_message(thread, lambda m: m.content == "⬥ while locked", timeout=60)
    await bot_rig.wait_idle(thread, timeout=60)
    assert [t.name for t in bot_rig.twin.threads(bot_rig.channel)] == ["REPLY: while locked"]
    answers = [m.content for m in bot_rig.bot_messages(thread) if m.content.startswith("⬥ ")]
    assert answers == ["⬥ while locked"]
    assert bot_rig.core.conversations.get(str(thread.id)) is not None
