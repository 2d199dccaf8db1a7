"""The core against the real OpenCode server and the scripted model: turns, approvals, queue, abort.

The tests taking `versioned_client` run twice: against the pinned OpenCode and the oldest
supported one (1.2), whose events carry the session id elsewhere and settle an abort differently.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from kimaki_tui.core.events import (
    PartCompleted,
    PermissionAskedEvent,
    PermissionReply,
    PermissionResolved,
    PromptDispatched,
    QuestionAskedEvent,
    QuestionResolved,
    SessionFailed,
    StatusChanged,
    TextDelta,
    TurnFinished,
)
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.events import Event
from kimaki_tui.opencode.stream import EventStream
from kimaki_tui.settings import SessionSettings
from kimaki_tui.testing.scripted_model import ScriptedModel, latest_user_text
from tests.core_rig import CoreRig
from tests.harness import wait_until

pytestmark = pytest.mark.opencode


def user_texts(model: ScriptedModel, marker: str) -> list[str]:
    """Latest user text of every model request containing `marker`, in arrival order."""
    seen: list[str] = []
    for body in model.requests:
        if not body.get("tools"):
            continue  # title generation
        text = latest_user_text(body.get("messages", []))
        if marker in text and text not in seen:
            seen.append(text)
    return seen


async def test_prompt_streams_answer_and_finishes_turn(
    versioned_client: OpenCodeClient, project_dir: Path, tmp_path: Path
) -> None:
    async with CoreRig(versioned_client, tmp_path / "db.sqlite") as rig:
        thread = rig.thread(project_dir)
        result = await rig.core.conversations.submit(thread.thread_id, rig.prompt("hello there"))
        assert result.outcome == "sent"
        turn = await rig.wait_for(TurnFinished)
        texts = [e.text for e in rig.of_type(PartCompleted) if e.kind == "text"]
        assert texts == ["Echo: hello there"]
        assert "".join(d.delta for d in rig.of_type(TextDelta)) == "Echo: hello there"
        assert turn.natural and turn.model_id == "fake-model" and turn.agent == "build"
        assert turn.tokens_total > 0 and turn.context_limit == 128000 and turn.context_percent is not None
        assert turn.branch in ("main", "master") and turn.directory == str(project_dir)
        # The mapping is persisted: the thread knows its session.
        row = rig.store.session_for_thread(thread.thread_id)
        assert row is not None and row.session_id == thread.session_id


@pytest.mark.parametrize("reply", ["once", "always", "reject"])
async def test_permission_replies_behave_as_documented(
    reply: PermissionReply, versioned_client: OpenCodeClient, project_dir: Path, tmp_path: Path
) -> None:
    async with CoreRig(versioned_client, tmp_path / "db.sqlite") as rig:
        thread = rig.thread(project_dir)
        await rig.core.conversations.submit(thread.thread_id, rig.prompt("RUN_BASH: echo hi > out.txt"))
        asked = await rig.wait_for(PermissionAskedEvent)
        assert asked.request.kind == "bash" and asked.request.summary == "echo hi > out.txt"
        assert [r.request_id for r in rig.core.approvals.pending_permissions()] == [asked.request.request_id]
        result = await rig.core.approvals.answer_permission(
            asked.request.request_id, reply, by="alice", origin="test"
        )
        assert result.ok
        again = await rig.core.approvals.answer_permission(
            asked.request.request_id, "once", by="bob", origin="tui"
        )
        assert again.status == "already_answered"
        resolved = await rig.wait_for(PermissionResolved)
        assert (resolved.reply, resolved.by, resolved.origin) == (reply, "alice", "test")
        await rig.wait_for(TurnFinished)
        assert (project_dir / "out.txt").exists() == (reply != "reject")
        tools = [e for e in rig.of_type(PartCompleted) if e.kind == "tool"]
        assert tools[0].status == ("error" if reply == "reject" else "completed")
        assert rig.core.approvals.pending_permissions() == []
        assert await versioned_client.list_permissions(str(project_dir)) == []
        if reply == "always":
            second = rig.thread(project_dir, thread_id="1001")
            await rig.core.conversations.submit(
                second.thread_id, rig.prompt("RUN_BASH: echo again > two.txt")
            )
            await rig.wait_count(TurnFinished, 2)
            assert (project_dir / "two.txt").exists()
            assert len(rig.of_type(PermissionAskedEvent)) == 1


async def test_question_answered_reaches_the_model(
    versioned_client: OpenCodeClient, project_dir: Path, tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    async with CoreRig(versioned_client, tmp_path / "db.sqlite") as rig:
        thread = rig.thread(project_dir)
        await rig.core.conversations.submit(thread.thread_id, rig.prompt("ASK_QUESTION please"))
        asked = await rig.wait_for(QuestionAskedEvent)
        options = [o["label"] for o in asked.request.questions[0]["options"]]
        assert options == ["Red", "Green", "Blue"]
        result = await rig.core.approvals.answer_question(
            asked.request.request_id, [["Blue"]], by="alice", origin="test"
        )
        assert result.ok
        resolved = await rig.wait_for(QuestionResolved)
        assert resolved.answers == (("Blue",),)
        await rig.wait_for(TurnFinished)
        answer = [e.text for e in rig.of_type(PartCompleted) if e.kind == "text"][-1]
        assert "Blue" in answer


async def test_abort_mid_stream_and_while_permission_pending(
    versioned_client: OpenCodeClient, project_dir: Path, tmp_path: Path
) -> None:
    async with CoreRig(versioned_client, tmp_path / "db.sqlite") as rig:
        thread = rig.thread(project_dir)
        await rig.core.conversations.submit(thread.thread_id, rig.prompt("SLOW:20 tell a story"))
        await rig.wait_for(TextDelta)
        assert await rig.core.conversations.abort(thread.thread_id, by="alice", origin="test")
        turn = await rig.wait_for(TurnFinished)
        assert not turn.natural
        assert rig.of_type(SessionFailed) == []  # an abort is not an error
        assert not thread.busy

        await rig.core.conversations.submit(thread.thread_id, rig.prompt("RUN_BASH: echo late > late.txt"))
        asked = await rig.wait_for(PermissionAskedEvent)
        await rig.core.conversations.abort(thread.thread_id, by="alice", origin="test")
        resolved = await rig.wait_for(PermissionResolved)
        assert resolved.request.request_id == asked.request.request_id and resolved.reply == "reject"
        await rig.wait_count(TurnFinished, 2)
        assert await versioned_client.list_permissions(str(project_dir)) == []
        assert rig.core.approvals.pending_permissions() == []
        await asyncio.sleep(0.5)
        assert not (project_dir / "late.txt").exists()


async def test_queued_messages_drain_in_order(
    versioned_client: OpenCodeClient, project_dir: Path, tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    marker = uuid.uuid4().hex[:8]
    async with CoreRig(versioned_client, tmp_path / "db.sqlite") as rig:
        thread = rig.thread(project_dir)
        await rig.core.conversations.submit(thread.thread_id, rig.prompt(f"SLOW:2 {marker} zero"))
        for word in ("one", "two", "three"):
            result = await rig.core.conversations.enqueue(thread.thread_id, rig.prompt(f"{marker} {word}"))
            assert result.outcome == "queued"
        assert [i.prompt for i in thread.queue()] == [f"{marker} one", f"{marker} two", f"{marker} three"]
        await rig.wait_count(TurnFinished, 4, timeout=60)
        assert user_texts(scripted_model, marker) == [
            f"SLOW:2 {marker} zero",
            f"{marker} one",
            f"{marker} two",
            f"{marker} three",
        ]
        assert [e.from_queue for e in rig.of_type(PromptDispatched)] == [False, True, True, True]
        assert thread.queue() == () and rig.store.queue_items(thread.thread_id) == []


async def test_a_late_end_signal_does_not_end_the_queued_turn_just_sent(
    versioned_client: OpenCodeClient, project_dir: Path, tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    """OpenCode ends a turn twice (status idle, then session.idle). When the second arrives after
    the queue sent its next prompt, it belongs to the old turn: sending the following prompt then
    would merge two queued prompts into one turn (seen under load). Here the second signal is held
    back until the next prompt went out (or OpenCode sent something after it), which makes that
    interleaving certain."""
    marker = uuid.uuid4().hex[:8]
    rig = CoreRig(versioned_client, tmp_path / "db.sqlite")
    held: list[Event] = []

    def deliver(event: Event) -> None:
        if event.type == "session.idle" and rig.store.queue_items("1000"):
            held.append(event)
            return
        flush()  # anything later on the stream comes after the held signal, as OpenCode sent it
        rig.core.handle_event(event)

    def flush() -> None:
        while held:
            rig.core.handle_event(held.pop(0))

    def release(event: object) -> None:
        if isinstance(event, PromptDispatched) and event.from_queue:
            asyncio.get_running_loop().call_soon(flush)

    rig.stream = EventStream(versioned_client, deliver, on_connect=rig.core.resync)
    rig.bus.add_callback(release)
    async with rig:
        thread = rig.thread(project_dir)
        await rig.core.conversations.submit(thread.thread_id, rig.prompt(f"{marker} zero"))
        for word in ("one", "two", "three"):
            await rig.core.conversations.enqueue(thread.thread_id, rig.prompt(f"{marker} {word}"))
        await rig.wait_for(PromptDispatched, lambda e: e.prompt == f"{marker} three", timeout=60)
        await wait_until(lambda: not thread.busy, 60, 0.05, "the last turn to end")
    # OpenCode may report a turn busy before or after its prompt's POST returns, so count: the
    # k-th queued prompt may only go out after OpenCode started k turns.
    started = 0
    for event in rig.events:
        if isinstance(event, StatusChanged) and event.state == "busy":
            started += 1
        elif isinstance(event, PromptDispatched) and event.from_queue:
            sent = [e.prompt for e in rig.of_type(PromptDispatched)]
            assert started >= sent.index(event.prompt), f"{event.prompt!r} sent after {started} turn(s) began"
    assert user_texts(scripted_model, marker) == [f"{marker} {w}" for w in ("zero", "one", "two", "three")]


async def test_a_queued_prompt_follows_the_footer_of_the_turn_before_it(
    versioned_client: OpenCodeClient, project_dir: Path, tmp_path: Path
) -> None:
    """OpenCode reports the session idle, then ends the turn (session.idle: the footer). Under load
    the queue sent its next prompt in between, and the thread showed the next prompt's line above
    the last turn's footer. Here the end is held back a moment, which makes that gap certain."""
    marker = uuid.uuid4().hex[:8]
    rig = CoreRig(versioned_client, tmp_path / "db.sqlite")
    loop = asyncio.get_running_loop()

    def deliver(event: Event) -> None:
        if event.type == "session.idle" and rig.store.queue_items("1000"):
            loop.call_later(0.3, rig.core.handle_event, event)  # the turn's end, a moment late
            return
        rig.core.handle_event(event)

    rig.stream = EventStream(versioned_client, deliver, on_connect=rig.core.resync)
    async with rig:
        thread = rig.thread(project_dir)
        await rig.core.conversations.submit(thread.thread_id, rig.prompt(f"REPLY: {marker} first"))
        await rig.core.conversations.enqueue(thread.thread_id, rig.prompt(f"REPLY: {marker} second"))
        await rig.wait_count(TurnFinished, 2, timeout=60)
    shown = [e for e in rig.events if isinstance(e, TurnFinished | PromptDispatched)]
    assert [type(e).__name__ for e in shown] == [
        "PromptDispatched", "TurnFinished", "PromptDispatched", "TurnFinished"
    ]  # fmt: skip


