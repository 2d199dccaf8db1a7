"""Scheduled sends end to end: `kimaki send --send-at`, the scheduler in the running kimaki (fires on
time, once, also across a restart; cron driven with a fake "now"), `kimaki task list|delete`, /tasks.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

import pytest

from kimaki_tui.scheduling.request import SendRequest
from kimaki_tui.scheduling.when import Schedule, parse_when
from tests.automation.rig import AutomationRig
from tests.bot.rig import custom_ids
from tests.harness import wait_until

pytestmark = pytest.mark.opencode
MakeRig = Callable[..., AbstractAsyncContextManager[AutomationRig]]


def utc_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def task_id(out: str) -> int:
    match = re.search(r"Scheduled task (\d+)", out)
    assert match, out
    return int(match[1])


def request(rig: AutomationRig, prompt: str, *, notify_only: bool = False) -> SendRequest:
    return SendRequest("channel", str(rig.bot.channel.id), prompt, notify_only=notify_only)


async def test_a_date_a_few_seconds_ahead_fires_once(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    when = utc_text(datetime.now(UTC) + timedelta(seconds=2))
    result = await rig.cli(
        "send", "--channel", str(rig.bot.channel.id), "--prompt", "REPLY: on time", "--send-at", when
    )
    assert result.code == 0, result.err
    tid = task_id(result.out)
    assert rig.scheduler is not None and rig.scheduler.next_job_time(tid) is not None
    assert rig.bot.twin.threads(rig.bot.channel) == []

    thread = await rig.bot.wait_thread(timeout=15)
    await rig.bot.wait_bot_message(thread, lambda m: m.content == "⬥ on time")
    task = rig.store.get_task(tid)
    assert task is not None and task.status == "done"
    runs = rig.store.task_runs(tid)
    assert [(r.status, r.thread_id) for r in runs] == [("posted", str(thread.id))]
    await rig.scheduler.sync()
    await asyncio.sleep(1.0)  # two more periodic syncs
    assert len(rig.twin.threads(rig.bot.channel)) == 1 and len(rig.store.task_runs(tid)) == 1
    assert rig.scheduler.next_job_time(tid) is None


async def test_a_task_due_while_kimaki_was_down_runs_once_at_start_up(make_auto_rig: MakeRig) -> None:
    async with make_auto_rig(scheduler=False) as rig:
        now = datetime.now(UTC)
        due_soon = rig.store.add_task(
            parse_when(utc_text(now + timedelta(seconds=1)), now=now),
            request(rig, "REPLY: late but fine"),
            channel_id=str(rig.bot.channel.id),
        )
        long_ago = now - timedelta(hours=2)
        too_old = rig.store.add_task(
            Schedule("at", long_ago, run_at=long_ago),
            request(rig, "REPLY: too old"),
            channel_id=str(rig.bot.channel.id),
        )
        await rig.bot.stop_bot()  # kimaki is down while the first task falls due
        await asyncio.sleep(1.2)
        await rig.bot.start_bot()
        await rig.start_scheduler()

        thread = await rig.bot.wait_thread(timeout=15)
        await rig.bot.wait_bot_message(thread, lambda m: m.content == "⬥ late but fine")
        first, old = rig.store.get_task(due_soon.id), rig.store.get_task(too_old.id)
        assert first is not None and first.status == "done"
        assert old is not None and old.status == "missed" and "missed" in (old.last_error or "")
        assert [r.status for r in rig.store.task_runs(too_old.id)] == ["missed"]

        # Another restart fires nothing again.
        await rig.stop_scheduler()
        await rig.start_scheduler()
        await asyncio.sleep(1.0)
        assert [t.name for t in rig.twin.threads(rig.bot.channel)] == ["REPLY: late but fine"]
        assert len(rig.store.task_runs(due_soon.id)) == 1


async def test_a_cron_task_fires_on_schedule_with_a_driven_clock(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    scheduler = rig.scheduler
    assert scheduler is not None
    schedule = parse_when("*/5 * * * *", now=datetime.now(UTC), timezone="UTC")
    task = rig.store.add_task(
        schedule, request(rig, "cron check-in", notify_only=True), channel_id=str(rig.bot.channel.id)
    )
    slot = schedule.first_run
    assert slot.minute % 5 == 0 and slot.second == 0
    await scheduler.sync()
    assert scheduler.next_job_time(task.id) == slot

    assert await scheduler.run_due(now=slot - timedelta(seconds=1)) == []
    assert await scheduler.run_due(now=slot) == [task.id]
    await rig.bot.wait_thread(timeout=10)
    after_first = rig.store.get_task(task.id)
    assert after_first is not None and after_first.status == "scheduled"
    assert after_first.next_run_at == slot + timedelta(minutes=5)
    assert scheduler.next_job_time(task.id) == slot + timedelta(minutes=5)

    assert await scheduler.run_due(now=slot + timedelta(minutes=1)) == []
    assert await scheduler.run_due(now=slot + timedelta(minutes=5, seconds=3)) == [task.id]
    await wait_until(lambda: len(rig.twin.threads(rig.bot.channel)) == 2, 10, 0.05, "the second thread")

    # Far too late (past the grace): the occurrence is recorded as missed, the next one kept.
    late = slot + timedelta(minutes=10) + rig.grace + timedelta(minutes=1)
    assert await scheduler.run_due(now=late) == []
    after_miss = rig.store.get_task(task.id)
    assert after_miss is not None and after_miss.status == "scheduled"
    assert after_miss.next_run_at is not None and after_miss.next_run_at > late
    assert [r.status for r in rig.store.task_runs(task.id)] == ["posted", "posted", "missed"]
    assert len(rig.twin.threads(rig.bot.channel)) == 2
    # Each post is a notify-only starter: threads, no sessions.
    assert all(
        rig.bot.core.conversations.runtime(str(t.id)).session_id is None
        for t in rig.twin.threads(rig.bot.channel)
    )


async def test_task_list_and_delete(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    channel = str(rig.bot.channel.id)
    once = await rig.cli("send", "-c", channel, "-p", "REPLY: someday", "--send-at", "2099-06-01T09:00:00Z")
    weekly = await rig.cli("send", "-c", channel, "-p", "weekly report", "--send-at", "0 9 * * 1")
    assert once.code == 0 and weekly.code == 0, once.err + weekly.err
    first, second = task_id(once.out), task_id(weekly.out)
    assert "once at 2099-06-01 09:00:00 UTC" in once.out and "cron `0 9 * * 1`" in weekly.out

    listed = await rig.cli("task", "list")
    assert listed.code == 0
    lines = listed.out.splitlines()
    assert lines[0].split()[:3] == ["ID", "STATUS", "NEXT"]
    assert [line.split()[0] for line in lines[2:]] == [str(second), str(first)]  # soonest first
    assert "weekly report" in listed.out and "cron 0 9 * * 1" in listed.out

    assert rig.scheduler is not None and rig.scheduler.next_job_time(first) is not None
    deleted = await rig.cli("task", "delete", str(first))
    assert deleted.code == 0 and deleted.out.strip() == f"Deleted task {first}."
    assert rig.scheduler.next_job_time(first) is None
    listed = await rig.cli("task", "list")
    assert [line.split()[0] for line in listed.out.splitlines()[2:]] == [str(second)]
    again = await rig.cli("task", "delete", str(first))
    assert again.code == 1 and f"no task {first}" in again.err


async def test_tasks_command_lists_this_channels_tasks_with_delete_buttons(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    now = datetime.now(UTC)
    kept = rig.store.add_task(
        parse_when("2099-01-01T00:00:00Z", now=now),
        request(rig, "keep me"),
        channel_id=str(rig.bot.channel.id),
    )
    gone = rig.store.add_task(
        parse_when("30 7 * * *", now=now, timezone="UTC"),
        request(rig, "delete me"),
        channel_id=str(rig.bot.channel.id),
    )
    elsewhere = rig.store.add_task(
        parse_when("2099-01-01T00:00:00Z", now=now), request(rig, "other channel"), channel_id="42"
    )

    inter = await rig.bot.users.kimaki_user.slash(rig.bot.channel, "tasks")
    reply = await inter.wait_response(15)
    assert reply.ephemeral and reply.message is not None
    assert (
        "keep me" in reply.content and "delete me" in reply.content and "other channel" not in reply.content
    )
    ids = custom_ids(reply.message)
    assert ids == [
        f"kimaki:task:run:{gone.id}",
        f"kimaki:task:del:{gone.id}",
        f"kimaki:task:run:{kept.id}",
        f"kimaki:task:del:{kept.id}",
    ]

    refused = await (await rig.bot.users.member.slash(rig.bot.channel, "tasks")).wait_response(15)
    assert refused.ephemeral and "Kimaki" in refused.content and "keep me" not in refused.content

    click = await rig.bot.users.kimaki_user.click(reply.message, ids[1])
    edited = (await click.wait_response(15)).message
    assert edited is not None and edited.content.startswith(f"Deleted task #{gone.id}")
    assert "delete me" not in edited.content.split("\n", 1)[1]
    assert custom_ids(edited) == [f"kimaki:task:run:{kept.id}", f"kimaki:task:del:{kept.id}"]
    assert rig.store.get_task(gone.id) is None and rig.store.get_task(elsewhere.id) is not None
