"""The schema's history: ordered migrations, each applied once in its own transaction.

`MIGRATIONS[n - 1]` brings a file from version n - 1 to n. A migration is written with explicit
DDL and never edited once released: append a new one instead. `schema_version` keeps one row
per applied migration, so the current version is its largest `version`.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import peewee

from kimaki_tui.store.db import (
    FOREIGN,
    CorruptDatabaseError,
    SchemaTooNewError,
    database_error,
    open_database,
    remove_new_database,
)
from kimaki_tui.store.models import utc_text

log = logging.getLogger(__name__)

Migration = Callable[[peewee.SqliteDatabase], None]

_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY NOT NULL,
    applied_at TEXT NOT NULL
)"""


def run_sql(database: peewee.SqliteDatabase, statement: str, params: Sequence[object] = ()) -> sqlite3.Cursor:
    """One SQL statement on the store's connection (typed: execute_sql is untyped in the stubs)."""
    cursor: sqlite3.Cursor = database.execute_sql(statement, params)  # type: ignore[no-untyped-call]
    return cursor


def _run(database: peewee.SqliteDatabase, statements: Sequence[str]) -> None:
    # One statement per call: sqlite3's executescript() would commit our open transaction.
    for statement in statements:
        run_sql(database, statement)


def _v1_mappings(database: peewee.SqliteDatabase) -> None:
    """Projects, channel and thread mappings, per channel/session preferences."""
    _run(database, [
        """CREATE TABLE projects (
            id INTEGER PRIMARY KEY NOT NULL,
            directory TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL)""",
        # Removing a project unlinks its channels.
        """CREATE TABLE channel_projects (
            channel_id TEXT PRIMARY KEY NOT NULL,
            guild_id TEXT NOT NULL,
            directory TEXT NOT NULL REFERENCES projects (directory) ON DELETE CASCADE,
            app_id TEXT,
            created_at TEXT NOT NULL)""",
        "CREATE INDEX channel_projects_directory ON channel_projects (directory)",
        "CREATE INDEX channel_projects_guild ON channel_projects (guild_id)",
        # Not unique on session_id: a resumed session can live in a second thread.
        """CREATE TABLE thread_sessions (
            thread_id TEXT PRIMARY KEY NOT NULL,
            session_id TEXT NOT NULL,
            channel_id TEXT NOT NULL,
            directory TEXT NOT NULL,
            source TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL)""",
        "CREATE INDEX thread_sessions_session ON thread_sessions (session_id, updated_at)",
        """CREATE TABLE channel_prefs (
            channel_id TEXT PRIMARY KEY NOT NULL,
            model TEXT,
            agent TEXT,
            updated_at TEXT NOT NULL)""",
        """CREATE TABLE session_prefs (
            session_id TEXT PRIMARY KEY NOT NULL,
            model TEXT,
            agent TEXT,
            updated_at TEXT NOT NULL)""",
    ])


def _v2_runtime_state(database: peewee.SqliteDatabase) -> None:
    """What a restart must not lose: the queue, pending requests, and which parts were posted."""
    _run(database, [
        """CREATE TABLE queued_messages (
            id INTEGER PRIMARY KEY NOT NULL,
            thread_id TEXT NOT NULL,
            session_id TEXT,
            position INTEGER NOT NULL,
            prompt TEXT NOT NULL,
            author_id TEXT NOT NULL,
            author_name TEXT NOT NULL,
            source TEXT NOT NULL,
            files_json TEXT NOT NULL DEFAULT '[]',
            discord_message_id TEXT,
            created_at TEXT NOT NULL)""",
        "CREATE INDEX queued_messages_order ON queued_messages (thread_id, position, id)",
        "CREATE INDEX queued_messages_discord ON queued_messages (discord_message_id)",
        """CREATE TABLE pending_requests (
            request_id TEXT PRIMARY KEY NOT NULL,
            kind TEXT NOT NULL,
            session_id TEXT NOT NULL,
            thread_id TEXT,
            payload_json TEXT NOT NULL,
            asked_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            answer_json TEXT,
            answered_by TEXT,
            answered_at TEXT,
            discord_channel_id TEXT,
            discord_message_id TEXT)""",
        "CREATE INDEX pending_requests_status ON pending_requests (status, session_id, asked_at)",
        """CREATE TABLE posted_parts (
            part_id TEXT PRIMARY KEY NOT NULL,
            thread_id TEXT NOT NULL,
            session_id TEXT NOT NULL,
            message_ids_json TEXT NOT NULL,
            posted_at TEXT NOT NULL)""",
        "CREATE INDEX posted_parts_thread ON posted_parts (thread_id)",
    ])


