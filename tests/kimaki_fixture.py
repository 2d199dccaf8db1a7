"""Build a kimaki (TypeScript) database the way kimaki's own schema lays it out, with rows.

The tables the import reads are transcribed column by column (names, SQLite types, NOT NULL,
defaults, primary and foreign keys) from kimaki's published schema:
  remorses/kimaki, cli/src/schema.sql @ 108cb55f2bb879c5e184342f14a555433d2a9007
(generated there from cli/src/schema.ts, whose `datetime` columns hold ISO text written by
`Date.toISOString()`, or SQLite's CURRENT_TIMESTAMP by default). `before_guild_ids=True` gives the
earlier layout (same repository @ 5cf11bbc79cf7b27a22b909b67fec77525813fa8): no
`channel_directories.guild_id`, no `thread_sessions.parent_session_id` / `updated_at`.
A few tables the import does not read are created too, as kimaki creates them all.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_TS = "datetime DEFAULT CURRENT_TIMESTAMP"

_TABLES: dict[str, tuple[str, ...]] = {
    "bot_tokens": (
        "app_id text PRIMARY KEY",
        "token text NOT NULL",
        "bot_mode text DEFAULT 'self_hosted' NOT NULL",
        "client_id text",
        "client_secret text",
        "proxy_url text",
        f"created_at {_TS}",
        "last_used_at datetime",
    ),
    "bot_api_keys": (
        "app_id text PRIMARY KEY",
        "gemini_api_key text",
        "openai_api_key text",
        "xai_api_key text",
        f"created_at {_TS}",
        "FOREIGN KEY (app_id) REFERENCES bot_tokens(app_id) ON UPDATE CASCADE",
    ),
    "channel_directories": (
        "channel_id text PRIMARY KEY",
        "directory text NOT NULL",
        "channel_type text NOT NULL",
        "guild_id text",
        f"created_at {_TS}",
    ),
    "channel_agents": (
        "channel_id text PRIMARY KEY",
        "agent_name text NOT NULL",
        f"created_at {_TS}",
        f"updated_at {_TS}",
        "FOREIGN KEY (channel_id) REFERENCES channel_directories(channel_id) ON UPDATE CASCADE",
    ),
    "channel_models": (
        "channel_id text PRIMARY KEY",
        "model_id text NOT NULL",
        "variant text",
        f"created_at {_TS}",
        f"updated_at {_TS}",
        "FOREIGN KEY (channel_id) REFERENCES channel_directories(channel_id) ON UPDATE CASCADE",
    ),
    "global_models": (
        "app_id text PRIMARY KEY",
        "model_id text NOT NULL",
        "variant text",
        f"created_at {_TS}",
        f"updated_at {_TS}",
        "FOREIGN KEY (app_id) REFERENCES bot_tokens(app_id) ON UPDATE CASCADE",
    ),
    "thread_sessions": (
        "thread_id text PRIMARY KEY",
        "session_id text NOT NULL",
        "source text DEFAULT 'kimaki' NOT NULL",
        "last_synced_name text",
        "parent_session_id text",
        f"created_at {_TS}",
        f"updated_at {_TS}",
    ),
    "part_messages": (
        "part_id text PRIMARY KEY",
        "message_id text NOT NULL",
        "thread_id text NOT NULL",
        f"created_at {_TS}",
        "FOREIGN KEY (thread_id) REFERENCES thread_sessions(thread_id) ON UPDATE CASCADE ON DELETE CASCADE",
    ),
    "session_agents": (
        "session_id text PRIMARY KEY",
        "agent_name text NOT NULL",
        f"created_at {_TS}",
    ),
    "session_models": (
        "session_id text PRIMARY KEY",
        "model_id text NOT NULL",
        "variant text",
        f"created_at {_TS}",
    ),
    "thread_worktrees": (
        "thread_id text PRIMARY KEY",
        "worktree_name text NOT NULL",
        "worktree_directory text",
        "project_directory text NOT NULL",
        "status text DEFAULT 'pending' NOT NULL",
        "error_message text",
        f"created_at {_TS}",
        "FOREIGN KEY (thread_id) REFERENCES thread_sessions(thread_id) ON UPDATE CASCADE",
    ),
    "thread_workspaces": (
        "thread_id text PRIMARY KEY",
        "workspace_id text",
        "workspace_type text NOT NULL",
        "status text DEFAULT 'pending' NOT NULL",
        "error_message text",
        "project_directory text NOT NULL",
        "workspace_directory text",
        "workspace_name text NOT NULL",
        f"created_at {_TS}",
        "FOREIGN KEY (thread_id) REFERENCES thread_sessions(thread_id) ON UPDATE CASCADE",
    ),
    "scheduled_tasks": (
        "id integer PRIMARY KEY AUTOINCREMENT",
        "status text DEFAULT 'planned' NOT NULL",
        "schedule_kind text NOT NULL",
        "run_at datetime",
        "cron_expr text",
        "timezone text",
        "next_run_at datetime NOT NULL",
        "running_started_at datetime",
        "last_run_at datetime",
        "last_error text",
        "attempts integer DEFAULT 0 NOT NULL",
        "payload_json text NOT NULL",
        "prompt_preview text NOT NULL",
        "channel_id text",
        "thread_id text",
        "session_id text",
        "project_directory text",
        f"created_at {_TS}",
        f"updated_at {_TS}",
        "FOREIGN KEY (channel_id) REFERENCES channel_directories(channel_id)"
        " ON UPDATE CASCADE ON DELETE SET NULL",
        "FOREIGN KEY (thread_id) REFERENCES thread_sessions(thread_id) ON UPDATE CASCADE ON DELETE SET NULL",
    ),
    "scheduled_task_runs": (
        "id integer PRIMARY KEY AUTOINCREMENT",
        "scheduled_task_id integer NOT NULL",
        "status text DEFAULT 'pending' NOT NULL",
        "thread_id text",
        "session_id text",
        "project_directory text",
        "started_at datetime NOT NULL",
        "completed_at datetime",
        "error text",
        "FOREIGN KEY (scheduled_task_id) REFERENCES scheduled_tasks(id) ON UPDATE CASCADE ON DELETE CASCADE",
    ),
}
# Columns the earlier layout lacks (see the module docstring).
_LATER_COLUMNS = {
    "channel_directories": ("guild_id",),
    "thread_sessions": ("parent_session_id", "updated_at"),
}
_INDEXES = (
    "CREATE INDEX scheduled_tasks_status_next_run_at_idx ON scheduled_tasks (status, next_run_at)",
    "CREATE INDEX scheduled_tasks_channel_id_status_idx ON scheduled_tasks (channel_id, status)",
    "CREATE INDEX scheduled_tasks_thread_id_status_idx ON scheduled_tasks (thread_id, status)",
)

Row = Mapping[str, Any]


@dataclass
class KimakiRows:
    """Rows per kimaki table, inserted in dependency order."""

    tables: dict[str, list[Row]] = field(default_factory=dict)

    def add(self, table: str, **row: Any) -> None:
        if table not in _TABLES:
            raise KeyError(f"kimaki has no table {table!r} in this fixture")
        self.tables.setdefault(table, []).append(row)


def iso(text: str) -> str:
    """A time as kimaki's `toISOString()` writes it (milliseconds, Z)."""
    return text if text.endswith("Z") else text + ".000Z"


