"""`Store`: the one API over the SQLite file that the core, the bot and the control center use.

It returns frozen dataclasses (records.py), never peewee objects. Writes are small and
synchronous, fine to call from the event loop: a store opened with `lock_wait_ms` (the running
kimaki's, see LOOP_LOCK_WAIT_MS) waits only that long for another program's lock before raising
DatabaseBusy, and its callers try again later (store.retry). Each Store owns its database and its
own bound copies of the models (models.bind_tables), so several stores in one process stay
independent.
peewee keeps one connection per thread; `close()` closes the calling thread's, so use a store
from one thread (the loop's) apart from short `asyncio.to_thread` bulk jobs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self, cast

import peewee

from kimaki_tui.store import migrations, records
from kimaki_tui.store.base import utc_now
from kimaki_tui.store.channel_settings import ChannelSettingsMixin
from kimaki_tui.store.guilds import GuildMixin
from kimaki_tui.store.migrations import run_sql
from kimaki_tui.store.models import ChannelPrefModel, SessionPrefModel, bind_tables, utc_text
from kimaki_tui.store.outbox import OutboxMixin
from kimaki_tui.store.pending import PendingMixin
from kimaki_tui.store.queue import QueueMixin
from kimaki_tui.store.records import (
    THREAD_ORIGINS,
    UNSET,
    ChannelLink,
    PostedPart,
    Prefs,
    Project,
    ThreadOrigin,
    ThreadSession,
    Unset,
)
from kimaki_tui.store.tasks import TasksMixin
from kimaki_tui.store.turns import TurnsMixin
from kimaki_tui.store.watermarks import WatermarksMixin

_PrefTable = type[ChannelPrefModel] | type[SessionPrefModel]
_PREF_READS = {
    "channel_prefs": "SELECT model, agent FROM channel_prefs WHERE channel_id = ?",
    "session_prefs": "SELECT model, agent FROM session_prefs WHERE session_id = ?",
}
_THREAD_COLUMNS = "thread_id, session_id, channel_id, directory, source, created_at, updated_at"
_THREADS = f"SELECT {_THREAD_COLUMNS} FROM thread_sessions"
_THREAD_BY_ID = f"{_THREADS} WHERE thread_id = ?"
_ID_BATCH = 500  # ids per `IN (...)`: well under SQLite's limit on bound parameters
# An argument left out keeps the stored value (UNSET); None clears it.
_Pref = str | Unset | None


def _thread(row: tuple[str, ...]) -> ThreadSession:
    thread_id, session_id, channel_id, directory, origin, created, updated = row
    return ThreadSession(
        thread_id=thread_id, session_id=session_id, channel_id=channel_id, directory=directory,
        origin=cast("ThreadOrigin", origin), created_at=datetime.fromisoformat(created).astimezone(UTC),
        updated_at=datetime.fromisoformat(updated).astimezone(UTC),
    )  # fmt: skip


def _check_model(model: _Pref) -> None:
    if isinstance(model, str):
        provider, _, name = model.partition("/")
        if not provider or not name:
            raise ValueError(f"model must look like 'provider/model', got {model!r}")


class Store(
    QueueMixin, PendingMixin, TasksMixin, GuildMixin, OutboxMixin, TurnsMixin, WatermarksMixin,
    ChannelSettingsMixin,
):
    """One SQLite file: projects, channels, threads, preferences, posted parts; the queue, pending
    requests, scheduled tasks, guild decisions, the outbox, open turns, watermarks and per-channel
    settings come from the mixins.
    Build it with `Store.open(path)`."""

    def __init__(self, database: peewee.SqliteDatabase, path: Path) -> None:
        super().__init__(database, bind_tables(database))
        self.path = path

    @classmethod
    def open(cls, path: str | Path, *, lock_wait_ms: int | None = None) -> Self:
        """Open or create the file, migrating it to the current schema.

        Opening and migrating wait for a lock as long as any connection (db.PRAGMAS); afterwards
        this thread's connection waits only `lock_wait_ms` when given (the event loop's: a lock
        held by another program must not freeze it).

        Raises SchemaTooNewError (leaving the file untouched) if a newer kimaki-tui wrote it,
        EmptyDatabaseError / CorruptDatabaseError (file untouched) for a zero-byte, damaged or
        foreign file, DatabaseUnwritable for a read-only data dir or a full disk, and StoreError
        for anything else SQLite refuses.
        """
        file = Path(path)
        database = migrations.open_migrated(file)
        if lock_wait_ms is not None:
            database.pragma("busy_timeout", lock_wait_ms)  # this connection only, not permanent
        return cls(database, file)

    def close(self) -> None:
        """Close the connection; later calls raise StoreClosedError. Closing twice is fine."""
        if self._tables is not None:
            self._tables = None
            self._database.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self._read():
            return migrations.schema_version(self._database)

    # -- projects ---------------------------------------------------------------------------

    def add_project(self, directory: str) -> Project:
        """Register a project directory (idempotent) and return it."""
        with self._write() as t:
            t.projects.insert(directory=directory, created_at=utc_now()).on_conflict_ignore().execute()
            return records.project(t.projects.get(t.projects.directory == directory))

    def remove_project(self, directory: str) -> bool:
        """Forget a project and unlink its channels; threads keep their history."""
        with self._write() as t:
            return bool(t.projects.delete().where(t.projects.directory == directory).execute())

    def list_projects(self) -> list[Project]:
        with self._read() as t:
            return [records.project(row) for row in t.projects.select().order_by(t.projects.directory)]

    # -- channels -----------------------------------------------------------------------------

    def link_channel(
        self, channel_id: str, guild_id: str, directory: str, app_id: str | None = None
    ) -> ChannelLink:
        """Make `channel_id` the project's channel (adding the project if new); relinking moves it."""
        with self._write() as t:
            now = utc_now()
            t.projects.insert(directory=directory, created_at=now).on_conflict_ignore().execute()
            t.channels.insert(
                channel_id=channel_id, guild_id=guild_id, directory=directory, app_id=app_id, created_at=now
            ).on_conflict(
                conflict_target=[t.channels.channel_id],
                update={
                    t.channels.guild_id: guild_id,
                    t.channels.directory: directory,
                    t.channels.app_id: app_id,
                },
            ).execute()
            return records.channel(t.channels.get(t.channels.channel_id == channel_id))

    def unlink_channel(self, channel_id: str) -> bool:
        with self._write() as t:
            return bool(t.channels.delete().where(t.channels.channel_id == channel_id).execute())

    def channel_directory(self, channel_id: str) -> str | None:
        with self._read():
            sql = "SELECT directory FROM channel_projects WHERE channel_id = ?"
            row = run_sql(self._database, sql, (channel_id,)).fetchone()
            return None if row is None else str(row[0])

    def channels_for(self, directory: str) -> list[ChannelLink]:
        with self._read() as t:
            query = t.channels.select().where(t.channels.directory == directory)
            query = query.order_by(t.channels.guild_id, t.channels.channel_id)
            return [records.channel(row) for row in query]

    def list_channels(self, guild_id: str | None = None) -> list[ChannelLink]:
        with self._read() as t:
            query = t.channels.select().order_by(
                t.channels.guild_id, t.channels.directory, t.channels.channel_id
            )
            if guild_id is not None:
                query = query.where(t.channels.guild_id == guild_id)
            return [records.channel(row) for row in query]

    # -- threads ------------------------------------------------------------------------------

    def map_thread(
        self, thread_id: str, session_id: str, channel_id: str, directory: str, origin: ThreadOrigin
    ) -> ThreadSession:
        """Map a thread to a session (remapping keeps `created_at` and bumps `updated_at`)."""
        if origin not in THREAD_ORIGINS:
            raise ValueError(f"unknown thread origin {origin!r}; expected one of {sorted(THREAD_ORIGINS)}")
        with self._write():
            now = utc_text(utc_now())
            run_sql(
                self._database,
                f"INSERT INTO thread_sessions ({_THREAD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (thread_id) DO UPDATE SET session_id = excluded.session_id,"
                " channel_id = excluded.channel_id, directory = excluded.directory,"
                " source = excluded.source, updated_at = excluded.updated_at",
                (thread_id, session_id, channel_id, directory, origin, now, now),
            )
            return _thread(run_sql(self._database, _THREAD_BY_ID, (thread_id,)).fetchone())

    def session_for_thread(self, thread_id: str) -> ThreadSession | None:
        with self._read():
            row = run_sql(self._database, _THREAD_BY_ID, (thread_id,)).fetchone()
            return None if row is None else _thread(row)

    def thread_for_session(self, session_id: str) -> ThreadSession | None:
        """The thread showing a session; the most recently mapped one if several do (resume)."""
        with self._read():
            sql = f"{_THREADS} WHERE session_id = ? ORDER BY updated_at DESC, thread_id LIMIT 1"
            row = run_sql(self._database, sql, (session_id,)).fetchone()
            return None if row is None else _thread(row)

    def bound_sessions(self, session_ids: Iterable[str]) -> set[str]:
        """Which of `session_ids` a thread shows (indexed lookups, in batches SQLite accepts)."""
        ids = list(dict.fromkeys(session_ids))
        found: set[str] = set()
        with self._read() as t:
            for start in range(0, len(ids), _ID_BATCH):
                batch = ids[start : start + _ID_BATCH]
                query = t.threads.select(t.threads.session_id).where(t.threads.session_id.in_(batch))
                found.update(session_id for (session_id,) in cast("list[tuple[str]]", list(query.tuples())))
        return found

    def list_threads(self, directory: str | None = None) -> list[ThreadSession]:
        """Mapped threads, most recently updated first."""
        where, params = ("WHERE directory = ?", (directory,)) if directory is not None else ("", ())
        with self._read():
            sql = f"{_THREADS} {where} ORDER BY updated_at DESC, thread_id"
            return [_thread(row) for row in run_sql(self._database, sql, params)]

    def unmap_thread(self, thread_id: str) -> bool:
        with self._write() as t:
            return bool(t.threads.delete().where(t.threads.thread_id == thread_id).execute())

    # -- preferences --------------------------------------------------------------------------

    def set_channel_pref(
        self, channel_id: str, *, model: _Pref = UNSET, agent: _Pref = UNSET
    ) -> Prefs:
        """Change the channel's model and/or agent; an omitted argument keeps, None clears."""
        with self._write() as t:
            return self._set_pref(t.channel_prefs, t.channel_prefs.channel_id, channel_id, model, agent)

    def get_channel_pref(self, channel_id: str) -> Prefs:
        with self._read():
            return self._get_pref(ChannelPrefModel, channel_id)

    def set_session_pref(
        self, session_id: str, *, model: _Pref = UNSET, agent: _Pref = UNSET
    ) -> Prefs:
        """Change the session's model and/or agent; an omitted argument keeps, None clears."""
        with self._write() as t:
            return self._set_pref(t.session_prefs, t.session_prefs.session_id, session_id, model, agent)

    def get_session_pref(self, session_id: str) -> Prefs:
        with self._read():
            return self._get_pref(SessionPrefModel, session_id)

    def _get_pref(self, table: _PrefTable, value: str) -> Prefs:
        row = run_sql(self._database, _PREF_READS[table._meta.table_name], (value,)).fetchone()
        return Prefs() if row is None else Prefs(model=row[0], agent=row[1])

    def _set_pref(
        self, table: _PrefTable, key: peewee.Field[str], value: str, model: _Pref, agent: _Pref
    ) -> Prefs:
        _check_model(model)
        old = self._get_pref(table, value)
        new = Prefs(
            model=old.model if isinstance(model, Unset) else model,
            agent=old.agent if isinstance(agent, Unset) else agent,
        )
        table.insert(
            {key: value, table.model: new.model, table.agent: new.agent, table.updated_at: utc_now()}
        ).on_conflict_replace().execute()
        return new

    # -- posted parts -------------------------------------------------------------------------

    def mark_posted(self, part_id: str, thread_id: str, session_id: str, message_ids: Sequence[str]) -> bool:
        """Record the chat messages showing a part. True if the part was not marked before."""
        ids_json = records.dump_json(list(message_ids))
        with self._write() as t:
            fresh = t.posted.get_or_none(t.posted.part_id == part_id) is None
            t.posted.insert(
                part_id=part_id, thread_id=thread_id, session_id=session_id,
                message_ids_json=ids_json, posted_at=utc_now(),
            ).on_conflict_replace().execute()
            return fresh

    def is_posted(self, part_id: str) -> bool:
        with self._read() as t:
            return bool(t.posted.select().where(t.posted.part_id == part_id).exists())

    def posted_part(self, part_id: str) -> PostedPart | None:
        """Which messages show the part (to edit them), or None if it was never posted."""
        with self._read() as t:
            row = t.posted.get_or_none(t.posted.part_id == part_id)
            return None if row is None else records.posted(row)

