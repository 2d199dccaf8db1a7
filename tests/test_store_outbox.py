"""The outbox slice: rows kept in order per thread until delivered; a part queued once, with its
message ids recorded as they are delivered; old delivered rows pruned. The open-turn slice beside it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from kimaki_tui.core.outbox import MAX_RETRY, retry_delay
from kimaki_tui.store.outbox import NewDelivery
from kimaki_tui.store.repo import Store


def test_rows_wait_in_order_until_delivered(tmp_path: Path) -> None:
    with Store.open(tmp_path / "k.sqlite") as store:
        first, second = store.add_deliveries("t1", [NewDelivery("a"), NewDelivery("b", notify=True)])
        store.add_deliveries("t2", [NewDelivery("c")])
        assert [d.content for d in store.waiting_deliveries("t1")] == ["a", "b"]
        assert first.nonce != second.nonce and second.notify
        assert store.threads_with_deliveries() == ["t1", "t2"]
        store.mark_delivered(first, "100")
        store.mark_undeliverable(second, "403 Missing Access")
        assert store.waiting_deliveries("t1") == [] and store.threads_with_deliveries() == ["t2"]
        assert store.add_deliveries("t3", []) == []
        assert store.prune_deliveries(timedelta(0)) == 2
        assert store.prune_deliveries(timedelta(days=1)) == 0


def test_a_part_is_queued_once_and_gets_its_message_ids(tmp_path: Path) -> None:
    path = tmp_path / "k.sqlite"
    with Store.open(path) as store:
        rows = store.add_deliveries("t1", [NewDelivery("x"), NewDelivery("y")], part=("p1", "s1"))
        assert store.is_posted("p1")
        assert store.add_deliveries("t1", [NewDelivery("x")], part=("p1", "s1")) == []
        store.mark_delivered(rows[0], "11")
    with Store.open(path) as store:  # a restart: the rest still waits
        [left] = store.waiting_deliveries("t1")
        assert left.content == "y" and left.part_id == "p1"
        store.count_attempt(left)
        assert store.waiting_deliveries("t1")[0].attempts == 1
        store.mark_delivered(left, "12")
        posted = store.posted_part("p1")
        assert posted is not None and posted.message_ids == ("11", "12")


def test_retries_back_off_up_to_a_cap() -> None:
    delays = [retry_delay(n) for n in range(1, 10)]
    assert delays == sorted(delays) and delays[0] < 1 and delays[-1] == MAX_RETRY


def test_open_turns_are_handed_out_once(tmp_path: Path) -> None:
    with Store.open(tmp_path / "k.sqlite") as store:
        store.open_turn("t1", "s1")
        store.open_turn("t2", "s2")
        store.open_turn("t1", "s1")  # the next turn of the same thread
        store.close_turn("t2")
        assert store.take_open_turns() == ["t1"]
        assert store.take_open_turns() == []