def task_payload(kind: str, target_id: str, prompt: str, **extra: Any) -> str:
    """A `scheduled_tasks.payload_json` as kimaki's serializeScheduledTaskPayload writes it."""
    key = "channelId" if kind == "channel" else "threadId"
    base: dict[str, Any] = {
        "kind": kind,
        key: target_id,
        "prompt": prompt,
        "agent": None,
        "model": None,
        "username": None,
        "userId": None,
        "permissions": None,
        "injectionGuardPatterns": None,
    }
    if kind == "channel":
        base |= {"name": None, "notifyOnly": False, "worktreeName": None, "cwd": None}
    return json.dumps(base | extra)


def build_kimaki_db(
    path: Path, rows: KimakiRows, *, before_guild_ids: bool = False, wal: bool = True
) -> Path:
    """Create kimaki's database at `path` with `rows`; foreign keys are enforced while inserting."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        if wal:
            conn.execute("PRAGMA journal_mode = wal")  # kimaki's libsql opens it in WAL mode
        conn.execute("PRAGMA foreign_keys = ON")
        for table, definitions in _TABLES.items():
            kept = [d for d in definitions if not _dropped(table, d, before_guild_ids)]
            conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(kept)})")
        for statement in _INDEXES:
            conn.execute(statement)
        for table in _TABLES:
            _insert(conn, table, rows.tables.get(table, ()))
        conn.commit()
    return path


def _dropped(table: str, definition: str, before_guild_ids: bool) -> bool:
    name = definition.split(" ", 1)[0]
    return before_guild_ids and name in _LATER_COLUMNS.get(table, ())


def _insert(conn: sqlite3.Connection, table: str, rows: Iterable[Row]) -> None:
    for row in rows:
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        conn.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", tuple(row.values()))
