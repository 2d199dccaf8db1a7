"""The Store's outbox slice: what a front end still has to post or edit, per thread in order.

Rows are added before anything is sent and marked delivered with the chat message id once the
chat service accepted them, so an outage or a restart delays a post but never loses it. A part's
messages are queued in the same transaction that records the part as posted, so a replayed part
is neither lost nor queued twice.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from kimaki_tui.store import records
from kimaki_tui.store.base import StoreBase, utc_now
from kimaki_tui.store.migrations import run_sql
from kimaki_tui.store.models import utc_text

# "edit_notice": rewrite the earlier notice posted with the same request_id (a key of the front end's).
DeliveryAction = Literal["send", "edit_prompt", "edit_notice"]
DeliveryView = Literal["permission", "question"]

_COLUMNS = "id, thread_id, action, content, notify, view, request_id, part_id, nonce, attempts"


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """One message to post (or a prompt to edit) in a thread."""

    content: str
    action: DeliveryAction = "send"
    notify: bool = False
    view: DeliveryView | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    thread_id: str
    action: DeliveryAction
    content: str
    notify: bool
    view: DeliveryView | None
    request_id: str | None
    part_id: str | None
    nonce: str
    attempts: int


def _delivery(row: tuple[object, ...]) -> Delivery:
    id_, thread, action, content, notify, view, request, part, nonce, attempts = row
    return Delivery(
        int(str(id_)), str(thread), action, str(content), bool(notify), view,  # type: ignore[arg-type]
        None if request is None else str(request), None if part is None else str(part),
        str(nonce), int(str(attempts)),
    )


class OutboxMixin(StoreBase):
    def add_deliveries(
        self,
        thread_id: str,
        deliveries: Sequence[NewDelivery],
        *,
        part: tuple[str, str] | None = None,
    ) -> list[Delivery]:
        """Queue `deliveries` in order. With `part` (part id, session id) they show that part: it
        is recorded as posted in the same transaction, and nothing is queued if it already was."""
        now = utc_text(utc_now())
        # Plain SQL on this path: it runs for every part of every answer (peewee's query building
        # was most of its time in a 100-thread burst).
        with self._write():
            if part is not None:
                part_id, session_id = part
                recorded = run_sql(
                    self._database,
                    "INSERT INTO posted_parts (part_id, thread_id, session_id, message_ids_json, posted_at)"
                    " VALUES (?, ?, ?, '[]', ?) ON CONFLICT (part_id) DO NOTHING",
                    (part_id, thread_id, session_id, now),
                )
                if recorded.rowcount == 0:
                    return []  # posted already
            ids = [
                run_sql(
                    self._database,
                    "INSERT INTO outbox (thread_id, action, content, notify, view, request_id, part_id,"
                    " nonce, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (thread_id, d.action, d.content, int(d.notify), d.view, d.request_id,
                     part[0] if part else None, secrets.token_hex(8), now),
                ).lastrowid
                for d in deliveries
            ]
            rows = run_sql(
                self._database,
                f"SELECT {_COLUMNS} FROM outbox WHERE id IN ({','.join('?' * len(ids))}) ORDER BY id",
                ids,
            ).fetchall()
        return [_delivery(row) for row in rows]

    def waiting_deliveries(self, thread_id: str) -> list[Delivery]:
        """The thread's undelivered rows, oldest first."""
        with self._read():
            rows = run_sql(
                self._database,
                f"SELECT {_COLUMNS} FROM outbox WHERE thread_id = ? AND delivered_at IS NULL ORDER BY id",
                (thread_id,),
            ).fetchall()
        return [_delivery(row) for row in rows]

    def threads_with_deliveries(self) -> list[str]:
        """Threads with something still to deliver, the one waiting longest first."""
        with self._read():
            rows = run_sql(
                self._database,
                "SELECT thread_id FROM outbox WHERE delivered_at IS NULL GROUP BY thread_id ORDER BY MIN(id)",
            ).fetchall()
        return [str(thread) for (thread,) in rows]

    def mark_delivered(self, delivery: Delivery, external_message_id: str | None) -> None:
        """The chat service took it; a part's message id joins the part's posted record."""
        with self._write():
            run_sql(
                self._database,
                "UPDATE outbox SET delivered_at = ?, external_message_id = ? WHERE id = ?",
                (utc_text(utc_now()), external_message_id, delivery.id),
            )
            if delivery.part_id is not None and external_message_id is not None:
                row = run_sql(
                    self._database,
                    "SELECT message_ids_json FROM posted_parts WHERE part_id = ?",
                    (delivery.part_id,),
                ).fetchone()
                if row is not None:
                    ids = [*json.loads(row[0]), external_message_id]
                    run_sql(
                        self._database,
                        "UPDATE posted_parts SET message_ids_json = ? WHERE part_id = ?",
                        (records.dump_json(ids), delivery.part_id),
                    )

    def notice_message_id(self, thread_id: str, key: str) -> str | None:
        """The chat message of the newest notice posted in the thread with `key` as its request_id."""
        with self._read():
            row = run_sql(
                self._database,
                "SELECT external_message_id FROM outbox WHERE thread_id = ? AND request_id = ?"
                " AND action IN ('send', 'edit_notice') AND external_message_id IS NOT NULL"
                " ORDER BY id DESC LIMIT 1",
                (thread_id, key),
            ).fetchone()
        return None if row is None else str(row[0])

    def mark_undeliverable(self, delivery: Delivery, reason: str) -> None:
        """The chat service refused it for good (a deleted thread, a lost permission)."""
        with self._write():
            run_sql(
                self._database,
                "UPDATE outbox SET delivered_at = ?, failure = ? WHERE id = ?",
                (utc_text(utc_now()), reason, delivery.id),
            )

    def count_attempt(self, delivery: Delivery) -> None:
        with self._write():
            run_sql(self._database, "UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", (delivery.id,))

    def prune_deliveries(self, older_than: timedelta) -> int:
        """Forget delivered rows older than `older_than`; returns how many."""
        cutoff = utc_text(utc_now() - older_than)
        with self._write():
            cursor = run_sql(
                self._database,
                "DELETE FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?", (cutoff,)
            )
            return int(cursor.rowcount)
