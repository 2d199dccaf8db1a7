"""Another program holds kimaki's database (BEGIN EXCLUSIVE, longer than SQLite's old 5 s wait):
the event loop keeps serving (health answers while the lock is held), a message sent meanwhile is
answered once the lock is gone with its session mapped in the database, and a queued follow-up
drains afterwards — delayed, never dropped, answered exactly once, no task dies."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from kimaki_tui.control_api import ControlActions, InstanceStatus, build_app
from kimaki_tui.settings import SessionSettings
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


class Records(logging.Handler):
    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def saw(self, text: str) -> Callable[[], bool]:
        return lambda: any(text in line for line in self.lines)


@pytest.fixture
def waits() -> Iterator[Records]:
    """The warnings of store work waiting for the lock."""
    handler = Records(logging.WARNING)
    logger = logging.getLogger("kimaki_tui.store.retry")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture
def loop_errors() -> Iterator[Records]:
    """asyncio's own errors: "Task exception was never retrieved" is a task that died."""
    handler = Records(logging.ERROR)
    logger = logging.getLogger("asyncio")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


class Lock:
    def __init__(self, locker: asyncio.subprocess.Process) -> None:
        self._locker = locker
        self.held = True

    async def release(self) -> None:
        if self.held:
            assert self._locker.stdin is not None
            self._locker.stdin.write(b"\n")
            await self._locker.stdin.drain()
            await self._locker.wait()
            self.held = False


@asynccontextmanager
async def locked(path: Path) -> AsyncIterator[Lock]:
    """Another process holds the database's write lock until `release()` (or the block ends)."""
    locker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LOCKER, str(path),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert locker.stdout is not None
    lock = Lock(locker)
    try:
        assert await locker.stdout.readline() == b"locked\n"
        yield lock
    finally:
        await lock.release()


@asynccontextmanager
async def health_server(rig: BotRig) -> AsyncIterator[str]:
    """The control API's /healthz served on the bot's event loop, as kimaki serves it."""
    app = build_app(
        status=lambda: InstanceStatus(discord_state="connected", opencode_state="running"),
        actions=ControlActions(), token="test", data_dir=rig.core.store.path.parent,
    )  # fmt: skip
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/healthz"
    finally:
        await runner.cleanup()


def answers(rig: BotRig, thread: object) -> list[str]:
    return [m.content for m in rig.bot_messages(thread) if m.content.startswith("⬥ ")]  # type: ignore[arg-type]


async def test_health_answers_while_another_program_holds_the_database(
    bot_rig: BotRig, waits: Records
) -> None:
    async with health_server(bot_rig) as healthz, locked(bot_rig.core.store.path) as lock:
        await bot_rig.user_says("owner", "REPLY: health while locked")
        await bot_rig.twin.wait_until(waits.saw("waits for the database"), 60, "the bot to hit the lock")
        async with aiohttp.ClientSession() as http, http.get(healthz) as response:
            body = await response.json()
        # The answer came while the lock was still held: the loop was not frozen by the wait.
        assert lock.held
        assert response.status == 200 and body["ok"] is True
    thread = await bot_rig.wait_thread()
    await bot_rig.wait_bot_message(thread, lambda m: m.content == "⬥ health while locked", timeout=60)
    await bot_rig.wait_idle(thread, timeout=60)


async def test_a_message_sent_while_the_database_is_locked_is_answered_once_it_is_free(
    bot_rig: BotRig, waits: Records, loop_errors: Records
) -> None:
    async with locked(bot_rig.core.store.path):
        await bot_rig.user_says("owner", "REPLY: while locked")
        await bot_rig.twin.wait_until(waits.saw("waits for the database"), 60, "the bot to hit the lock")
    thread = await bot_rig.wait_thread()
    await bot_rig.wait_bot_message(thread, lambda m: m.content == "⬥ while locked", timeout=60)
    await bot_rig.wait_idle(thread, timeout=60)
    assert [t.name for t in bot_rig.twin.threads(bot_rig.channel)] == ["REPLY: while locked"]
    assert answers(bot_rig, thread) == ["⬥ while locked"]
    view = bot_rig.core.conversations.get(str(thread.id))
    assert view is not None
    mapped = bot_rig.core.store.session_for_thread(str(thread.id))
    assert mapped is not None and mapped.session_id == view.session_id
    assert not loop_errors.lines, loop_errors.lines


async def test_a_queued_follow_up_drains_after_the_lock_is_gone(
    make_bot_rig: Callable[..., AbstractAsyncContextManager[BotRig]], waits: Records, loop_errors: Records
) -> None:
    async with make_bot_rig(sessions=SessionSettings(busy_policy="queue")) as rig:
        await rig.user_says("owner", "SLOW:6 first")
        thread = await rig.wait_thread()
        opened = lambda: rig.core.conversations.get(str(thread.id)) is not None  # noqa: E731
        await rig.twin.wait_until(opened, 30, "the session")
        runtime = rig.core.conversations.runtime(str(thread.id))
        await rig.twin.wait_until(lambda: runtime.busy, 30, "the first turn to run")
        await rig.user_says("owner", "REPLY: second", thread)
        queued = lambda: bool(rig.core.store.queue_items(str(thread.id)))  # noqa: E731
        await rig.twin.wait_until(queued, 30, "the follow-up to be queued")
        async with locked(rig.core.store.path):
            assert runtime.busy, "the first turn ended before the lock was taken: the test proves nothing"
            # The first turn ends under the lock: its answer, the turn record and the drain wait.
            await rig.twin.wait_until(lambda: not runtime.busy, 60, "the first turn to end")
            await rig.twin.wait_until(waits.saw("the queue of thread"), 60, "the drain to hit the lock")
        await rig.wait_bot_message(thread, lambda m: m.content == "⬥ second", timeout=60)
        await rig.wait_idle(thread, timeout=60)
        said = answers(rig, thread)
        assert len(said) == 2 and said[0].startswith("⬥ tick 0") and said[1] == "⬥ second", said
        assert not rig.core.store.queue_items(str(thread.id))
    assert not [line for line in loop_errors.lines if "never retrieved" in line], loop_errors.lines


async def test_a_permission_answered_while_the_database_is_locked_is_recorded_afterwards(
    bot_rig: BotRig, loop_errors: Records, project_dir: Path
) -> None:
    await bot_rig.user_says("owner", "RUN_BASH: echo hi > out.txt")
    thread = await bot_rig.wait_thread()
    prompt = await bot_rig.wait_bot_message(
        thread, lambda m: m.content.startswith("⚠️ **Permission needed**") and bool(m.components)
    )
    [request] = bot_rig.core.approvals.pending_permissions()
    async with locked(bot_rig.core.store.path):
        click = await bot_rig.users.admin.click(prompt, f"kimaki:perm:once:{request.request_id}")
        assert await click.wait_callback() == 6
        # The agent goes on at once (the answer reached OpenCode); its record waits for the lock.
        await bot_rig.twin.wait_until((project_dir / "out.txt").exists, 60, "the approved command to run")
    edited = lambda: prompt.content.startswith("✅ Accepted once by admin")  # noqa: E731
    await bot_rig.twin.wait_until(edited, 60, "the prompt to say who answered")
    await bot_rig.wait_idle(thread, timeout=60)
    row = bot_rig.core.store.get_pending(request.request_id)
    assert row is not None and row.answered_by == "admin" and row.external_message_id == str(prompt.id)
    assert not loop_errors.lines, loop_errors.lines
