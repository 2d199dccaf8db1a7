"""Which finished parts a front end already posted, kept in the store so a part is posted once,
also across restarts and when a resumed or forked thread replays it."""

from __future__ import annotations

from collections.abc import Iterable

from kimaki_tui.store.repo import Store


class PostLedger:
    def __init__(self, store: Store) -> None:
        self._store = store

    def is_posted(self, part_id: str) -> bool:
        return self._store.is_posted(part_id)

    def mark_posted(self, part_id: str, thread_id: str, session_id: str, external_ids: Iterable[str]) -> None:
        self._store.mark_posted(part_id, thread_id, session_id, list(external_ids))
