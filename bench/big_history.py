"""A year of history: 10,000 sessions and threads, 100,000 rows of finished work.

The history: 10,000 sessions in the project's real OpenCode (made through its HTTP API), and a
kimaki database with 10,000 mapped threads (90 % of those sessions, picked at random, plus 1,000
threads of another project) and 100,000 rows of done work: 90,000 posted parts and 10,000
answered approval requests. (A queued prompt leaves the queue table when it is sent, so finished
queue work shows up as posted parts.)

- Cold start: the real `kimaki --no-tui` process (its own OpenCode on the same history), spawn →
  "kimaki: ready", with this database and with an empty one, alternately. Goal: ≤ +0.2 s.
- `/resume` autocomplete in the project channel through the real bot (discord.py, Discord twin):
  interaction sent → choices received, for an empty query, a title word, an old title and no
  match. Goal: ≤ 100 ms.
- The control center's dashboard with 10,000 sessions: key press → frame (cursor keys), and a
  session's status change → frame. Goal: ≤ 50 ms.

`--sessions N` scales everything down (threads = N, done rows = 10 × N).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    DiscordPlace,
    bot_settings,
    discord_place,
    median,
    opencode_binary,
    opencode_parts,
    percentile,
    result,
    running_bot,
)

from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.store.repo import Store

TOPICS = ("parser", "lexer", "login page", "flaky test", "docs", "release notes", "cache", "migration")
QUERIES = ("", "parser", "zzz-no-such-session")
DATABASE = "discord-sessions.db"


async def make_sessions(client: OpenCodeClient, directory: str, count: int) -> list[str]:
    """`count` sessions with realistic titles, oldest first (eight requests in flight)."""
    ids: list[str] = [""] * count
    gate = asyncio.Semaphore(8)

    async def one(n: int) -> None:
        async with gate:
            title = f"Fix the {TOPICS[n % len(TOPICS)]}: case {n}"
            ids[n] = (await client.create_session(directory, title=title)).id

    for start in range(0, count, 500):
        await asyncio.gather(*(one(n) for n in range(start, min(count, start + 500))))
    return ids


def fill_database(path: Path, place: DiscordPlace, project: Path, session_ids: list[str]) -> tuple[int, int]:
    """The threads and the done rows; returns how many threads are mapped, and the number of the
    oldest session no thread shows."""
    with Store.open(path) as store:
        store.link_channel(str(place.channel.id), str(place.guild.id), str(project))
    rng = random.Random(19)
    bound = rng.sample(session_ids, k=len(session_ids) * 9 // 10)
    other = [f"ses_other{n:06d}" for n in range(len(session_ids) // 10)]
    channel = str(place.channel.id)
    stamp = "2026-01-01T00:00:00.000000+00:00"
    threads = [
        (
            str(10**15 + n),
            sid,
            channel,
            str(project) if n < len(bound) else "/srv/other",
            "discord",
            stamp,
            stamp,
        )
        for n, sid in enumerate(bound + other)
    ]
    parts = [
        (f"prt_done{n:08d}", threads[n % len(threads)][0], threads[n % len(threads)][1], '["1"]', stamp)
        for n in range(len(session_ids) * 9)
    ]
    requests = [
        (f"per_done{n:07d}", "permission", threads[n % len(threads)][1], threads[n % len(threads)][0], "{}",
         stamp, "answered", '"once"', "owner", stamp, None, None)
        for n in range(len(session_ids))
    ]  # fmt: skip
    with sqlite3.connect(path) as db:
        db.executemany("INSERT INTO thread_sessions VALUES (?, ?, ?, ?, ?, ?, ?)", threads)
        db.executemany("INSERT INTO posted_parts VALUES (?, ?, ?, ?, ?)", parts)
        db.executemany("INSERT INTO pending_requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", requests)
    taken = set(bound)
    return len(threads), next(n for n, sid in enumerate(session_ids) if sid not in taken)


def empty_database(path: Path, place: DiscordPlace, project: Path) -> None:
    with Store.open(path) as store:
        store.link_channel(str(place.channel.id), str(place.guild.id), str(project))


# ---- /resume autocomplete ----------------------------------------------------------------------
async def bench_autocomplete(
    tmp: Path, place: DiscordPlace, client: OpenCodeClient, db: Path, oldest_free: int
) -> None:
    from kimaki_tui.core.bus import EventBus
    from kimaki_tui.core.service import Core

    async def no_stream() -> None:
        return None

    store = Store.open(db)
    core = Core(client=client, store=store, bus=EventBus(), wait_stream=no_stream)
    start = time.perf_counter()
    loaded = core.start()
    print(f"core loaded {loaded} threads in {time.perf_counter() - start:.3f} s")
    old = f"case {oldest_free}"  # the oldest session not in a thread: must be offered
    timings: dict[str, list[float]] = {query: [] for query in (*QUERIES, old)}
    found: list[bool] = []
    try:
        async with running_bot(core, place.twin, bot_settings(tmp)):
            for _ in range(8):
                for query in timings:
                    began = time.perf_counter()
                    choices = await place.owner.autocomplete(place.channel, "resume", "session", query)
                    timings[query].append((time.perf_counter() - began) * 1000)
                    if query == old:
                        found.append(any(c["name"].endswith(old) for c in choices))
    finally:
        await core.close()
        store.close()
    every = [t for values in timings.values() for t in values]
    for query, values in timings.items():
        print(f"/resume autocomplete {query!r}: median {median(values):.1f} ms, max {max(values):.1f} ms")
    result("resume_autocomplete_median", median(every), "ms", "<=100")
    result("resume_autocomplete_p95", percentile(every, 0.95), "ms", "<=100")
    result("resume_offers_an_old_free_session", float(all(found)), "bool", "1")


# ---- cold start -------------------------------------------------------------------------------
async def start_to_ready(data_dir: Path, env: dict[str, str]) -> float:
    began = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kimaki_tui", "--no-tui", "--data-dir", str(data_dir),
        env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    try:
        while b"kimaki: ready" not in await asyncio.wait_for(proc.stderr.readline(), 120):
            if proc.returncode is not None:
                raise RuntimeError("kimaki exited before it was ready")
        return time.perf_counter() - began
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 60)


async def bench_cold_start(big: Path, empty: Path, env: dict[str, str], starts: int) -> None:
    with_history: list[float] = []
    without: list[float] = []
    for _ in range(starts):
        without.append(await start_to_ready(empty, env))
        with_history.append(await start_to_ready(big, env))
    full, bare = median(with_history), median(without)
    shown = [f"{t:.2f}" for t in without], [f"{t:.2f}" for t in with_history]
    print(f"cold starts (s): empty database {shown[0]}, with the history {shown[1]}")
    result("cold_start_empty_database", bare, "s", "reference")
    result("cold_start_with_history", full, "s", "report")
    result("cold_start_history_cost", full - bare, "s", "<=0.2")


# ---- dashboard --------------------------------------------------------------------------------
async def dashboard_timings(sessions: int) -> tuple[list[float], list[float]]:
    """ms from a cursor key to its frame, and from a session's status change to its frame."""
    from textual.coordinate import Coordinate
    from tui_keypress import SIZE, FrameClock, build_model, feed_sessions

    from kimaki_tui.opencode.events import SessionStatus
    from kimaki_tui.screens.app import KimakiApp
    from kimaki_tui.screens.widgets.session_table import SessionTable

    with tempfile.TemporaryDirectory() as tmp:
        model = build_model(Path(tmp), log_lines=1000)
        app = KimakiApp(model)
        keys: list[float] = []
        status: list[float] = []
        async with app.run_test(size=SIZE) as pilot:
            began = time.perf_counter()
            feed_sessions(model, sessions)
            app.bridge.flush()
            await pilot.pause(0.5)
            print(f"dashboard: {sessions} sessions loaded and shown in {time.perf_counter() - began:.1f} s")
            assert app.screen.query_one("#sessions").row_count == sessions  # type: ignore[attr-defined]
            clock = FrameClock(app)
            for key in ["down"] * 40 + ["up"] * 40:
                keys.append(await clock.press(key))
            table = app.screen.query_one(SessionTable)
            shown = [table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value for row in range(10)]
            for n in range(40):  # rows on screen: their change must be drawn
                runtime = model.core.sessions.get(str(shown[n % len(shown)]))
                assert runtime is not None and runtime.session_id is not None
                state = "idle" if runtime.busy else "busy"  # a change, so a row to redraw
                status.append(
                    await clock.after(
                        lambda r=runtime, s=state: r.handle_event(
                            SessionStatus("session.status", r.session_id, s)
                        ),
                        app.bridge.flush,
                    )
                )
        await model.core.close()
        model.core.store.close()
    return keys, status


