"""Durable delivery of what a front end posts for a turn: the rules, not the chat calls.

A front end queues a thread's messages here (persisted, in order) and a sender of its own takes
them one by one: `waiting` says what is next, `delivered` / `undeliverable` close a row, and
`retry_delay` says how long to wait after a failed attempt. A part is queued once (also across
restarts and replays); a prompt with buttons is attached to its request once it is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from kimaki_tui.core.approval_service import ApprovalService
from kimaki_tui.store.outbox import Delivery, NewDelivery
from kimaki_tui.store.repo import Store

# Retries start fast (a blip) and settle at a few seconds: one request per waiting thread, far
# below the chat service's limits, and an outage's backlog goes out soon after it ends.
FIRST_RETRY = 0.25
MAX_RETRY = 2.0
# Delivered rows are kept a while for diagnosis, then dropped at start.
KEEP_DELIVERED = timedelta(days=2)


def retry_delay(attempt: int) -> float:
    """Seconds to wait after the `attempt`-th failure in a row (1-based)."""
    return min(MAX_RETRY, FIRST_RETRY * 2.0 ** max(0, attempt - 1))


class Outbox:
    def __init__(self, store: Store, approvals: ApprovalService) -> None:
        self._store = store
        self._approvals = approvals

    def post(self, thread_id: str, deliveries: Sequence[NewDelivery]) -> list[Delivery]:
        return self._store.add_deliveries(thread_id, deliveries)

    def post_part(
        self, thread_id: str, part_id: str, session_id: str, deliveries: Sequence[NewDelivery]
    ) -> list[Delivery]:
        """Queue a finished part's messages, unless the part was queued or posted before."""
        return self._store.add_deliveries(thread_id, deliveries, part=(part_id, session_id))

    def waiting(self, thread_id: str) -> list[Delivery]:
        return self._store.waiting_deliveries(thread_id)

    def threads_waiting(self) -> list[str]:
        """Threads with deliveries left over (from before a restart), oldest first."""
        return self._store.threads_with_deliveries()

    def prompt_message_id(self, request_id: str) -> str | None:
        """The message showing a request's prompt, for an `edit_prompt` delivery."""
        shown = self._approvals.prompt_message(request_id)
        return None if shown is None else shown.external_message_id

    def notice_message_id(self, thread_id: str, key: str) -> str | None:
        """The message showing the notice posted with `key`, for an `edit_notice` delivery."""
        return self._store.notice_message_id(thread_id, key)

    def delivered(self, delivery: Delivery, external_message_id: str | None) -> None:
        self._store.mark_delivered(delivery, external_message_id)
        if delivery.view is not None and delivery.request_id and external_message_id:
            self._approvals.attach_message(delivery.request_id, delivery.thread_id, external_message_id)

    def undeliverable(self, delivery: Delivery, reason: str) -> None:
        self._store.mark_undeliverable(delivery, reason)

    def failed_attempt(self, delivery: Delivery, attempt: int) -> float:
        """Count a failed attempt; the seconds to wait before the next."""
        self._store.count_attempt(delivery)
        return retry_delay(attempt)

    def prune(self) -> int:
        return self._store.prune_deliveries(KEEP_DELIVERED)
