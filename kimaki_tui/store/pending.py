"""The Store's pending-request slice: permission and question requests awaiting an answer.

They are kept so a restart can re-render or expire them and so a persistent Discord button can
find its request. `resolve_pending` changes a row only while it is still pending, in a single
UPDATE: the first answer wins in the database too, whichever front end or process sends it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, get_args

from kimaki_tui.store import records
from kimaki_tui.store.base import StoreBase, utc_now
from kimaki_tui.store.records import PENDING_KINDS, PendingKind, PendingRow, PendingStatus

_FINAL_STATUSES = frozenset(get_args(PendingStatus)) - {"pending"}


class PendingMixin(StoreBase):
    def save_pending(
        self,
        request_id: str,
        kind: PendingKind,
        session_id: str,
        payload: Mapping[str, Any],
        *,
        thread_id: str | None = None,
        asked_at: datetime | None = None,
        external_channel_id: str | None = None,
        external_message_id: str | None = None,
    ) -> PendingRow:
        """Record a request as pending and return the stored row.

        Saving a request id that is already stored changes nothing (OpenCode re-announces
        pending requests, e.g. after a reconnect) and returns the row as it is, answered or not.
        """
        if kind not in PENDING_KINDS:
            raise ValueError(f"unknown request kind {kind!r}; expected one of {sorted(PENDING_KINDS)}")
        with self._write() as t:
            t.pending.insert(
                request_id=request_id,
                kind=kind,
                session_id=session_id,
                thread_id=thread_id,
                payload_json=records.dump_json(dict(payload)),
                asked_at=asked_at or utc_now(),
                status="pending",
                external_channel_id=external_channel_id,
                external_message_id=external_message_id,
            ).on_conflict_ignore().execute()
            return records.pending(t.pending.get(t.pending.request_id == request_id))

    def resolve_pending(
        self, request_id: str, status: PendingStatus, answer: Any = None, by: str | None = None
    ) -> bool:
        """Mark a pending request answered or expired. False if it was not pending (or unknown)."""
        if status not in _FINAL_STATUSES:
            raise ValueError(f"a request resolves to one of {sorted(_FINAL_STATUSES)}, not {status!r}")
        answer_json = None if answer is None else records.dump_json(answer)
        with self._write() as t:
            query = t.pending.update(
                status=status, answer_json=answer_json, answered_by=by, answered_at=utc_now()
            ).where((t.pending.request_id == request_id) & (t.pending.status == "pending"))
            return bool(query.execute())

    def pending_requests(self, session_id: str | None = None) -> list[PendingRow]:
        """Requests still pending (optionally for one session), oldest first."""
        with self._read() as t:
            condition = t.pending.status == "pending"
            if session_id is not None:
                condition &= t.pending.session_id == session_id
            query = t.pending.select().where(condition).order_by(t.pending.asked_at, t.pending.request_id)
            return [records.pending(row) for row in query]

    def get_pending(self, request_id: str) -> PendingRow | None:
        """The request in any status, or None if it was never saved."""
        with self._read() as t:
            row = t.pending.get_or_none(t.pending.request_id == request_id)
            return None if row is None else records.pending(row)

    def set_pending_message(self, request_id: str, channel_id: str, message_id: str) -> bool:
        """Remember which chat message shows the request; False if the request is unknown."""
        with self._write() as t:
            query = t.pending.update(external_channel_id=channel_id, external_message_id=message_id).where(
                t.pending.request_id == request_id
            )
            return bool(query.execute())
