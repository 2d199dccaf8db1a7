"""Which SQLite file in a data dir is kimaki-tui's, and whether kimaki's own database sits there.

kimaki (the TypeScript tool) and kimaki-tui share the default data dir `~/.kimaki` and the file
name `discord-sessions.db`, but not the schema. kimaki-tui keeps using `discord-sessions.db` when
that file is its own (or absent), and switches to `kimaki-tui.db` as soon as the file there is
kimaki's: kimaki's file is never written, and `kimaki import-kimaki` copies what it holds.

Rule, in order: `kimaki-tui.db` when it exists; else `kimaki-tui.db` when `discord-sessions.db` is
kimaki's (with a one-line notice on that first start); else `discord-sessions.db`.

Telling whose file it is means reading it. Closing any descriptor of a database file drops the
POSIX locks this process holds on it (see store/db.py), so the verdict is remembered per file
(device and inode): it is read once, at start, before the store opens it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

KIMAKI_DB_NAME = "discord-sessions.db"  # kimaki's file name (and kimaki-tui's in older data dirs)
OWN_DB_NAME = "kimaki-tui.db"  # kimaki-tui's file when kimaki's database is in the data dir
SQLITE_MAGIC = b"SQLite format 3\x00"
# Tables every kimaki database since its first SQLite schema has; kimaki-tui's has `schema_version`.
_KIMAKI_TABLES = frozenset({"thread_sessions", "channel_directories"})
_OURS = "schema_version"

_verdicts: dict[tuple[int, int], bool] = {}


@dataclass(frozen=True, slots=True)
class DatabaseChoice:
    """The file kimaki-tui uses, and kimaki's database when one was found next to it."""

    path: Path
    kimaki_db: Path | None = None
    first_use: bool = False  # kimaki-tui's own file did not exist yet

    @property
    def notice(self) -> str | None:
        """One line for the first start beside a kimaki database, else None."""
        if self.kimaki_db is None or not self.first_use:
            return None
        return (
            f"{self.kimaki_db} is kimaki's database: it is left untouched and kimaki-tui keeps its own "
            f"in {self.path.name}. Run `kimaki import-kimaki` to bring over the bot token, channels, "
            "threads, scheduled tasks and preferences."
        )


def choose_database(data_dir: Path) -> DatabaseChoice:
    """The database file kimaki-tui uses in `data_dir` (see the module docstring)."""
    own = data_dir / OWN_DB_NAME
    shared = data_dir / KIMAKI_DB_NAME
    if own.exists():
        return DatabaseChoice(own)
    if is_kimaki_database(shared):
        return DatabaseChoice(own, kimaki_db=shared, first_use=True)
    return DatabaseChoice(shared)


def find_kimaki_database(data_dir: Path) -> Path | None:
    """kimaki's database in `data_dir`, or None."""
    shared = data_dir / KIMAKI_DB_NAME
    return shared if is_kimaki_database(shared) else None


def is_kimaki_database(path: Path) -> bool:
    """True when `path` is an SQLite file with kimaki's tables and without kimaki-tui's."""
    try:
        info = path.stat()
    except OSError:
        return False
    key = (info.st_dev, info.st_ino)
    if key not in _verdicts:
        _verdicts[key] = _has_kimaki_tables(path)
    return _verdicts[key]


def _has_kimaki_tables(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            if handle.read(16) != SQLITE_MAGIC:
                return False
    except OSError:
        return False
    tables = table_names(path)
    return tables >= _KIMAKI_TABLES and _OURS not in tables


def table_names(path: Path) -> set[str]:
    """The file's table names, read without locks or journal (`immutable`); empty if unreadable."""
    uri = f"file:{quote(os.fspath(path))}?immutable=1"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    except sqlite3.Error:
        return set()
    return {str(row[0]) for row in rows}
