"""The persistent store on real SQLite files: opening, projects, threads, preferences, migrations,
isolation (the queue, pending requests and posted parts: test_store_runtime.py)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import peewee
import pytest

from kimaki_tui.store import migrations, models
from kimaki_tui.store.db import SchemaTooNewError, StoreClosedError, StoreError, open_database
from kimaki_tui.store.records import Prefs
from kimaki_tui.store.repo import Store

DB_NAME = "discord-sessions.db"
# A permission request as OpenCode sends it (the runtime-state tests and the v1 upgrade use it).
PAYLOAD = {"id": "per_1", "sessionID": "s1", "permission": "bash", "patterns": ["ls"], "metadata": {}}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / DB_NAME


@pytest.fixture
def store(path: Path) -> Iterator[Store]:
    with Store.open(path) as opened:
        yield opened


def raw(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection, to see the file as another program would."""
    return sqlite3.connect(path, isolation_level=None, check_same_thread=False)


def dump_schema(path: Path) -> list[tuple[str, ...]]:
    with raw(path) as conn:
        rows = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
        versions = conn.execute("SELECT version, applied_at FROM schema_version ORDER BY version").fetchall()
    conn.close()
    return [tuple(map(str, row)) for row in rows + versions]


# -- opening, pragmas, lifetime ---------------------------------------------------------------


