"""The Store's queue slice: prompts waiting for their thread's session, kept across restarts.

Order within a thread is `position`, then `id`. New items go after the last one; `pop_next`
takes the first and deletes it in one write transaction, so two callers never get the same item.
What every message does (add, read the thread's queue, take the next) is plain SQL: peewee's
query building was most of its cost when a hundred threads talk at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from peewee import fn

from kimaki_tui.store import records
from kimaki_tui.store.base import StoreBase, utc_now
from kimaki_tui.store.migrations import run_sql
from kimaki_tui.store.models import utc_text
from kimaki_tui.store.records import QueuedRow

_COLUMNS = (
    "id, thread_id, session_id, position, prompt, author_id, author_name, source, files_json,"
    " external_message_id, created_at"
)
_IN_ORDER = f"SELECT {_COLUMNS} FROM queued_messages WHERE thread_id = ? ORDER BY position, id"


def _queued(row: tuple[Any, ...]) -> QueuedRow:
    id_, thread, session, position, prompt, author_id, author_name, origin, files, message, created = row
    return QueuedRow(
        id=int(id_), thread_id=thread, session_id=session, position=int(position), prompt=prompt,
        author_id=author_id, author_name=author_name, origin=origin, files=tuple(json.loads(files)),
        external_message_id=message, created_at=datetime.fromisoformat(created).astimezone(UTC),
    )  # fmt: skip


class QueueMixin(StoreBase):
    def enqueue(
        self,
        thread_id: str,
        prompt: str,
        author_id: str,
        author_name: str,
        origin: str,
        files: Sequence[Mapping[str, Any]] = (),
        session_id: str | None = None,
        external_message_id: str | None = None,
    ) -> QueuedRow:
        """Append a prompt to the thread's queue. `files` are JSON-able attachment descriptors."""
        item = (thread_id, session_id, prompt, author_id, author_name, origin, files, external_message_id)
        return self._insert("COALESCE(MAX(position) + 1, 0)", *item)

    def put_back(self, item: QueuedRow) -> QueuedRow:
        """Queue a popped item again at the head of its thread's queue (its send failed), in one
        transaction: a retried call never leaves it queued twice."""
        return self._insert(
            "COALESCE(MIN(position) - 1, 0)", item.thread_id, item.session_id, item.prompt,
            item.author_id, item.author_name, item.origin, item.files, item.external_message_id,
        )  # fmt: skip

    def _insert(
        self,
        position: str,
        thread_id: str,
        session_id: str | None,
        prompt: str,
        author_id: str,
        author_name: str,
        origin: str,
        files: Sequence[Mapping[str, Any]],
        external_message_id: str | None,
    ) -> QueuedRow:
        """Insert one item at `position` (SQL over the thread's rows: after the last, before the first)."""
        files_json = records.dump_json([dict(item) for item in files])
        with self._write():
            cursor = run_sql(
                self._database,
                "INSERT INTO queued_messages (thread_id, session_id, position, prompt, author_id,"
                f" author_name, source, files_json, external_message_id, created_at) VALUES (?, ?, (SELECT"
                f" {position} FROM queued_messages WHERE thread_id = ?), ?, ?, ?, ?, ?, ?, ?)",
                (thread_id, session_id, thread_id, prompt, author_id, author_name, origin, files_json,
                 external_message_id, utc_text(utc_now())),
            )  # fmt: skip
            row = run_sql(
                self._database, f"SELECT {_COLUMNS} FROM queued_messages WHERE id = ?", (cursor.lastrowid,)
            ).fetchone()
        return _queued(row)

    def queue_items(self, thread_id: str) -> list[QueuedRow]:
        with self._read():
            return [_queued(row) for row in run_sql(self._database, _IN_ORDER, (thread_id,))]

    def queue_lengths(self) -> dict[str, int]:
        """How many items each thread with a non-empty queue holds (one indexed query)."""
        with self._read() as t:
            query = t.queue.select(t.queue.thread_id, fn.COUNT(t.queue.id)).group_by(t.queue.thread_id)
            rows = cast("list[tuple[str, int]]", list(query.tuples()))
            return {thread_id: int(count) for thread_id, count in rows}

    def all_queued(self) -> list[QueuedRow]:
        """Every queued item, grouped by thread, each thread in queue order (for the dashboard)."""
        with self._read():
            query = f"SELECT {_COLUMNS} FROM queued_messages ORDER BY thread_id, position, id"
            return [_queued(row) for row in run_sql(self._database, query)]

    def pop_next(self, thread_id: str) -> QueuedRow | None:
        """Remove and return the thread's first item, or None when its queue is empty."""
        with self._write():
            first = run_sql(self._database, f"{_IN_ORDER} LIMIT 1", (thread_id,)).fetchone()
            if first is None:
                return None
            run_sql(self._database, "DELETE FROM queued_messages WHERE id = ?", (first[0],))
        return _queued(first)

    def remove_queued(self, item_id: int) -> bool:
        with self._write() as t:
            return bool(t.queue.delete().where(t.queue.id == item_id).execute())

    def clear_queue(self, thread_id: str) -> int:
        """Drop the thread's whole queue; return how many items went."""
        with self._write() as t:
            return int(t.queue.delete().where(t.queue.thread_id == thread_id).execute())

    def move_queued(self, item_id: int, delta: int) -> bool:
        """Move an item `delta` places (negative: earlier), clamped to the queue's ends.

        Returns False when the item does not exist or did not move.
        """
        with self._write() as t:
            item = t.queue.get_or_none(t.queue.id == item_id)
            if item is None:
                return False
            rows = [_queued(row) for row in run_sql(self._database, _IN_ORDER, (item.thread_id,))]
            old = next(index for index, row in enumerate(rows) if row.id == item_id)
            new = min(max(old + delta, 0), len(rows) - 1)
            if new == old:
                return False
            rows.insert(new, rows.pop(old))
            for position, row in enumerate(rows):
                if row.position != position:
                    t.queue.update(position=position).where(t.queue.id == row.id).execute()
            return True

    def update_queued_prompt(self, external_message_id: str, prompt: str) -> bool:
        """Follow an edit of the chat message that queued a prompt; False if none is queued."""
        with self._write() as t:
            query = t.queue.update(prompt=prompt).where(t.queue.external_message_id == external_message_id)
            return bool(query.execute())
