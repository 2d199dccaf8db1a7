"""What may hold a due task back in the running kimaki: a failing `--pre-run` command (its output
otherwise joins the prompt) and the previous run's session still busy (unless
`--allow-concurrency`). Real scheduler, bot, Discord twin and OpenCode."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kimaki_tui.scheduling.request import SendRequest
from kimaki_tui.scheduling.when import Schedule
from tests.automation.rig import AutomationRig
from tests.automation.test_scheduled_in_process import due_now, user_messages
from tests.bot.rig import is_footer
from tests.harness import texts, wait_until

pytestmark = pytest.mark.opencode


async def test_a_pre_run_commands_output_joins_the_prompt(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    (rig.bot.project_dir / "status.txt").write_text("all green\n")
    request = SendRequest("channel", str(rig.bot.channel.id), "REPLY: checked", pre_run="cat status.txt")
    task = rig.store.add_task(due_now(), request, channel_id=str(rig.bot.channel.id))
    assert rig.scheduler is not None
    await rig.scheduler.sync()
    thread = await rig.bot.wait_thread(timeout=15)
    await rig.bot.wait_bot_message(thread, is_footer)
    sent = await user_messages(rig, thread)
    assert [" ".join(texts(m)) for m in sent] == ["REPLY: checked\n\nall green"]
    assert [r.status for r in rig.store.task_runs(task.id)] == ["posted"]


async def test_a_failing_pre_run_skips_the_send_and_records_why(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    request = SendRequest(
        "channel", str(rig.bot.channel.id), "REPLY: never", pre_run="echo 'nothing to do' >&2; exit 3"
    )
    task = rig.store.add_task(due_now(), request, channel_id=str(rig.bot.channel.id))
    assert rig.scheduler is not None
    await rig.scheduler.sync()
    runs = rig.store.task_runs(task.id)
    assert [(r.status, r.error) for r in runs] == [("skipped", "pre-run command exited 3: nothing to do")]
    settled = rig.store.get_task(task.id)
    assert settled is not None and settled.status == "missed"
    assert settled.last_error == "skipped: pre-run command exited 3: nothing to do"
    assert rig.twin.threads(rig.bot.channel) == []


async def test_a_run_waits_for_the_previous_runs_busy_session_unless_allowed(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    channel = str(rig.bot.channel.id)
    await rig.bot.user_says("owner", "SLOW:30")
    busy = await rig.bot.wait_thread()
    runtime = rig.bot.core.conversations.runtime(str(busy.id))
    await wait_until(lambda: runtime.busy, 15, message="the slow turn to start")
    cron = Schedule("cron", datetime.now(UTC), cron="* * * * *", timezone="UTC")
    held = rig.store.add_task(cron, SendRequest("channel", channel, "REPLY: held"), channel_id=channel)
    free = rig.store.add_task(
        cron, SendRequest("channel", channel, "REPLY: free", allow_concurrency=True), channel_id=channel
    )
    for task in (held, free):  # as if each had run before, in the busy thread
        rig.store.add_task_run(task.id, datetime.now(UTC), "posted", thread_id=str(busy.id))
    assert rig.scheduler is not None
    await rig.scheduler.sync()

    held_runs = rig.store.task_runs(held.id)
    assert held_runs[-1].status == "skipped"
    assert held_runs[-1].error == f"the previous run (thread {busy.id}) is still busy"
    again = rig.store.get_task(held.id)
    assert again is not None and again.status == "scheduled" and again.next_run_at is not None
    assert rig.store.task_runs(free.id)[-1].status == "posted"
    started = await rig.bot.wait_thread(predicate=lambda t: t.name == "REPLY: free")
    await rig.bot.wait_bot_message(started, is_footer)
    await rig.bot.core.conversations.abort(str(busy.id), by="test", origin="test")
