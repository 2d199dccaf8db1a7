"""The Store's scheduled-task slice on a real SQLite file: add, list, due, claim once, settle, runs,
restarts, and a file written before the slice moved into the Store."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kimaki_tui.scheduling.request import SendRequest
from kimaki_tui.scheduling.when import Schedule, parse_when
from kimaki_tui.store.repo import Store

NOW = datetime(2030, 1, 31, 9, 0, tzinfo=UTC)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "discord-sessions.db"


@pytest.fixture
def store(path: Path) -> Iterator[Store]:
    with Store.open(path) as opened:
        yield opened


def at(moment: datetime) -> Schedule:
    return Schedule("at", moment, run_at=moment)


def send(prompt: str, **options: Any) -> SendRequest:
    return SendRequest("channel", "900", prompt, **options)


def test_a_task_is_stored_with_its_request_and_schedule(store: Store) -> None:
    cron = parse_when("30 7 * * 1-5", now=NOW, timezone="Europe/Paris")
    request = send("  write\nthe   report  " + "x" * 200, agent="plan", notify_only=True, user_id="42")
    task = store.add_task(cron, request, channel_id="900")
    assert store.get_task(task.id) == task
    assert (task.kind, task.cron, task.timezone) == ("cron", "30 7 * * 1-5", "Europe/Paris")
    assert task.status == "scheduled"
    assert task.next_run_at == cron.first_run and task.next_run_at.tzinfo == UTC and task.run_at is None
    assert SendRequest.from_json(task.payload) == request
    assert task.prompt_preview.startswith("write the report xx") and len(task.prompt_preview) == 120
    assert task.schedule_text == "cron 30 7 * * 1-5 (Europe/Paris)"
    once = store.add_task(at(NOW), send("once"), channel_id=None)
    assert once.schedule_text == "once" and once.run_at == NOW and once.channel_id is None
    assert store.get_task(9999) is None


def test_list_is_soonest_first_active_only_unless_asked(store: Store) -> None:
    late = store.add_task(at(NOW + timedelta(days=2)), send("late"), channel_id="900")
    soon = store.add_task(at(NOW + timedelta(hours=1)), send("soon"), channel_id="901")
    done = store.add_task(at(NOW + timedelta(minutes=1)), send("done"), channel_id="900")
    store.settle_task(done.id, "done")
    assert [t.id for t in store.list_tasks()] == [soon.id, late.id]
    assert [t.id for t in store.list_tasks(channel_id="900")] == [late.id]
    # A finished one-shot task has no next time: it sorts last.
    assert [t.id for t in store.list_tasks(all_states=True)] == [soon.id, late.id, done.id]


def test_due_claim_settle_and_runs(store: Store) -> None:
    first = store.add_task(at(NOW), send("first"), channel_id="900")
    later = store.add_task(at(NOW + timedelta(minutes=5)), send("later"), channel_id="900")
    assert store.due_tasks(NOW - timedelta(seconds=1)) == []
    assert [t.id for t in store.due_tasks(NOW)] == [first.id]
    assert [t.id for t in store.due_tasks(NOW + timedelta(hours=1))] == [first.id, later.id]

    assert store.claim_task(first.id) is True
    assert store.claim_task(first.id) is False  # claimed once only
    assert store.due_tasks(NOW) == [] and [t.id for t in store.stuck_tasks()] == [first.id]
    run = store.add_task_run(first.id, NOW, "posted", message_id="m1", thread_id="t1")
    store.settle_task(first.id, "done")
    settled = store.get_task(first.id)
    assert settled is not None and settled.status == "done" and settled.next_run_at is None
    assert store.stuck_tasks() == []
    assert store.task_runs(first.id) == [run]
    assert (run.status, run.scheduled_for, run.message_id, run.thread_id) == ("posted", NOW, "m1", "t1")

    store.settle_task(later.id, "scheduled", next_run_at=NOW + timedelta(days=1), error="missed: …")
    moved = store.get_task(later.id)
    assert moved is not None and moved.next_run_at == NOW + timedelta(days=1)
    assert moved.last_error == "missed: …"


def test_only_one_of_two_connections_claims_a_task(path: Path) -> None:
    with Store.open(path) as kimaki, Store.open(path) as other:
        task = kimaki.add_task(at(NOW), send("once"), channel_id="900")
        assert [other.claim_task(task.id), kimaki.claim_task(task.id)] == [True, False]


def test_deleting_a_task_drops_its_runs_and_tasks_survive_a_restart(path: Path) -> None:
    with Store.open(path) as store:
        kept = store.add_task(at(NOW), send("kept"), channel_id="900")
        gone = store.add_task(at(NOW), send("gone"), channel_id="900")
        store.add_task_run(kept.id, NOW, "missed")
        store.add_task_run(gone.id, NOW, "failed", error="Discord is not connected")
        assert store.delete_task(gone.id) is True and store.delete_task(gone.id) is False
    with Store.open(path) as reopened:
        assert [t.id for t in reopened.list_tasks()] == [kept.id]
        assert [r.status for r in reopened.task_runs(kept.id)] == ["missed"]
        assert reopened.task_runs(gone.id) == []
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT COUNT(*) FROM task_runs").fetchone() == (1,)
    conn.close()


def test_tasks_written_by_the_old_task_store_are_read(path: Path) -> None:
    """Rows as the separate task store wrote them (same tables, migration 3) read back unchanged."""
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO scheduled_tasks (kind, run_at, next_run_at, status, payload_json, prompt_preview,"
        " channel_id, created_at, updated_at) VALUES ('at', ?, ?, 'scheduled', ?, 'old one', '900', ?, ?)",
        (
            "2030-01-31T09:00:00.000000+00:00",
            "2030-01-31T09:00:00.000000+00:00",
            '{"target": "thread", "target_id": "77", "prompt": "old one", "model": "a/b"}',
            "2029-12-01T00:00:00.000000+00:00",
            "2029-12-01T00:00:00.000000+00:00",
        ),
    )
    conn.commit()
    conn.close()
    with Store.open(path) as store:
        (task,) = store.due_tasks(NOW)
    assert task.run_at == NOW and SendRequest.from_json(task.payload) == SendRequest(
        "thread", "77", "old one", model="a/b"
    )
