"""Read kimaki's SQLite database without changing a byte of it, into plain frozen rows.

The file is opened read-only through an SQLite URI: `immutable=1` (no locks, no journal, nothing
created beside it) when it has no write-ahead log with content, else `mode=ro`, which reads the
`-wal` kimaki has not checkpointed yet and never writes it or the database (SQLite may add the
reader marks it shares through `-shm`). Either way kimaki can keep using its file.

kimaki's schema grew over time (columns such as `channel_directories.guild_id` or
`thread_sessions.updated_at` came later), so a missing table or column reads as empty or None.
Timestamps are read in the three forms kimaki has written: ISO text from its current code,
SQLite's `CURRENT_TIMESTAMP` text (UTC), and epoch milliseconds from its older releases.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kimaki_tui.database_file import is_kimaki_database
from kimaki_tui.errors import KimakiError

Row = Mapping[str, Any]


class KimakiSourceError(KimakiError):
    """kimaki's database cannot be read (missing, not kimaki's, damaged); it was left untouched."""


@dataclass(frozen=True, slots=True)
class KimakiBot:
    app_id: str
    token: str
    mode: str  # "self_hosted" (the user's own bot) or "gateway" (kimaki's hosted bot)
    last_used_at: datetime | None
    created_at: datetime | None
    has_api_keys: bool = False  # a `bot_api_keys` row exists for this bot
    gemini_api_key: str | None = None


@dataclass(frozen=True, slots=True)
class KimakiChannel:
    channel_id: str
    directory: str
    channel_type: str  # "text" or "voice"
    guild_id: str | None
    app_id: str | None  # only in kimaki's oldest schema


@dataclass(frozen=True, slots=True)
class KimakiThread:
    thread_id: str
    session_id: str
    source: str  # "kimaki" or "external_poll"
    updated_at: datetime | None
    worktree_directory: str | None  # a ready worktree the session runs in, if any


@dataclass(frozen=True, slots=True)
class KimakiPref:
    """One row of channel_models / channel_agents / session_models / session_agents."""

    table: str
    key: str  # the channel id or the session id
    value: str  # the model ("provider/model") or the agent name


@dataclass(frozen=True, slots=True)
class KimakiTask:
    id: int
    status: str  # planned, running, completed, cancelled, failed
    schedule_kind: str  # "at" or "cron"
    run_at: datetime | None
    cron_expr: str | None
    timezone: str | None
    next_run_at: datetime | None
    last_error: str | None
    payload_json: str


@dataclass(frozen=True, slots=True)
class KimakiData:
    """Everything the import carries over, as read from one kimaki database."""

    path: Path
    bots: tuple[KimakiBot, ...]
    channels: tuple[KimakiChannel, ...]
    threads: tuple[KimakiThread, ...]
    prefs: tuple[KimakiPref, ...]
    tasks: tuple[KimakiTask, ...]

    @property
    def current_bot(self) -> KimakiBot | None:
        """The bot kimaki used last (kimaki's own rule for subcommands: latest `last_used_at`)."""
        if not self.bots:
            return None
        floor = datetime.min.replace(tzinfo=UTC)
        return max(self.bots, key=lambda b: (b.last_used_at or floor, b.created_at or floor))

    def summary(self) -> str:
        """What the file holds, in a few words (for the wizard's offer)."""
        counts = (
            (len(self.bots), "bot"),
            (len(self.channels), "channel"),
            (len(self.threads), "thread"),
            (len(self.tasks), "scheduled task"),
            (len(self.prefs), "preference"),
        )
        return ", ".join(f"{n} {word}{'' if n == 1 else 's'}" for n, word in counts)


def read_kimaki(path: Path) -> KimakiData:
    """Read what the import needs from kimaki's database at `path` (never modifying it)."""
    if not path.is_file():
        raise KimakiSourceError(f"no kimaki database at {path}.", "Pass its path with --from.")
    if not is_kimaki_database(path):
        raise KimakiSourceError(
            f"{path} is not a kimaki database (it lacks kimaki's tables, or is kimaki-tui's own).",
            "Pass kimaki's discord-sessions.db with --from.",
        )
    try:
        with _read_only(path) as conn:
            return _read_all(conn, path)
    except sqlite3.Error as exc:
        problem = f"cannot read kimaki's database {path} ({exc}); it was left untouched."
        raise KimakiSourceError(problem) from exc


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    try:
        has_log = path.with_name(path.name + "-wal").stat().st_size > 0
    except FileNotFoundError:
        has_log = False
    flags = "mode=ro" if has_log else "immutable=1"
    conn = sqlite3.connect(f"file:{quote(os.fspath(path))}?{flags}", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("PRAGMA query_only = 1")
        yield conn
    finally:
        conn.close()


def _read_all(conn: sqlite3.Connection, path: Path) -> KimakiData:
    reader = _Reader(conn)
    return KimakiData(
        path=path,
        bots=tuple(_bots(reader)),
        channels=tuple(_channels(reader)),
        threads=tuple(_threads(reader)),
        prefs=tuple(_prefs(reader)),
        tasks=tuple(_tasks(reader)),
    )


class _Reader:
    """SELECT * from a table that may not exist, with columns that may not exist."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        names = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        self.tables = {str(row[0]) for row in names}

    def rows(self, table: str) -> list[Row]:
        if table not in self.tables:
            return []
        return [dict(row) for row in self.conn.execute(f'SELECT * FROM "{table}"')]


def _bots(reader: _Reader) -> Iterator[KimakiBot]:
    keys = {str(row["app_id"]): row for row in reader.rows("bot_api_keys")}
    for row in reader.rows("bot_tokens"):
        app_id = str(row["app_id"])
        key_row = keys.get(app_id, {})
        yield KimakiBot(
            app_id=app_id,
            token=str(row["token"]),
            mode=str(row.get("bot_mode") or "self_hosted").replace("-", "_"),
            last_used_at=parse_time(row.get("last_used_at")),
            created_at=parse_time(row.get("created_at")),
            has_api_keys=app_id in keys,
            gemini_api_key=_text(key_row.get("gemini_api_key")),
        )


def _channels(reader: _Reader) -> Iterator[KimakiChannel]:
    for row in reader.rows("channel_directories"):
        yield KimakiChannel(
            channel_id=str(row["channel_id"]),
            directory=str(row["directory"]),
            channel_type=str(row.get("channel_type") or "text"),
            guild_id=_text(row.get("guild_id")),
            app_id=_text(row.get("app_id")),
        )


def _threads(reader: _Reader) -> Iterator[KimakiThread]:
    worktrees = _ready_worktrees(reader)
    for row in reader.rows("thread_sessions"):
        thread_id = str(row["thread_id"])
        yield KimakiThread(
            thread_id=thread_id,
            session_id=str(row["session_id"]),
            source=str(row.get("source") or "kimaki"),
            updated_at=parse_time(row.get("updated_at") or row.get("created_at")),
            worktree_directory=worktrees.get(thread_id),
        )


def _ready_worktrees(reader: _Reader) -> dict[str, str]:
    """thread id → the worktree its session runs in (`thread_workspaces` supersedes the legacy
    `thread_worktrees`); only worktrees kimaki finished creating."""
    found: dict[str, str] = {}
    for table, column in WORKTREE_TABLES:
        for row in reader.rows(table):
            directory = _text(row.get(column))
            if directory and row.get("status") == "ready":
                found[str(row["thread_id"])] = directory
    return found


WORKTREE_TABLES = (("thread_worktrees", "worktree_directory"), ("thread_workspaces", "workspace_directory"))
PREF_TABLES = (
    ("channel_models", "channel_id", "model_id"),
    ("channel_agents", "channel_id", "agent_name"),
    ("session_models", "session_id", "model_id"),
    ("session_agents", "session_id", "agent_name"),
)


def _prefs(reader: _Reader) -> Iterator[KimakiPref]:
    for table, key, value in PREF_TABLES:
        for row in reader.rows(table):
            yield KimakiPref(table=table, key=str(row[key]), value=str(row[value] or ""))


def _tasks(reader: _Reader) -> Iterator[KimakiTask]:
    for row in reader.rows("scheduled_tasks"):
        yield KimakiTask(
            id=int(row["id"]),
            status=str(row.get("status") or "planned"),
            schedule_kind=str(row["schedule_kind"]),
            run_at=parse_time(row.get("run_at")),
            cron_expr=_text(row.get("cron_expr")),
            timezone=_text(row.get("timezone")),
            next_run_at=parse_time(row.get("next_run_at")),
            last_error=_text(row.get("last_error")),
            payload_json=str(row.get("payload_json") or ""),
        )


def parse_time(value: object) -> datetime | None:
    """A kimaki timestamp as an aware UTC datetime; None when absent or unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)  # older kimaki: epoch milliseconds
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    # SQLite's CURRENT_TIMESTAMP ("YYYY-MM-DD HH:MM:SS") carries no zone and is UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)