async def bench_dashboard(sessions: int) -> None:
    keys, status = await dashboard_timings(sessions)
    result("dashboard_key_to_frame_median", median(keys), "ms", "<=50")
    result("dashboard_key_to_frame_p95", percentile(keys, 0.95), "ms", "<=50")
    result("dashboard_status_change_to_frame_median", median(status), "ms", "<=50")


async def run(tmp: Path, sessions: int, starts: int) -> None:
    from kimaki_tui.testing.discord_twin import DiscordTwin

    async with DiscordTwin(bot_token="bench-history-token") as twin:
        place = discord_place(twin)
        async with opencode_parts(tmp) as oc:
            began = time.perf_counter()
            ids = await make_sessions(oc.supervisor.client, str(oc.project), sessions)
            print(f"made {len(ids)} OpenCode sessions in {time.perf_counter() - began:.1f} s")
            big = tmp / "history"
            threads, oldest_free = fill_database(big / DATABASE, place, oc.project, ids)
            empty_database(tmp / "empty" / DATABASE, place, oc.project)
            size = (big / DATABASE).stat().st_size / 2**20
            print(f"database: {threads} threads, {sessions * 10} done rows, {size:.1f} MB")
            await bench_autocomplete(tmp, place, oc.supervisor.client, big / DATABASE, oldest_free)
            env = {
                **os.environ, **oc.env, **twin.env(), "KIMAKI_BOT_TOKEN": twin.bot_token,
                "OPENCODE_PATH": opencode_binary(),
            }  # fmt: skip
        await bench_cold_start(big, tmp / "empty", env, starts)
    await bench_dashboard(sessions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000, help="sessions and threads")
    parser.add_argument("--starts", type=int, default=3, help="cold starts of each kind")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kimaki-bench-") as tmp:
        asyncio.run(run(Path(tmp), args.sessions, args.starts))


if __name__ == "__main__":
    main()