def test_open_creates_the_file_in_wal_mode_at_the_latest_version(store: Store, path: Path) -> None:
    assert path.is_file()
    assert store.schema_version == migrations.LATEST_VERSION >= 2
    conn = raw(path)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    versions = [row[0] for row in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    conn.close()
    assert versions == list(range(1, migrations.LATEST_VERSION + 1))


def test_connection_pragmas(store: Store) -> None:
    database = store._database
    assert database.pragma("journal_mode") == "wal"
    assert database.pragma("synchronous") == 1  # NORMAL
    assert database.pragma("busy_timeout") == 5000
    assert database.pragma("foreign_keys") == 1


def test_a_write_waits_for_another_writer_instead_of_failing(store: Store, path: Path) -> None:
    locker = raw(path)
    locker.execute("BEGIN IMMEDIATE")
    releaser = threading.Timer(0.4, locker.commit)
    releaser.start()
    started = time.monotonic()
    store.add_project("/srv/waited")  # busy_timeout makes this wait for the lock
    releaser.join()
    locker.close()
    assert time.monotonic() - started >= 0.3
    assert [p.directory for p in store.list_projects()] == ["/srv/waited"]


def test_models_stay_unbound_and_stores_stay_separate(tmp_path: Path) -> None:
    with Store.open(tmp_path / "a" / DB_NAME) as first, Store.open(tmp_path / "b" / DB_NAME) as second:
        first.add_project("/only/in/a")
        second.enqueue("t1", "hello b", "u1", "bee", "discord")
        assert [p.directory for p in first.list_projects()] == ["/only/in/a"]
        assert second.list_projects() == []
        assert first.queue_items("t1") == []
        assert [q.prompt for q in second.queue_items("t1")] == ["hello b"]
        first.close()
        assert second.add_project("/b").directory == "/b"  # closing one leaves the other working
    assert models.ProjectModel._meta.database is None
    assert models.QueuedModel._meta.database is None


def test_closed_store_refuses_calls_and_closes_twice(path: Path) -> None:
    store = Store.open(path)
    store.close()
    store.close()
    with pytest.raises(StoreClosedError):
        store.list_projects()
    with pytest.raises(StoreClosedError):
        store.enqueue("t", "p", "u", "n", "discord")


def test_a_file_that_is_not_sqlite_gives_a_store_error(tmp_path: Path) -> None:
    bogus = tmp_path / DB_NAME
    bogus.write_bytes(b"this is not a database at all, just some text " * 100)
    with pytest.raises(StoreError, match="cannot"):
        Store.open(bogus)


def test_timestamps_are_aware_utc_and_stored_with_offset(store: Store, path: Path) -> None:
    before = datetime.now(UTC)
    created = store.add_project("/srv/p").created_at
    assert created.tzinfo is not None and created.utcoffset() == timedelta(0)
    assert before <= created <= datetime.now(UTC)
    conn = raw(path)
    (text,) = conn.execute("SELECT created_at FROM projects").fetchone()
    conn.close()
    assert text.endswith("+00:00")
    assert datetime.fromisoformat(text) == created


def test_no_column_could_hold_a_secret(store: Store, path: Path) -> None:
    conn = raw(path)
    tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    columns = [
        (table, row[1].lower()) for table in tables for row in conn.execute(f"PRAGMA table_info({table})")
    ]
    conn.close()
    assert {"queued_messages", "pending_requests", "posted_parts", "channel_projects"} <= set(tables)
    assert len(columns) > 40
    for table, name in columns:
        for word in ("token", "secret", "password", "passwd", "credential", "cookie", "apikey", "api_key"):
            assert word not in name, f"{table}.{name}"
        assert "key" not in name or name.endswith("_id"), f"{table}.{name}"


# -- projects and channels --------------------------------------------------------------------


def test_projects(store: Store) -> None:
    first = store.add_project("/srv/b")
    assert store.add_project("/srv/b") == first  # idempotent, keeps created_at
    store.add_project("/srv/a")
    assert [p.directory for p in store.list_projects()] == ["/srv/a", "/srv/b"]
    assert store.remove_project("/srv/a") is True
    assert store.remove_project("/srv/a") is False
    assert [p.directory for p in store.list_projects()] == ["/srv/b"]


def test_channels_link_relink_list_unlink(store: Store) -> None:
    link = store.link_channel("c1", "g1", "/srv/app", app_id="app")
    assert (link.channel_id, link.guild_id, link.directory, link.app_id) == ("c1", "g1", "/srv/app", "app")
    assert [p.directory for p in store.list_projects()] == ["/srv/app"]  # linking adds the project
    store.link_channel("c2", "g2", "/srv/app")
    store.link_channel("c3", "g1", "/srv/other")
    assert store.channel_directory("c1") == "/srv/app"
    assert store.channel_directory("nope") is None
    assert [c.channel_id for c in store.channels_for("/srv/app")] == ["c1", "c2"]
    assert [c.channel_id for c in store.list_channels()] == ["c1", "c3", "c2"]
    assert [c.channel_id for c in store.list_channels(guild_id="g1")] == ["c1", "c3"]

    moved = store.link_channel("c1", "g1", "/srv/other")
    assert moved.directory == "/srv/other" and moved.app_id is None
    assert moved.created_at == link.created_at
    assert [c.channel_id for c in store.channels_for("/srv/other")] == ["c1", "c3"]

    assert store.unlink_channel("c3") is True
    assert store.unlink_channel("c3") is False
    assert store.channel_directory("c3") is None


def test_removing_a_project_unlinks_its_channels(store: Store) -> None:
    store.link_channel("c1", "g1", "/srv/gone")
    store.link_channel("c2", "g1", "/srv/kept")
    store.map_thread("t1", "s1", "c1", "/srv/gone", "discord")
    assert store.remove_project("/srv/gone") is True
    assert [c.channel_id for c in store.list_channels()] == ["c2"]
    thread = store.session_for_thread("t1")
    assert thread is not None and thread.directory == "/srv/gone"  # history stays


# -- threads ----------------------------------------------------------------------------------


def test_threads_map_lookup_list_unmap(store: Store) -> None:
    first = store.map_thread("t1", "s1", "c1", "/srv/a", "discord")
    assert (first.thread_id, first.session_id, first.origin) == ("t1", "s1", "discord")
    assert first.created_at == first.updated_at
    store.map_thread("t2", "s2", "c1", "/srv/b", "cli")
    found = store.session_for_thread("t1")
    assert found == first
    assert store.session_for_thread("none") is None
    assert store.thread_for_session("s2") is not None
    assert store.thread_for_session("s-none") is None
    assert [t.thread_id for t in store.list_threads()] == ["t2", "t1"]
    assert [t.thread_id for t in store.list_threads(directory="/srv/a")] == ["t1"]

    remapped = store.map_thread("t1", "s3", "c9", "/srv/c", "fork")
    assert (remapped.session_id, remapped.channel_id, remapped.directory) == ("s3", "c9", "/srv/c")
    assert remapped.created_at == first.created_at < remapped.updated_at
    assert [t.thread_id for t in store.list_threads()] == ["t1", "t2"]

    assert store.unmap_thread("t2") is True
    assert store.unmap_thread("t2") is False
    assert store.thread_for_session("s2") is None


def test_a_resumed_session_maps_to_its_newest_thread(store: Store) -> None:
    store.map_thread("old", "s1", "c1", "/srv/a", "discord")
    store.map_thread("new", "s1", "c1", "/srv/a", "resume")
    newest = store.thread_for_session("s1")
    assert newest is not None and newest.thread_id == "new"
    store.map_thread("old", "s1", "c1", "/srv/a", "discord")
    newest = store.thread_for_session("s1")
    assert newest is not None and newest.thread_id == "old"


def test_unknown_thread_origin_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="origin"):
        store.map_thread("t", "s", "c", "/d", "carrier-pigeon")  # type: ignore[arg-type]
    assert store.list_threads() == []


# -- preferences ------------------------------------------------------------------------------


