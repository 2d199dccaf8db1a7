"""Open the SQLite file with the pragmas every connection needs, and name the store's errors."""

from __future__ import annotations

import logging
from pathlib import Path

import peewee

log = logging.getLogger(__name__)

# WAL lets the TUI read while the bot writes; `normal` sync is safe with WAL and much faster;
# busy_timeout makes a second connection wait for a lock instead of failing at once.
PRAGMAS: dict[str, str | int] = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "busy_timeout": 5000,
    "foreign_keys": 1,
}


class StoreError(Exception):
    """Base of every error the store raises."""


class StoreClosedError(StoreError):
    """The store was used after `close()`."""


class SchemaTooNewError(StoreError):
    """The file was written by a newer kimaki-tui whose schema this code does not know."""

    def __init__(self, path: str, found: int, known: int) -> None:
        super().__init__(
            f"{path} has schema version {found}, but this kimaki-tui only knows versions up to "
            f"{known}. Upgrade kimaki-tui or point it at another data directory; the file was "
            "left unchanged."
        )
        self.path = path
        self.found = found
        self.known = known


def open_database(path: str | Path) -> peewee.SqliteDatabase:
    """Connect to (and create if needed) the SQLite file at `path`.

    Every transaction starts with BEGIN IMMEDIATE: all of ours write, and taking the write lock
    up front lets busy_timeout wait for it, whereas a deferred transaction that upgrades from
    read to write in WAL mode fails at once with SQLITE_BUSY.
    """
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    database = peewee.SqliteDatabase(str(file), pragmas=PRAGMAS, lock_type="IMMEDIATE")
    database.connect()
    log.debug("opened %s", file)
    return database
