"""The store's runtime state on real SQLite files: the queue (order, restarts, concurrent stores),
pending requests (first answer wins) and posted parts, each kept across a restart."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kimaki_tui.store.repo import Store
from tests.test_store import PAYLOAD, path, store

__all__ = ["path", "store"]


# -- queue ------------------------------------------------------------------------------------


def prompts(store: Store, thread_id: str) -> list[str]:
    return [item.prompt for item in store.queue_items(thread_id)]


def test_enqueue_returns_the_stored_row(store: Store) -> None:
    files = [{"filename": "a.png", "url": "https://cdn.example/a.png", "size": 3, "voice": False}]
    row = store.enqueue(
        "t1", "fix the bug", "u1", "ann", "discord", files=files, session_id="s1", external_message_id="m1"
    )
    assert row.id > 0 and row.position == 0
    assert (row.thread_id, row.prompt, row.author_id, row.author_name) == ("t1", "fix the bug", "u1", "ann")
    assert (row.origin, row.session_id, row.external_message_id) == ("discord", "s1", "m1")
    assert row.files == tuple(files)
    assert store.queue_items("t1") == [row]
    plain = store.enqueue("t1", "then test", "u2", "bob", "control-center")
    assert plain.position == 1 and plain.files == () and plain.session_id is None


def test_pop_next_takes_items_in_order_then_none(store: Store) -> None:
    for text in ("one", "two", "three"):
        store.enqueue("t1", text, "u", "n", "discord")
    store.enqueue("t2", "elsewhere", "u", "n", "discord")
    popped = store.pop_next("t1")
    assert popped is not None and popped.prompt == "one"
    store.enqueue("t1", "four", "u", "n", "discord")
    taken = [store.pop_next("t1") for _ in range(4)]
    assert [item.prompt if item else None for item in taken] == ["two", "three", "four", None]
    assert prompts(store, "t2") == ["elsewhere"]


def test_put_back_queues_a_popped_item_again_first(store: Store) -> None:
    files = [{"filename": "a.png", "url": "https://cdn.example/a.png", "size": 3, "voice": False}]
    store.enqueue("t1", "one", "u1", "ann", "discord", files=files, session_id="s1", external_message_id="m1")
    for text in ("two", "three"):
        store.enqueue("t1", text, "u", "n", "discord")
    popped = store.pop_next("t1")
    assert popped is not None
    back = store.put_back(popped)
    assert prompts(store, "t1") == ["one", "two", "three"]
    assert (back.files, back.session_id, back.external_message_id) == (tuple(files), "s1", "m1")
    again = store.pop_next("t1")
    assert again is not None and again.prompt == "one"
    store.put_back(again)
    assert store.move_queued(store.queue_items("t1")[0].id, 1)
    assert prompts(store, "t1") == ["two", "one", "three"]


def test_the_queue_survives_a_restart_in_order(path: Path) -> None:
    with Store.open(path) as before:
        for text in ("a", "b", "c", "d"):
            before.enqueue("t1", text, "u", "n", "discord", files=[{"filename": f"{text}.txt"}])
        items = before.queue_items("t1")
        before.move_queued(items[3].id, -2)
        before.pop_next("t1")
        expected = before.queue_items("t1")
    with Store.open(path) as after:
        assert after.queue_items("t1") == expected
        assert [item.prompt for item in expected] == ["d", "b", "c"]
        assert after.enqueue("t1", "e", "u", "n", "discord").position > expected[-1].position
        assert prompts(after, "t1") == ["d", "b", "c", "e"]


def test_pop_next_hands_each_item_out_once_across_concurrent_stores(path: Path) -> None:
    count = 120
    with Store.open(path) as setup:
        for index in range(count):
            setup.enqueue("t1", f"p{index}", "u", "n", "discord")
    taken: list[list[int]] = [[], [], []]
    errors: list[BaseException] = []

    def drain(bucket: list[int]) -> None:
        try:
            with Store.open(path) as mine:  # its own connection, like another process
                while (item := mine.pop_next("t1")) is not None:
                    bucket.append(item.id)
        except BaseException as exc:  # surfaced below: a thread's exception is otherwise lost
            errors.append(exc)

    workers = [threading.Thread(target=drain, args=(bucket,)) for bucket in taken]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == []
    every = [item for bucket in taken for item in bucket]
    assert len(every) == count == len(set(every))
    for bucket in taken:
        assert bucket == sorted(bucket)  # each taker saw the queue's order


def test_move_queued_up_down_and_at_the_edges(store: Store) -> None:
    ids = [store.enqueue("t1", text, "u", "n", "discord").id for text in ("a", "b", "c", "d")]
    store.enqueue("t2", "x", "u", "n", "discord")
    assert store.move_queued(ids[2], -1) is True
    assert prompts(store, "t1") == ["a", "c", "b", "d"]
    assert store.move_queued(ids[0], +1) is True
    assert prompts(store, "t1") == ["c", "a", "b", "d"]
    assert store.move_queued(ids[3], -10) is True  # clamped to the front
    assert prompts(store, "t1") == ["d", "c", "a", "b"]
    assert store.move_queued(ids[3], -1) is False  # already first
    assert store.move_queued(ids[1], +1) is False  # already last
    assert store.move_queued(ids[1], 0) is False
    assert store.move_queued(999_999, 1) is False
    assert prompts(store, "t1") == ["d", "c", "a", "b"]
    assert prompts(store, "t2") == ["x"]
    assert [item.position for item in store.queue_items("t1")] == [0, 1, 2, 3]


def test_remove_clear_and_edit_queued(store: Store) -> None:
    first = store.enqueue("t1", "a", "u", "n", "discord", external_message_id="m-a")
    store.enqueue("t1", "b", "u", "n", "discord", external_message_id="m-b")
    store.enqueue("t2", "c", "u", "n", "cli")
    assert store.update_queued_prompt("m-b", "b, edited") is True
    assert store.update_queued_prompt("m-unknown", "x") is False
    assert store.remove_queued(first.id) is True
    assert store.remove_queued(first.id) is False
    assert prompts(store, "t1") == ["b, edited"]
    store.enqueue("t1", "d", "u", "n", "discord")
    assert store.clear_queue("t1") == 2
    assert store.clear_queue("t1") == 0
    assert store.queue_items("t1") == []
    assert prompts(store, "t2") == ["c"]


def test_all_queued_groups_threads_in_queue_order(store: Store) -> None:
    store.enqueue("t2", "t2-a", "u", "n", "discord")
    b = store.enqueue("t1", "t1-a", "u", "n", "discord")
    store.enqueue("t1", "t1-b", "u", "n", "discord")
    store.move_queued(b.id, 1)
    assert [(q.thread_id, q.prompt) for q in store.all_queued()] == [
        ("t1", "t1-b"), ("t1", "t1-a"), ("t2", "t2-a"),
    ]


# -- pending requests -------------------------------------------------------------------------



def test_save_and_get_pending(store: Store) -> None:
    asked = datetime(2025, 1, 2, 3, 4, 5, 600, tzinfo=UTC)
    row = store.save_pending("per_1", "permission", "s1", PAYLOAD, thread_id="t1", asked_at=asked)
    assert (row.request_id, row.kind, row.session_id, row.thread_id) == ("per_1", "permission", "s1", "t1")
    assert row.payload == PAYLOAD and row.asked_at == asked and row.status == "pending"
    assert row.answer is None and row.answered_by is None and row.answered_at is None
    assert store.get_pending("per_1") == row
    assert store.get_pending("nope") is None


def test_saving_a_known_request_again_changes_nothing(store: Store) -> None:
    store.save_pending("per_1", "permission", "s1", PAYLOAD)
    store.resolve_pending("per_1", "answered", "once", by="ann")
    again = store.save_pending("per_1", "permission", "s1", {"different": True})
    assert again.status == "answered" and again.payload == PAYLOAD and again.answer == "once"


def test_first_answer_wins(path: Path) -> None:
    with Store.open(path) as bot, Store.open(path) as tui:
        bot.save_pending("que_1", "question", "s1", {"questions": [{"question": "Which?"}]})
        assert tui.resolve_pending("que_1", "answered", [["A"]], by="control center") is True
        assert bot.resolve_pending("que_1", "answered", [["B"]], by="discord:ann") is False
        assert bot.resolve_pending("que_1", "expired") is False
        row = bot.get_pending("que_1")
    assert row is not None
    assert (row.status, row.answer, row.answered_by) == ("answered", [["A"]], "control center")
    assert row.answered_at is not None and row.answered_at >= row.asked_at


def test_resolve_unknown_or_with_a_bad_status(store: Store) -> None:
    assert store.resolve_pending("nope", "expired") is False
    store.save_pending("per_1", "permission", "s1", PAYLOAD)
    with pytest.raises(ValueError, match="resolves"):
        store.resolve_pending("per_1", "pending")
    with pytest.raises(ValueError, match="kind"):
        store.save_pending("x", "vote", "s1", {})  # type: ignore[arg-type]
    assert store.get_pending("x") is None
    pending = store.get_pending("per_1")
    assert pending is not None and pending.status == "pending"


def test_pending_requests_lists_only_pending_oldest_first(store: Store) -> None:
    base = datetime(2025, 1, 1, tzinfo=UTC)
    store.save_pending("r3", "question", "s1", {}, asked_at=base + timedelta(seconds=3))
    store.save_pending("r1", "permission", "s1", {}, asked_at=base + timedelta(seconds=1))
    store.save_pending("r2", "permission", "s2", {}, asked_at=base + timedelta(seconds=2))
    store.save_pending("r0", "permission", "s1", {}, asked_at=base)
    store.resolve_pending("r0", "expired", by="restart")
    assert [r.request_id for r in store.pending_requests()] == ["r1", "r2", "r3"]
    assert [r.request_id for r in store.pending_requests(session_id="s1")] == ["r1", "r3"]
    assert store.pending_requests(session_id="s9") == []
    expired = store.get_pending("r0")
    assert expired is not None and (expired.status, expired.answered_by) == ("expired", "restart")


def test_pending_message_and_restart(path: Path) -> None:
    with Store.open(path) as before:
        before.save_pending("per_1", "permission", "s1", PAYLOAD, thread_id="t1")
        assert before.set_pending_message("per_1", "chan-1", "msg-1") is True
        assert before.set_pending_message("nope", "chan-1", "msg-2") is False
    with Store.open(path) as after:
        (row,) = after.pending_requests()
        assert (row.request_id, row.external_channel_id, row.external_message_id) == (
            "per_1", "chan-1", "msg-1"
        )
        assert row.payload == PAYLOAD


# -- posted parts -----------------------------------------------------------------------------


def test_posted_parts_are_remembered_across_a_restart(path: Path) -> None:
    with Store.open(path) as before:
        assert before.is_posted("prt_1") is False
        assert before.posted_part("prt_1") is None
        assert before.mark_posted("prt_1", "t1", "s1", ["m1"]) is True
        assert before.mark_posted("prt_1", "t1", "s1", ["m1", "m2"]) is False
    with Store.open(path) as after:
        assert after.is_posted("prt_1") is True
        assert after.is_posted("prt_2") is False
        part = after.posted_part("prt_1")
        assert part is not None
        assert (part.thread_id, part.session_id, part.message_ids) == ("t1", "s1", ("m1", "m2"))
