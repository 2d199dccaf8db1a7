"""The Store's open-turn slice: which threads have a turn running, kept so the next start can
tell the threads whose turn a crash or a kill cut off."""

from __future__ import annotations

from kimaki_tui.store.base import StoreBase, utc_now
from kimaki_tui.store.migrations import run_sql
from kimaki_tui.store.models import utc_text


class TurnsMixin(StoreBase):
    def open_turn(self, thread_id: str, session_id: str) -> None:
        with self._write():
            run_sql(
                self._database,
                "INSERT OR REPLACE INTO open_turns (thread_id, session_id, started_at) VALUES (?, ?, ?)",
                (thread_id, session_id, utc_text(utc_now())),
            )

    def close_turn(self, thread_id: str) -> None:
        with self._write():
            run_sql(self._database, "DELETE FROM open_turns WHERE thread_id = ?", (thread_id,))

    def take_open_turns(self) -> list[str]:
        """The threads with a turn still marked running, forgotten as they are returned."""
        with self._write():
            rows = run_sql(self._database, "SELECT thread_id FROM open_turns ORDER BY started_at").fetchall()
            run_sql(self._database, "DELETE FROM open_turns")
        return [str(thread) for (thread,) in rows]
