"""Open the SQLite file with the pragmas every connection needs, and name the store's errors.

Before SQLite sees an existing file it is checked, so a damaged one is refused and left exactly
as it was: a zero-byte file (SQLite would silently treat it as a new, empty database and every
channel link would be forgotten), a file that is not SQLite, one shorter than its own header says
(truncated), or another program's database. The file and its -wal/-shm are kept at mode 0600.

The check reads the file, so it runs only while this process has no SQLite connection to it:
closing any descriptor of a database file drops every POSIX lock the process holds on it, and an
open connection would then lose its locks (another process could delete the WAL under it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import peewee

from kimaki_tui.errors import KimakiError, disk_full, read_only
from kimaki_tui.private_files import make_private, open_private, private_dir

log = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"
SIDE_FILES = ("-wal", "-shm")
RESET_HINT = (
    "Restore it from a backup, or start with `kimaki --reset-database` to move it aside and begin "
    "with an empty database (project channels must then be linked again)."
)

# WAL lets the TUI read while the bot writes; `normal` sync is safe with WAL and much faster;
# busy_timeout makes a second connection wait for a lock instead of failing at once.
PRAGMAS: dict[str, str | int] = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "busy_timeout": 5000,
    "foreign_keys": 1,
}
# The running kimaki's connection (on its event loop) waits this long for another program's lock;
# busy_timeout blocks the calling thread, so the loop stalls at most this long per statement, and
# the caller retries later (store.retry). Enough for another kimaki command's short writes.
LOOP_LOCK_WAIT_MS = 20


class StoreError(KimakiError):
    """Base of every error the store raises."""


class StoreClosedError(StoreError):
    """The store was used after `close()`."""


class SchemaTooNewError(StoreError):
    """The file was written by a newer kimaki-tui whose schema this code does not know."""

    def __init__(self, path: str, found: int, known: int) -> None:
        super().__init__(
            f"{path} has schema version {found}, but this kimaki-tui only knows versions up to "
            f"{known}; the file was left unchanged.",
            "Upgrade kimaki-tui (`kimaki upgrade`) or point it at another data directory.",
        )
        self.path = path
        self.found = found
        self.known = known


class EmptyDatabaseError(StoreError):
    """The database file exists but has zero bytes: refused rather than silently re-created."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"the database {path} is empty (0 bytes); it was left in place, not re-created, so "
            "nothing is silently forgotten.",
            "Restore it from a backup, or start with `kimaki --reset-database` to move it aside "
            "and begin with an empty database.",
        )
        self.path = path