def _v3_scheduled_tasks(database: peewee.SqliteDatabase) -> None:
    """Scheduled sends (`kimaki send --send-at`) and a record of each time one fired."""
    _run(database, [
        # kind "at" runs once at run_at; "cron" runs on cron_expr in timezone. next_run_at is the
        # next time either is due; payload_json is the send request (target, prompt, options).
        """CREATE TABLE scheduled_tasks (
            id INTEGER PRIMARY KEY NOT NULL,
            kind TEXT NOT NULL,
            run_at TEXT,
            cron_expr TEXT,
            timezone TEXT,
            next_run_at TEXT,
            status TEXT NOT NULL,
            payload_json TEXT NOT NULL,
            prompt_preview TEXT NOT NULL,
            channel_id TEXT,
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL)""",
        "CREATE INDEX scheduled_tasks_due ON scheduled_tasks (status, next_run_at)",
        "CREATE INDEX scheduled_tasks_channel ON scheduled_tasks (channel_id)",
        """CREATE TABLE task_runs (
            id INTEGER PRIMARY KEY NOT NULL,
            task_id INTEGER NOT NULL REFERENCES scheduled_tasks (id) ON DELETE CASCADE,
            scheduled_for TEXT NOT NULL,
            started_at TEXT NOT NULL,
            status TEXT NOT NULL,
            message_id TEXT,
            thread_id TEXT,
            error TEXT)""",
        "CREATE INDEX task_runs_task ON task_runs (task_id, id)",
    ])


def _v4_guilds(database: peewee.SqliteDatabase) -> None:
    """The Discord servers the bot was added to, and whether kimaki serves them (issue: a public
    bot can be added to anyone's server; only the operator's are served)."""
    _run(database, [
        # status is the last evaluation (pending / allowed / denied) so a CLI can list it without
        # asking Discord; decision is the operator's explicit allow/deny (NULL: none, status then
        # follows who owns the server). notice_sent_at: the "waiting for approval" notice, once.
        """CREATE TABLE guilds (
            guild_id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            owner_id TEXT,
            status TEXT NOT NULL,
            decision TEXT,
            decided_by TEXT,
            decided_at TEXT,
            notice_sent_at TEXT,
            first_seen_at TEXT NOT NULL,
            updated_at TEXT NOT NULL)""",
    ])


def _v5_neutral_names(database: peewee.SqliteDatabase) -> None:
    """Message ids of the chat front end under neutral names (the core is not Discord's)."""
    _run(database, [
        "ALTER TABLE queued_messages RENAME COLUMN discord_message_id TO external_message_id",
        "DROP INDEX queued_messages_discord",
        "CREATE INDEX queued_messages_external ON queued_messages (external_message_id)",
        "ALTER TABLE pending_requests RENAME COLUMN discord_channel_id TO external_channel_id",
        "ALTER TABLE pending_requests RENAME COLUMN discord_message_id TO external_message_id",
    ])


