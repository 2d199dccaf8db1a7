"""The core's door for a chat front end's bookkeeping: which parts it posted (`Posts`), its
persisted, ordered outbox (`Deliveries`), telling the core it listens (`ChatListening`), turns a
previous run left unfinished (`Turns`), and incoming messages handled exactly once (`Handled`).

Re-exported by `core.api`, the one door.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from kimaki_tui.store.outbox import Delivery, NewDelivery


class Posts(Protocol):
    """Which finished parts a front end already posted (kept across restarts: posted once)."""

    def is_posted(self, part_id: str) -> bool: ...

    def mark_posted(
        self, part_id: str, thread_id: str, session_id: str, external_ids: Iterable[str]
    ) -> None: ...


class Deliveries(Protocol):
    """A thread's posts, persisted and in order until the chat service took them (core.outbox)."""

    def post(self, thread_id: str, deliveries: Sequence[NewDelivery]) -> list[Delivery]: ...

    def post_part(
        self, thread_id: str, part_id: str, session_id: str, deliveries: Sequence[NewDelivery]
    ) -> list[Delivery]: ...

    def waiting(self, thread_id: str) -> list[Delivery]: ...

    def threads_waiting(self) -> list[str]: ...

    def prompt_message_id(self, request_id: str) -> str | None: ...

    def notice_message_id(self, thread_id: str, key: str) -> str | None: ...

    def delivered(self, delivery: Delivery, external_message_id: str | None) -> None: ...

    def undeliverable(self, delivery: Delivery, reason: str) -> None: ...

    def failed_attempt(self, delivery: Delivery, attempt: int) -> float: ...

    def prune(self) -> int: ...


class ChatListening(Protocol):
    """A chat front end tells the core it posts what turns produce (core.delivery)."""

    def listening(self) -> None: ...

    def stopped(self) -> None: ...


class Turns(Protocol):
    """Turns the previous run of kimaki left unfinished (a crash, a kill, a restart)."""

    def take_interrupted(self) -> list[str]:
        """Their threads, each handed out once."""
        ...


class Handled(Protocol):
    """Incoming messages handled per channel or thread (core.catchup has the rule): claimed before
    handling, marked when done, so none is answered twice and a restart reads from the watermark."""

    def watermark(self, channel_id: str) -> int | None: ...

    def claim(self, channel_id: str, message_id: int) -> bool:
        """False when the message is being or was handled already."""
        ...

    def handled(self, channel_id: str, message_id: int) -> None: ...

    def start_from(self, channel_id: str, message_id: int) -> None:
        """A channel without a watermark: count everything up to `message_id` as handled."""
        ...
