"""What every part of the Store shares: its bound tables, read and write scopes, error translation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import peewee

from kimaki_tui.store.db import StoreClosedError, database_error
from kimaki_tui.store.models import Tables


def utc_now() -> datetime:
    return datetime.now(UTC)


class StoreBase:
    """Holds one database and its bound tables; `Store` adds the public methods in slices."""

    def __init__(self, database: peewee.SqliteDatabase, tables: Tables) -> None:
        self._database = database
        self._tables: Tables | None = tables

    @contextmanager
    def _read(self) -> Iterator[Tables]:
        """A scope for queries; peewee errors leave it as StoreError. Materialize results inside."""
        tables = self._tables
        if tables is None:
            raise StoreClosedError("the store is closed")
        try:
            yield tables
        except peewee.PeeweeException as exc:
            raise database_error(exc, str(self._database.database)) from exc

    @contextmanager
    def _write(self) -> Iterator[Tables]:
        """A transaction (BEGIN IMMEDIATE, see db.open_database) that commits on success."""
        with self._read() as tables, self._database.atomic():
            yield tables
