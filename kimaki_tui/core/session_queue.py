"""One thread's local queue of prompts: persisted in the store (so a restart loses none), read and
changed here, and announced to every front end after each change.

The session runtime decides when the queue drains (one prompt at a time, once the session is
idle); this module only keeps the queue: adding, listing, editing, reordering, removing, taking
the next prompt and putting it back at the head when its send failed.
"""

from __future__ import annotations

from collections.abc import Callable

from kimaki_tui.core.events import QueuedItem
from kimaki_tui.core.prompts import FileInput, PromptInput
from kimaki_tui.store.records import QueuedRow
from kimaki_tui.store.repo import Store
from kimaki_tui.store.retry import until_stored

QueueAnnounce = Callable[[tuple[QueuedItem, ...]], None]


class ThreadQueue:
    def __init__(self, store: Store, thread_id: str, announce: QueueAnnounce) -> None:
        self._store = store
        self._thread_id = thread_id
        self._announce = announce  # tells every front end what is queued now
        self._length: int | None = None  # read from the store once, then kept

    @property
    def length(self) -> int:
        if self._length is None:
            self._length = len(self._store.queue_items(self._thread_id))
        return self._length

    def know_length(self, length: int) -> None:
        """The queue's length as read in bulk (at load), so `length` needs no query of its own."""
        self._length = length

    def waiting(self) -> bool:
        """Some prompt is queued (read from the store, not the kept length)."""
        return bool(self._store.queue_items(self._thread_id))

    def items(self) -> tuple[QueuedItem, ...]:
        return tuple(_item(row) for row in self._store.queue_items(self._thread_id))

    def add(self, prompt: PromptInput, session_id: str | None) -> int:
        """Queue the prompt last; returns the queue's length."""
        self._store.enqueue(
            self._thread_id,
            prompt.text,
            prompt.author_id,
            prompt.author_name,
            prompt.origin,
            files=[f.to_json() for f in prompt.files],
            session_id=session_id,
            external_message_id=prompt.external_message_id,
        )
        return self.publish()

    def publish(self) -> int:
        """Tell every front end what is queued now; returns the queue's length."""
        items = self.items()
        self._length = len(items)
        self._announce(items)
        return len(items)

    def remove(self, item_id: int) -> bool:
        removed = self._store.remove_queued(item_id)
        self.publish()
        return removed

    def for_message(self, external_message_id: str) -> int | None:
        """The id of the queued item that chat message became, if it still waits."""
        rows = self._store.queue_items(self._thread_id)
        return next((r.id for r in rows if r.external_message_id == external_message_id), None)

    def edit_message(self, external_message_id: str, text: str) -> bool:
        """The chat message was edited while it waits: the queued prompt becomes its new text."""
        if self.for_message(external_message_id) is None:
            return False
        self._store.update_queued_prompt(external_message_id, text)
        self.publish()
        return True

    def move(self, item_id: int, delta: int) -> None:
        self._store.move_queued(item_id, delta)
        self.publish()

    def clear(self) -> int:
        count = self._store.clear_queue(self._thread_id)
        self.publish()
        return count

    def take_next(self) -> QueuedRow | None:
        """Take the next prompt off the queue (before sending it, so a removal racing the send
        cannot "succeed" for a prompt that still goes out)."""
        row = self._store.pop_next(self._thread_id)
        if row is not None:
            self.publish()
        return row

    async def put_back(self, row: QueuedRow) -> None:
        """A taken prompt whose send failed goes back at the head; a locked database delays that."""
        store = self._store
        await until_stored(lambda: store.put_back(row), f"the queue of thread {self._thread_id}")
        self.publish()


def prompt_of(row: QueuedRow) -> PromptInput:
    files = tuple(FileInput(f["url"], f["mime"], f["filename"]) for f in row.files)
    return PromptInput(
        row.prompt,
        row.author_id,
        row.author_name,
        row.origin,
        files,
        external_message_id=row.external_message_id,
    )


def _item(row: QueuedRow) -> QueuedItem:
    return QueuedItem(row.id, row.prompt, row.author_name, row.origin)