async def test_a_message_queued_behind_an_aborted_turn_is_answered(
    versioned_client: OpenCodeClient, project_dir: Path, tmp_path: Path
) -> None:
    """OpenCode 1.2 goes idle before it has finished an abort and aborts a prompt sent meanwhile;
    the queued message must wait for the abort to settle (without that, 7 runs in 10 lost it)."""
    async with CoreRig(versioned_client, tmp_path / "db.sqlite") as rig:
        thread = rig.thread(project_dir)
        await rig.core.conversations.submit(thread.thread_id, rig.prompt("SLOW:20 a long story"))
        await rig.wait_for(TextDelta)
        await rig.core.conversations.enqueue(thread.thread_id, rig.prompt("REPLY: after the abort"))
        assert await rig.core.conversations.abort(thread.thread_id, by="alice", origin="test")
        await rig.wait_for(PartCompleted, lambda e: e.text == "after the abort")
        turns = await rig.wait_count(TurnFinished, 2)
        assert [t.natural for t in turns][-1] is True and rig.of_type(SessionFailed) == []


async def test_message_while_busy_interrupts_after_delay(
    versioned_client: OpenCodeClient, project_dir: Path, tmp_path: Path
) -> None:
    options = SessionSettings(interrupt_delay=0.5)
    async with CoreRig(versioned_client, tmp_path / "db.sqlite", options=options) as rig:
        thread = rig.thread(project_dir)
        await rig.core.conversations.submit(thread.thread_id, rig.prompt("SLOW:30 long work"))
        await rig.wait_for(TextDelta)
        result = await rig.core.conversations.submit(thread.thread_id, rig.prompt("REPLY: switched"))
        assert result.outcome == "interrupting"
        turns = await rig.wait_count(TurnFinished, 2, timeout=20)
        assert [t.natural for t in turns] == [False, True]
        texts = [e.text for e in rig.of_type(PartCompleted) if e.kind == "text"]
        assert texts[-1] == "switched"