def _v6_outbox(database: peewee.SqliteDatabase) -> None:
    """What a front end still has to post or edit for a turn, per thread in order, so a chat
    outage or a restart delays it but loses nothing (issue: answers lost when Discord was down)."""
    _run(database, [
        # action: "send" a new message, or "edit_prompt" (the message showing request_id).
        # nonce: sent with the message so a retry after a lost answer is not posted twice.
        # part_id: the finished part the message shows (its posted_parts row gets message ids).
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            thread_id TEXT NOT NULL,
            action TEXT NOT NULL,
            content TEXT NOT NULL,
            notify INTEGER NOT NULL DEFAULT 0,
            view TEXT,
            request_id TEXT,
            part_id TEXT,
            nonce TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            delivered_at TEXT,
            external_message_id TEXT,
            failure TEXT)""",
        "CREATE INDEX outbox_waiting ON outbox (thread_id, id) WHERE delivered_at IS NULL",
    ])


def _v7_open_turns(database: peewee.SqliteDatabase) -> None:
    """The turns running, so one cut off by a crash or a kill is reported on the next start."""
    _run(database, [
        # A turn from its prompt until it ends: one still here at start was cut off by kimaki's end.
        """CREATE TABLE open_turns (
            thread_id TEXT PRIMARY KEY NOT NULL,
            session_id TEXT NOT NULL,
            started_at TEXT NOT NULL)""",
    ])


def _v8_watermarks(database: peewee.SqliteDatabase) -> None:
    """The last message handled per channel and thread, so messages sent while kimaki was down are
    found and answered at the next start."""
    _run(database, [
        # message_id: a Discord snowflake as text; every message up to it was handled.
        """CREATE TABLE watermarks (
            channel_id TEXT PRIMARY KEY NOT NULL,
            message_id TEXT NOT NULL,
            updated_at TEXT NOT NULL)""",
    ])


def _v9_channel_settings(database: peewee.SqliteDatabase) -> None:
    """A channel's own value for a setting (mention mode, …), overriding the global default there."""
    _run(database, [
        """CREATE TABLE channel_settings (
            channel_id TEXT NOT NULL,
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (channel_id, name))""",
    ])


MIGRATIONS: tuple[Migration, ...] = (
    _v1_mappings, _v2_runtime_state, _v3_scheduled_tasks, _v4_guilds, _v5_neutral_names, _v6_outbox,
    _v7_open_turns, _v8_watermarks, _v9_channel_settings,
)
LATEST_VERSION = len(MIGRATIONS)


def schema_version(database: peewee.SqliteDatabase) -> int:
    """The file's version: 0 for a file no migration has touched."""
    if "schema_version" not in database.get_tables():
        return 0
    row = run_sql(database, "SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(
    database: peewee.SqliteDatabase, migrations: Sequence[Migration] = MIGRATIONS, *, path: str = ""
) -> int:
    """Apply every migration the file lacks, in order; return the resulting version.

    A file newer than `migrations` raises `SchemaTooNewError` before anything is written. A
    failing migration rolls back whole and leaves the file at the previous version.
    """
    known = len(migrations)
    found = schema_version(database)
    if found > known:
        raise SchemaTooNewError(path or str(database.database), found, known)
    if found == 0 and database.get_tables():
        # Tables but no schema version: another program's database. Migrating would write ours
        # into it; refuse and leave it as it is.
        raise CorruptDatabaseError(path or str(database.database), FOREIGN)
    for version in range(found + 1, known + 1):
        with database.atomic():
            # Another process may have migrated while we waited for the write lock.
            if schema_version(database) >= version:
                continue
            run_sql(database, _VERSION_TABLE)
            migrations[version - 1](database)
            run_sql(
                database,
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                (version, utc_text(datetime.now(UTC))),
            )
        log.info("migrated %s to schema version %d", path or database.database, version)
    return known


def open_migrated(path: str | Path) -> peewee.SqliteDatabase:
    """Open the kimaki database at `path` and bring it to the current schema.

    Errors come out as the store's typed errors (kimaki_tui.store.db). A file this call created is
    removed again when its first migration fails (a full disk...), so the next start does not
    find a half-made database.
    """
    file = Path(path)
    fresh = not file.exists()
    database = open_database(file)
    try:
        migrate(database, path=str(file))
    except BaseException as exc:
        database.close()
        if fresh:
            remove_new_database(file)
        if isinstance(exc, peewee.PeeweeException):
            raise database_error(exc, file) from exc
        raise
    return database
