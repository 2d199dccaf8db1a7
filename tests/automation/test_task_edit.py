"""`kimaki task edit` (an empty value clears) and Run now (/tasks' button), against the running
kimaki's scheduler, bot, Discord twin and real OpenCode."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kimaki_tui.scheduling.request import SendRequest
from kimaki_tui.scheduling.when import parse_when
from tests.automation.rig import AutomationRig
from tests.bot.rig import custom_ids, is_footer
from tests.harness import wait_until

pytestmark = pytest.mark.opencode


def add(rig: AutomationRig, when: str, request: SendRequest) -> int:
    schedule = parse_when(when, now=datetime.now(UTC), timezone="UTC")
    return rig.store.add_task(schedule, request, channel_id=str(rig.bot.channel.id)).id


async def test_task_edit_changes_and_clears_fields(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    channel = str(rig.bot.channel.id)
    task = add(
        rig,
        "0 9 * * *",
        SendRequest("channel", channel, "old", agent="plan", model="fake/fake-model", pre_run="make check"),
    )
    result = await rig.cli(
        "task", "edit", str(task), "--prompt", "new prompt", "--agent", "", "--pre-run", "",
        "--allow-concurrency", "true", "--send-at", "2099-05-01T10:00:00Z",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert f"Updated task {task}" in result.out
    edited = rig.store.get_task(task)
    assert edited is not None and edited.kind == "at" and edited.prompt_preview == "new prompt"
    assert edited.next_run_at == datetime(2099, 5, 1, 10, tzinfo=UTC)
    request = SendRequest.from_json(edited.payload)
    assert (request.prompt, request.agent, request.model, request.pre_run) == (
        "new prompt", None, "fake/fake-model", None,
    )  # fmt: skip
    assert request.allow_concurrency is True
    assert rig.scheduler is not None and rig.scheduler.next_job_time(task) == edited.next_run_at

    nothing = await rig.cli("task", "edit", str(task))
    assert nothing.code == 2 and "nothing to change" in nothing.err
    bad = await rig.cli("task", "edit", str(task), "--model", "nope")
    assert bad.code == 2 and "--model must look like provider/model" in bad.err
    flag = await rig.cli("task", "edit", str(task), "--allow-concurrency", "maybe")
    assert flag.code == 2 and "--allow-concurrency" in flag.err
    missing = await rig.cli("task", "edit", "999", "--prompt", "x")
    assert missing.code == 1 and "no task 999" in missing.err
    assert SendRequest.from_json(rig.store.get_task(task).payload).prompt == "new prompt"  # type: ignore[union-attr]


async def test_run_now_sends_a_task_at_once_and_keeps_a_crons_schedule(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    channel = str(rig.bot.channel.id)
    task = add(rig, "0 9 * * *", SendRequest("channel", channel, "REPLY: ran early"))
    before = rig.store.get_task(task)
    assert before is not None

    inter = await rig.bot.users.kimaki_user.slash(rig.bot.channel, "tasks")
    reply = await inter.wait_response(15)
    assert reply.message is not None
    click = await rig.bot.users.kimaki_user.click(reply.message, f"kimaki:task:run:{task}")
    assert await click.wait_callback(15) == 6  # deferred: the message is edited once the task ran
    message = rig.twin.world.messages[reply.message.id]
    await wait_until(
        lambda: rig.twin.world.messages[message.id].content.startswith("Ran task"),
        30,
        message="the /tasks message to say the task ran",
    )
    edited = rig.twin.world.messages[message.id]
    assert edited.content.startswith(f"Ran task #{task}")
    thread = await rig.bot.wait_thread(timeout=15)
    await rig.bot.wait_bot_message(thread, lambda m: m.content == "⬥ ran early")
    await rig.bot.wait_bot_message(thread, is_footer)
    after = rig.store.get_task(task)
    assert after is not None and after.status == "scheduled" and after.next_run_at == before.next_run_at
    assert [r.status for r in rig.store.task_runs(task)] == ["posted"]
    assert f"kimaki:task:run:{task}" in custom_ids(edited)


async def test_tasks_all_lists_finished_tasks_without_a_run_button(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    channel = str(rig.bot.channel.id)
    done = add(rig, "2099-01-01T00:00:00Z", SendRequest("channel", channel, "finished one"))
    rig.store.settle_task(done, "done")
    active = await (await rig.bot.users.kimaki_user.slash(rig.bot.channel, "tasks")).wait_response(15)
    assert "finished one" not in active.content
    everything = await (
        await rig.bot.users.kimaki_user.slash(rig.bot.channel, "tasks", all=True)
    ).wait_response(15)
    assert "finished one" in everything.content and "**done**" in everything.content
    assert everything.message is not None
    assert custom_ids(everything.message) == [f"kimaki:task:del:{done}"]