async def test_burst_interrupts_only_the_turn_it_arrived_during(
    opencode_client: OpenCodeClient, project_dir: Path, tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    marker = uuid.uuid4().hex[:8]
    async with CoreRig(
        opencode_client, tmp_path / "db.sqlite", options=SessionSettings(interrupt_delay=0.5)
    ) as rig:
        thread = rig.thread(project_dir)
        await rig.core.conversations.submit(thread.thread_id, rig.prompt(f"SLOW:30 {marker} long"))
        await rig.wait_for(TextDelta)
        for n in range(3):
            # Each answer streams for 1 s, longer than the interrupt delay: none may cut another off.
            result = await rig.core.conversations.submit(
                thread.thread_id, rig.prompt(f"SLOW:1 {marker} burst-{n}")
            )
            assert result.outcome == "interrupting"
        turns = await rig.wait_count(TurnFinished, 4, timeout=40)
        assert [t.natural for t in turns] == [False, True, True, True]
        assert user_texts(scripted_model, f"{marker} burst") == [
            f"SLOW:1 {marker} burst-{n}" for n in range(3)
        ]


async def test_permission_expires_after_timeout(
    opencode_client: OpenCodeClient, project_dir: Path, tmp_path: Path
) -> None:
    expiring = SessionSettings(permission_timeout_minutes=1 / 60)
    async with CoreRig(opencode_client, tmp_path / "db.sqlite", options=expiring) as rig:
        thread = rig.thread(project_dir)
        await rig.core.conversations.submit(thread.thread_id, rig.prompt("RUN_BASH: echo never > never.txt"))
        asked = await rig.wait_for(PermissionAskedEvent)
        resolved = await rig.wait_for(PermissionResolved, timeout=10)
        assert resolved.expired and resolved.reply == "reject" and resolved.by == "timeout"
        late = await rig.core.approvals.answer_permission(
            asked.request.request_id, "once", by="alice", origin="test"
        )
        assert late.status == "already_answered"
        await rig.wait_for(TurnFinished)
        assert not (project_dir / "never.txt").exists()
        row = rig.store.get_pending(asked.request.request_id)
        assert row is not None and row.status == "expired"


async def test_store_survives_restart_queue_and_mapping_reload(
    opencode_client: OpenCodeClient, project_dir: Path, tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    marker = uuid.uuid4().hex[:8]
    db = tmp_path / "db.sqlite"
    async with CoreRig(opencode_client, db, options=SessionSettings(busy_policy="queue")) as rig:
        thread = rig.thread(project_dir)
        await rig.core.conversations.submit(thread.thread_id, rig.prompt(f"SLOW:3 {marker} first"))
        await rig.core.conversations.submit(thread.thread_id, rig.prompt(f"{marker} kept-1"))
        await rig.core.conversations.submit(thread.thread_id, rig.prompt(f"{marker} kept-2"))
        session_id = thread.session_id
        await rig.wait_for(TextDelta)
        # Leave while the first turn still runs: the two queued messages must survive.
    async with CoreRig(opencode_client, db) as rig2:
        restored = rig2.core.conversations.runtime("1000")
        assert restored.session_id == session_id
        assert [i.prompt for i in restored.queue()] == [f"{marker} kept-1", f"{marker} kept-2"]
        # Resync saw the running turn; the queue drains by itself once it ends.
        await wait_until(lambda: restored.queue() == (), 30, message="queue to drain after restart")
        await rig2.wait_for(TurnFinished, lambda t: t.natural, timeout=30)
        await wait_until(
            lambda: user_texts(scripted_model, f"{marker} kept") == [f"{marker} kept-1", f"{marker} kept-2"],
            30,
            message="both queued prompts to reach the model in order",
        )


async def test_unknown_session_id_gives_clear_error(
    opencode_client: OpenCodeClient, project_dir: Path
) -> None:
    from kimaki_tui.opencode.errors import SessionNotFound

    with pytest.raises(SessionNotFound):
        await opencode_client.get_session("ses_doesnotexist000000000000", str(project_dir))