class CorruptDatabaseError(StoreError):
    """Not a kimaki database (damaged, truncated, or another program's); left untouched."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"the database {path} cannot be used ({reason}); it was left untouched.", RESET_HINT)
        self.path = Path(path)


class DatabaseUnwritable(StoreError):
    """SQLite cannot write the file: the data dir is read-only or the disk is full."""


class DatabaseBusy(StoreError):
    """Another program held the database's write lock for longer than busy_timeout. Messages,
    posts, the queue, approvals and tasks wait for it (store.retry); a command that meets it says so."""

    hint = "Try again in a moment; if it lasts, close the program that keeps the database open for writing."


class DatabaseFull(DatabaseUnwritable, DatabaseBusy):
    """The disk is full. At start-up that ends the run like any unwritable data dir; while kimaki
    runs, what it has to store waits for room exactly as it waits for a lock (store.retry)."""

    hint = (
        "Free some space on that disk: kimaki stores what it held back once there is room "
        "(or start it with --data-dir on another disk)."
    )


def database_error(exc: BaseException, path: Path | str) -> StoreError:
    """The store's error for a failure SQLite reported on `path`, with a hint when we know one.

    The whole exception chain is read: a failed BEGIN on a full disk surfaces as "cannot rollback
    - no transaction is active", with the real cause in its context.
    """
    file = Path(path)
    texts = [str(e) for e in _chain(exc)]
    lowered = " | ".join(texts).lower()
    if "disk is full" in lowered or (_AMBIGUOUS_IO in lowered and _nearly_full(file.parent)):
        full = disk_full(file.parent, "database or disk is full")
        return DatabaseFull(str(full))
    if "readonly" in lowered or "read-only" in lowered or "unable to open database file" in lowered:
        denied = read_only(file.parent, texts[0])
        return DatabaseUnwritable(str(denied), denied.hint)
    if "malformed" in lowered or "not a database" in lowered:
        return CorruptDatabaseError(file, texts[0])
    if "database is locked" in lowered or "database is busy" in lowered:
        return DatabaseBusy(f"{file} is locked by another program ({texts[0]})")
    return StoreError(f"{file}: {texts[0]}")


# SQLite reports a full tmpfs (its shared-memory file cannot grow) as a plain I/O error.
_AMBIGUOUS_IO = "disk i/o error"
_NEARLY_FULL = 1 << 20


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _nearly_full(directory: Path) -> bool:
    try:
        info = os.statvfs(directory)
    except OSError:
        return False
    return info.f_bavail * info.f_frsize < _NEARLY_FULL


# Database files this process has open through SQLite (see the module docstring).
_connected: Counter[str] = Counter()


class _Database(peewee.SqliteDatabase):
    """Counts itself in `_connected` from `open_database` until `close()`."""

    counted: str | None = None

    def close(self) -> bool:
        closed: bool = super().close()
        key, self.counted = self.counted, None
        if key is not None:
            _connected[key] -= 1
            if _connected[key] <= 0:
                del _connected[key]
        return closed


def _key(file: Path) -> str:
    return os.path.realpath(file)


def check_database_file(file: Path) -> None:
    """Refuse an existing file SQLite would misread; a missing file is fine (it gets created).
    Skipped while this process has the file open (it was checked then, and must not be read)."""
    if _connected[_key(file)]:
        return
    try:
        info = file.stat()
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        raise CorruptDatabaseError(file, "it is not a regular file")
    if info.st_size == 0:
        raise EmptyDatabaseError(file)
    with file.open("rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise CorruptDatabaseError(file, "it is not an SQLite database")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The header's page count is valid only when its change counter matches "version valid for".
    if header[24:28] == header[92:96] and info.st_size < pages * page_size:
        raise CorruptDatabaseError(
            file, f"it is truncated: {info.st_size} bytes, but its header says {pages * page_size}"
        )
    if _foreign(file):
        raise CorruptDatabaseError(file, FOREIGN)


FOREIGN = "it belongs to another program: it has tables but no kimaki schema"


def _foreign(file: Path) -> bool:
    """Tables but no `schema_version`, read without touching the file (`immutable`: no locks, no
    journal). Opening it normally would already switch another program's database to WAL."""
    uri = f"file:{quote(str(file))}?immutable=1"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    except sqlite3.DatabaseError as exc:
        raise CorruptDatabaseError(file, str(exc)) from exc
    tables = {str(row[0]) for row in rows}
    return bool(tables) and "schema_version" not in tables


def open_database(path: str | Path) -> peewee.SqliteDatabase:
    """Connect to (and create if needed) the SQLite file at `path`.

    Every transaction starts with BEGIN IMMEDIATE: all of ours write, and taking the write lock
    up front lets busy_timeout wait for it, whereas a deferred transaction that upgrades from
    read to write in WAL mode fails at once with SQLITE_BUSY.
    """
    file = Path(path)
    if not file.parent.exists():
        private_dir(file.parent)
    check_database_file(file)
    created = False
    with contextlib.suppress(FileExistsError):
        # Created 0600 here, so SQLite never makes it world-readable; its -wal and -shm files
        # are created with the database file's mode.
        os.close(open_private(file, exclusive=True))
        created = True
    database = _Database(str(file), pragmas=PRAGMAS, lock_type="IMMEDIATE")
    try:
        database.connect()
    except peewee.PeeweeException as exc:
        if created:
            remove_new_database(file)
        raise database_error(exc, file) from exc
    database.counted = _key(file)
    _connected[database.counted] += 1
    for name in (file, *(file.with_name(file.name + suffix) for suffix in SIDE_FILES)):
        make_private(name)  # files made by an older version or another tool
    log.debug("opened %s", file)
    return database


def remove_new_database(file: Path) -> None:
    """Undo a first open that failed (a full disk...): an empty file left behind would be refused
    as an empty database at the next start."""
    for suffix in ("", *SIDE_FILES):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(file.with_name(file.name + suffix))


def set_database_aside(path: Path, *, now: datetime | None = None) -> Path | None:
    """`--reset-database`: rename the file (and its -wal/-shm) to `<name>.broken-<UTC time>` so
    the next open starts empty. Returns the new name, or None when there was no file."""
    if not path.exists() and not path.is_symlink():
        return None
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.broken-{stamp}")
    for suffix in ("", *SIDE_FILES):
        with contextlib.suppress(FileNotFoundError):
            os.rename(path.with_name(path.name + suffix), aside.with_name(aside.name + suffix))
    log.warning("moved the database %s aside to %s (--reset-database)", path, aside)
    return aside