def test_channel_prefs_set_keep_and_clear(store: Store) -> None:
    assert store.get_channel_pref("c1") == Prefs()
    sonnet = "anthropic/claude-sonnet-4"
    assert store.set_channel_pref("c1", model=sonnet) == Prefs(sonnet)
    assert store.set_channel_pref("c1", agent="plan") == Prefs("anthropic/claude-sonnet-4", "plan")
    assert store.get_channel_pref("c1") == Prefs("anthropic/claude-sonnet-4", "plan")
    assert store.set_channel_pref("c1", model=None) == Prefs(None, "plan")
    assert store.get_channel_pref("c1") == Prefs(None, "plan")
    assert store.get_channel_pref("c2") == Prefs()


def test_session_prefs_are_separate_from_channel_prefs(store: Store) -> None:
    store.set_channel_pref("x", model="openai/gpt-5")
    store.set_session_pref("x", model="openrouter/anthropic/claude", agent="build")
    assert store.get_channel_pref("x") == Prefs("openai/gpt-5")
    assert store.get_session_pref("x") == Prefs("openrouter/anthropic/claude", "build")
    assert store.set_session_pref("x", agent=None) == Prefs("openrouter/anthropic/claude")
    assert store.get_session_pref("other") == Prefs()


@pytest.mark.parametrize("bad", ["claude", "/claude", "anthropic/", ""])
def test_a_model_needs_provider_and_name(store: Store, bad: str) -> None:
    with pytest.raises(ValueError, match="provider/model"):
        store.set_channel_pref("c1", model=bad)
    assert store.get_channel_pref("c1") == Prefs()


# -- migrations -------------------------------------------------------------------------------

# The v1 schema as released, frozen here: a file in the wild that the current code must upgrade.
V1_FILE_SQL = [
    "CREATE TABLE schema_version (version INTEGER PRIMARY KEY NOT NULL, applied_at TEXT NOT NULL)",
    "CREATE TABLE projects (id INTEGER PRIMARY KEY NOT NULL, directory TEXT NOT NULL UNIQUE,"
    " created_at TEXT NOT NULL)",
    "CREATE TABLE channel_projects (channel_id TEXT PRIMARY KEY NOT NULL, guild_id TEXT NOT NULL,"
    " directory TEXT NOT NULL REFERENCES projects (directory) ON DELETE CASCADE, app_id TEXT,"
    " created_at TEXT NOT NULL)",
    "CREATE INDEX channel_projects_directory ON channel_projects (directory)",
    "CREATE INDEX channel_projects_guild ON channel_projects (guild_id)",
    "CREATE TABLE thread_sessions (thread_id TEXT PRIMARY KEY NOT NULL, session_id TEXT NOT NULL,"
    " channel_id TEXT NOT NULL, directory TEXT NOT NULL, source TEXT NOT NULL, created_at TEXT NOT NULL,"
    " updated_at TEXT NOT NULL)",
    "CREATE INDEX thread_sessions_session ON thread_sessions (session_id, updated_at)",
    "CREATE TABLE channel_prefs (channel_id TEXT PRIMARY KEY NOT NULL, model TEXT, agent TEXT,"
    " updated_at TEXT NOT NULL)",
    "CREATE TABLE session_prefs (session_id TEXT PRIMARY KEY NOT NULL, model TEXT, agent TEXT,"
    " updated_at TEXT NOT NULL)",
    "INSERT INTO schema_version VALUES (1, '2025-01-01T00:00:00.000000+00:00')",
    "INSERT INTO projects (directory, created_at) VALUES ('/srv/old', '2025-01-01T00:00:00.000000+00:00')",
    "INSERT INTO channel_projects VALUES ('c1', 'g1', '/srv/old', NULL, '2025-01-01T00:00:00.000000+00:00')",
    "INSERT INTO thread_sessions VALUES ('t1', 's1', 'c1', '/srv/old', 'discord',"
    " '2025-01-01T00:00:00.000000+00:00', '2025-01-02T00:00:00.000000+00:00')",
    "INSERT INTO channel_prefs VALUES ('c1', 'anthropic/claude-sonnet-4', 'plan',"
    " '2025-01-01T00:00:00.000000+00:00')",
]


def test_a_v1_file_is_upgraded_and_keeps_its_data(path: Path) -> None:
    path.parent.mkdir(parents=True)
    conn = raw(path)
    for statement in V1_FILE_SQL:
        conn.execute(statement)
    conn.close()
    with Store.open(path) as store:
        assert store.schema_version == migrations.LATEST_VERSION
        assert store.channel_directory("c1") == "/srv/old"
        thread = store.thread_for_session("s1")
        assert thread is not None and thread.updated_at == datetime(2025, 1, 2, tzinfo=UTC)
        assert store.get_channel_pref("c1") == Prefs("anthropic/claude-sonnet-4", "plan")
        store.enqueue("t1", "after the upgrade", "u", "n", "discord")  # v2 tables exist
        store.save_pending("per_1", "permission", "s1", PAYLOAD)
        store.mark_posted("prt_1", "t1", "s1", ["m1"])
    conn = raw(path)
    versions = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    conn.close()
    assert [v for (v,) in versions] == list(range(1, migrations.LATEST_VERSION + 1))


