"""kimaki's disk fills up while it runs (its data dir on a small tmpfs that another file fills):
messages sent meanwhile — a follow-up in a thread and a new thread — wait for room instead of being
dropped, and once the file is removed each is answered exactly once, in order, with its session
mapped in the database. Mounting the tmpfs needs root (the suite's machines have it)."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.settings import SessionSettings
from tests.bot.rig import BotRig, bot_rig_context
from tests.faults.test_locked_database import Records, answers, loop_errors, waits

__all__ = ["loop_errors", "waits"]

pytestmark = [
    pytest.mark.opencode,
    pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small file system for the data dir needs root"),
]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB file system of its own for the bot's database and data dir."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(disk)]
    mounted = subprocess.run(mount, capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk has no room left; returns it (remove it to free the disk)."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as out:
        for size in (1 << 16, 1 << 12, 1 << 9):
            try:
                while True:
                    out.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    return filler


def empty_wal(database: Path) -> None:
    """Checkpoint the write-ahead log down to 0 bytes, so the next write must grow a file."""
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert Path(f"{database}-wal").stat().st_size == 0


async def test_messages_sent_while_the_disk_is_full_are_answered_once_there_is_room(
    opencode_client: OpenCodeClient, project_dir: Path, small_disk: Path, waits: Records, loop_errors: Records
) -> None:
    queue = SessionSettings(busy_policy="queue")
    rig: BotRig
    async with bot_rig_context(opencode_client, project_dir, small_disk, sessions=queue) as rig:
        await rig.user_says("owner", "REPLY: before")
        first = await rig.wait_thread()
        await rig.wait_bot_message(first, lambda m: m.content == "⬥ before", timeout=60)
        await rig.wait_idle(first, timeout=60)
        empty_wal(rig.core.store.path)
        filler = fill(small_disk)
        await rig.user_says("owner", "REPLY: on a full disk", first)
        await rig.user_says("owner", "REPLY: a new thread on a full disk")
        await rig.twin.wait_until(waits.saw("no space left"), 60, "the bot to meet the full disk")
        assert filler.exists()
        filler.unlink()
        await rig.wait_bot_message(first, lambda m: m.content == "⬥ on a full disk", timeout=60)
        await rig.wait_idle(first, timeout=60)
        others = lambda: next((t for t in rig.twin.threads(rig.channel) if t.id != first.id), None)  # noqa: E731
        second = await rig.twin.wait_until(others, 60, "the new thread")
        await rig.wait_bot_message(second, lambda m: m.content == "⬥ a new thread on a full disk", timeout=60)
        await rig.wait_idle(second, timeout=60)
        assert answers(rig, first) == ["⬥ before", "⬥ on a full disk"]
        assert answers(rig, second) == ["⬥ a new thread on a full disk"]
        for thread in (first, second):
            view = rig.core.conversations.get(str(thread.id))
            mapped = rig.core.store.session_for_thread(str(thread.id))
            assert view is not None and mapped is not None and mapped.session_id == view.session_id
    assert not [line for line in loop_errors.lines if "never retrieved" in line], loop_errors.lines
