"""The Store's watermark slice: per channel or thread, the newest message handled, so a start after
downtime reads only what came later."""

from __future__ import annotations

from kimaki_tui.store.base import StoreBase, utc_now
from kimaki_tui.store.migrations import run_sql
from kimaki_tui.store.models import utc_text


class WatermarksMixin(StoreBase):
    def raise_watermark(self, channel_id: str, message_id: int) -> None:
        """Record `message_id` as handled in `channel_id`, unless a newer one already is."""
        with self._write():
            run_sql(
                self._database,
                "INSERT INTO watermarks (channel_id, message_id, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (channel_id) DO UPDATE SET message_id = excluded.message_id, "
                "updated_at = excluded.updated_at "
                "WHERE CAST(excluded.message_id AS INTEGER) > CAST(watermarks.message_id AS INTEGER)",
                (channel_id, str(message_id), utc_text(utc_now())),
            )

    def start_watermark(self, channel_id: str, message_id: int) -> None:
        """A channel never read starts at `message_id`; one that has a watermark keeps it."""
        with self._write():
            run_sql(
                self._database,
                "INSERT INTO watermarks (channel_id, message_id, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (channel_id) DO NOTHING",
                (channel_id, str(message_id), utc_text(utc_now())),
            )

    def watermark(self, channel_id: str) -> int | None:
        """The newest message handled in `channel_id`; None when none ever was."""
        with self._read():
            row = run_sql(
                self._database, "SELECT message_id FROM watermarks WHERE channel_id = ?", (channel_id,)
            ).fetchone()
        return None if row is None else int(row[0])
