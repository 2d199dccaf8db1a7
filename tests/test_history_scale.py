"""A long history (thousands of threads, sessions, done rows) must not make start-up, resyncs or
lookups do work per thread: bench/big_history.py times them, these tests pin the outcomes without
a clock (how many SQL statements run, which index a query uses, what /resume offers).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kimaki_tui.core.bus import EventBus
from kimaki_tui.core.service import Core
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.store.repo import Store

THREADS = 300


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """Every SQL statement the store runs inside the block (with its parameters filled in)."""
    seen: list[str] = []
    connection: sqlite3.Connection = store._database.connection()  # type: ignore[no-untyped-call]
    connection.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        connection.set_trace_callback(None)


def query_plan(path: Path, sql: str) -> str:
    with sqlite3.connect(path) as db:
        return " | ".join(row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}"))


def many_threads(store: Store, directory: str, count: int = THREADS, *, queued: bool = True) -> None:
    for n in range(count):
        store.map_thread(str(5000 + n), f"ses_hist{n:05d}", "900", directory, "discord")
    for n in range(0, count if queued else 0, 50):  # a few threads have something queued
        store.enqueue(str(5000 + n), f"later {n}", "u1", "alice", "discord")
        store.enqueue(str(5000 + n), f"and then {n}", "u1", "alice", "discord")


async def _never() -> None:
    raise AssertionError("no prompt is sent here")


def test_history_lookups_use_indexes(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    with Store.open(path) as store:
        many_threads(store, "/srv/project")
        with statements(store) as seen:
            bound = store.bound_sessions(["ses_hist00007", "ses_nobody", "ses_hist00299"])
            lengths = store.queue_lengths()
        assert bound == {"ses_hist00007", "ses_hist00299"}
        assert lengths == {str(5000 + n): 2 for n in range(0, THREADS, 50)}
    selects = [sql for sql in seen if sql.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2
    plans = [query_plan(path, sql) for sql in selects]
    assert "USING COVERING INDEX thread_sessions_session (session_id=?)" in plans[0], plans[0]
    assert "USING COVERING INDEX queued_messages_order" in plans[1], plans[1]


def test_bound_sessions_takes_more_ids_than_one_query_may_bind(tmp_path: Path) -> None:
    with Store.open(tmp_path / "db.sqlite") as store:
        many_threads(store, "/srv/project", 40)
        wanted = [f"ses_hist{n:05d}" for n in range(0, 40, 3)] + [f"ses_unknown{n}" for n in range(40_000)]
        assert store.bound_sessions(wanted) == {f"ses_hist{n:05d}" for n in range(0, 40, 3)}


async def _load(path: Path, threads: int) -> list[str]:
    """The SQL a core runs to start over `threads` mapped threads and show all their views."""
    store = Store.open(path)
    many_threads(store, "/srv/project", threads)
    core = Core(client=OpenCodeClient("http://127.0.0.1:9"), store=store, bus=EventBus(), wait_stream=_never)
    try:
        with statements(store) as seen:
            assert core.start() == threads
            views = core.conversations.all()
        queued = {view.thread_id: view.queued for view in views if view.queued}
        assert queued == {str(5000 + n): 2 for n in range(0, threads, 50)}
        assert core.sessions.for_session("ses_hist00023") is core.sessions.get("5023")
        return seen
    finally:
        await core.close()
        store.close()


async def test_loading_threads_runs_the_same_queries_for_30_or_300(tmp_path: Path) -> None:
    """Start-up reads the mappings and queue lengths in bulk; views need no query per thread."""
    few = await _load(tmp_path / "few.sqlite", 30)
    many = await _load(tmp_path / "many.sqlite", THREADS)
    assert len(many) == len(few), many


@pytest.mark.opencode
async def test_a_resync_asks_the_store_once_however_many_threads(
    opencode_client: OpenCodeClient, project_dir: Path, tmp_path: Path
) -> None:
    store = Store.open(tmp_path / "db.sqlite")
    many_threads(store, str(project_dir), queued=False)
    core = Core(client=opencode_client, store=store, bus=EventBus(), wait_stream=_never)
    core.start()
    try:
        with statements(store) as seen:
            await core.resync()
        assert len(seen) == 1 and "queued_messages" in seen[0], seen  # the queue lengths, in bulk
    finally:
        await core.close()
        store.close()


@pytest.mark.opencode
async def test_resume_finds_sessions_older_than_the_newest_hundred(
    opencode_client: OpenCodeClient, project_dir: Path, tmp_path: Path
) -> None:
    """OpenCode lists its newest 100 sessions unless asked for more: with the newest 100 shown in
    threads, the older free ones must still be offered, and found by title or id."""
    directory = str(project_dir)
    created = [
        await opencode_client.create_session(directory, title=f"Old work on case {n}") for n in range(112)
    ]
    store = Store.open(tmp_path / "db.sqlite")
    newest = sorted(created, key=lambda s: s.created, reverse=True)
    for n, info in enumerate(newest[:100]):
        store.map_thread(str(7000 + n), info.id, "900", directory, "discord")
    core = Core(client=opencode_client, store=store, bus=EventBus(), wait_stream=_never)
    core.start()
    try:
        free = {info.id for info in newest[100:]}
        offered = await core.resume.candidates(directory)
        assert {info.id for info in offered} == free
        assert [info.updated for info in offered] == sorted((i.updated for i in offered), reverse=True)
        oldest = min(created, key=lambda s: s.created)
        assert [i.id for i in await core.resume.candidates(directory, oldest.title)] == [oldest.id]
        assert [i.id for i in await core.resume.candidates(directory, oldest.id)] == [oldest.id]
        assert await core.resume.candidates(directory, newest[0].id) == []  # shown in a thread
        assert await core.resume.candidates(directory, "ses_doesnotexist") == []
        assert len(await core.resume.candidates(directory, limit=5)) == 5
    finally:
        await core.close()
        store.close()