def test_a_v4_file_gets_the_neutral_message_id_columns_and_keeps_its_rows(path: Path) -> None:
    """v5 renames discord_* message columns to external_*: a file made by v1..v4 keeps its queue
    and its pending prompts, readable under the new names."""
    path.parent.mkdir(parents=True)
    database = open_database(path)
    try:
        assert migrations.migrate(database, migrations.MIGRATIONS[:4]) == 4
    finally:
        database.close()
    conn = raw(path)
    conn.execute(
        "INSERT INTO queued_messages (thread_id, position, prompt, author_id, author_name, source,"
        " discord_message_id, created_at) VALUES ('t1', 0, 'queued before', 'u1', 'ann', 'discord', 'm-q',"
        " '2025-01-01T00:00:00.000000+00:00')"
    )
    conn.execute(
        "INSERT INTO pending_requests (request_id, kind, session_id, thread_id, payload_json, asked_at,"
        " discord_channel_id, discord_message_id) VALUES ('per_1', 'permission', 's1', 't1', '{}',"
        " '2025-01-01T00:00:00.000000+00:00', 't1', 'm-p')"
    )
    conn.close()
    with Store.open(path) as store:
        assert store.schema_version == migrations.LATEST_VERSION
        (queued,) = store.queue_items("t1")
        assert (queued.prompt, queued.origin, queued.external_message_id) == (
            "queued before",
            "discord",
            "m-q",
        )
        pending = store.get_pending("per_1")
        assert pending is not None
        assert (pending.external_channel_id, pending.external_message_id) == ("t1", "m-p")
        assert store.update_queued_prompt("m-q", "edited") is True
        assert store.queue_items("t1")[0].prompt == "edited"
    conn = raw(path)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(queued_messages)")}
    indexes = {row[1] for row in conn.execute("PRAGMA index_list(queued_messages)")}
    conn.close()
    assert "external_message_id" in columns and "discord_message_id" not in columns
    assert "queued_messages_external" in indexes and "queued_messages_discord" not in indexes


def test_a_newer_file_is_refused_and_left_unchanged(path: Path) -> None:
    Store.open(path).close()
    newer = migrations.LATEST_VERSION + 1
    conn = raw(path)
    conn.execute("INSERT INTO schema_version VALUES (?, '2030-01-01T00:00:00.000000+00:00')", (newer,))
    conn.execute("CREATE TABLE from_the_future (x TEXT)")
    conn.close()
    before = dump_schema(path)
    with pytest.raises(SchemaTooNewError) as caught:
        Store.open(path)
    assert (caught.value.found, caught.value.known) == (newer, migrations.LATEST_VERSION)
    assert f"schema version {newer}" in str(caught.value)
    assert dump_schema(path) == before


def test_migrations_run_in_order_once_each(tmp_path: Path) -> None:
    ran: list[int] = []

    def step(number: int) -> migrations.Migration:
        def apply(database: peewee.SqliteDatabase) -> None:
            ran.append(number)
            migrations.run_sql(database, f"CREATE TABLE step_{number} (x TEXT)")

        return apply

    database = open_database(tmp_path / "m.db")
    try:
        assert migrations.migrate(database, [step(1), step(2)]) == 2
        assert migrations.migrate(database, [step(1), step(2), step(3)]) == 3
        assert migrations.migrate(database, [step(1), step(2), step(3)]) == 3
        assert ran == [1, 2, 3]
        assert migrations.schema_version(database) == 3
        assert {"step_1", "step_2", "step_3"} <= set(database.get_tables())
    finally:
        database.close()


def test_a_failing_migration_rolls_back_whole(tmp_path: Path) -> None:
    def broken(database: peewee.SqliteDatabase) -> None:
        migrations.run_sql(database, "CREATE TABLE half_done (x TEXT)")
        raise RuntimeError("migration bug")

    database = open_database(tmp_path / "m.db")
    try:
        migrations.migrate(database)
        with pytest.raises(RuntimeError, match="migration bug"):
            migrations.migrate(database, [*migrations.MIGRATIONS, broken])
        assert migrations.schema_version(database) == migrations.LATEST_VERSION
        assert "half_done" not in database.get_tables()
    finally:
        database.close()
