"""The pure reducer, on the recorded OpenCode stream and on hand-built event lists."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kimaki_tui.core import reducer
from kimaki_tui.core.events import (
    DomainEvent,
    PartCompleted,
    PermissionAskedEvent,
    QuestionAskedEvent,
    SessionFailed,
    StatusChanged,
    TextDelta,
    TitleChanged,
    ToolStarted,
    TurnFinished,
)
from kimaki_tui.core.stream_state import StreamState
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.events import Event, PartDelta, PermissionAsked, SessionIdle, parse_event
from kimaki_tui.opencode.schema import text_part
from kimaki_tui.presentation.render import render_event
from tests.harness import FIXTURES, EventRecorder

SAMPLE = FIXTURES / "events-sample-1.18.33.jsonl"
SEQ_SESSION = "ses_dff174dcdffe2yJvhYB6CC92tl"
SID = "ses_test"


Raw = dict[str, Any]


def run(events: list[Raw], state: StreamState | None = None) -> tuple[StreamState, list[DomainEvent]]:
    state = state or reducer.initial_state(SID)
    outputs: list[DomainEvent] = []
    for raw in events:
        state, out = reducer.reduce(state, parse_event(raw))
        outputs.extend(out)
    return state, outputs


def of(outputs: list[DomainEvent], kind: type) -> list[Any]:
    return [o for o in outputs if isinstance(o, kind)]


# ---- builders for hand-made streams (the shapes of the recorded sample) -------------------------
def ev(etype: str, **props: Any) -> dict[str, Any]:
    return {"type": etype, "properties": {"sessionID": SID, **props}}


def user(mid: str, created: int) -> dict[str, Any]:
    return ev("message.updated", info={"id": mid, "role": "user", "time": {"created": created}})


def assistant(mid: str, created: int, *, finish: str = "", completed: int = 0, **extra: Any) -> Raw:
    info: dict[str, Any] = {
        "id": mid, "role": "assistant", "agent": "build", "modelID": "m1", "providerID": "p1",
        "path": {"cwd": "/home/user/proj", "root": "/home/user/proj"}, "time": {"created": created},
        "tokens": {"input": 100, "output": 20, "reasoning": 5, "cache": {"read": 50, "write": 10}},
    }
    if finish:
        info["finish"] = finish
    if completed:
        info["time"]["completed"] = completed
    info.update(extra)
    return ev("message.updated", info=info)


def part(mid: str, **fields: Any) -> dict[str, Any]:
    return ev("message.part.updated", part={"messageID": mid, "sessionID": SID, **fields})


def text(mid: str, pid: str, body: str, end: int | None) -> dict[str, Any]:
    times = {"start": 1} if end is None else {"start": 1, "end": end}
    return part(mid, id=pid, type="text", text=body, time=times)


def tool(mid: str, pid: str, status: str, **state: Any) -> dict[str, Any]:
    return part(mid, id=pid, type="tool", tool="bash", callID="c1", state={"status": status, **state})


def status(kind: str) -> dict[str, Any]:
    return ev("session.status", status={"type": kind})


IDLE = ev("session.idle")


def simple_turn(u: str = "msg_u1", a: str = "msg_a1", t0: int = 1000) -> list[dict[str, Any]]:
    return [
        user(u, t0),
        status("busy"),
        assistant(a, t0 + 10),
        text(a, f"prt_{a}", "", None),
        text(a, f"prt_{a}", "hello world", t0 + 500),
        assistant(a, t0 + 10, finish="stop", completed=t0 + 1500),
        status("idle"),
        IDLE,
    ]


# ---- the recorded stream ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sequence() -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in SAMPLE.read_text().splitlines() if line.strip()]
    return [row for row in rows if row.get("_section", "").startswith("sequence:")]


def test_recorded_bash_permission_turn(sequence: list[dict[str, Any]]) -> None:
    state, outputs = run(sequence, reducer.initial_state(SEQ_SESSION))
    kinds = [type(o).__name__ for o in outputs if not isinstance(o, TextDelta | StatusChanged)]
    assert kinds == ["ToolStarted", "PermissionAskedEvent", "PartCompleted", "PartCompleted", "TurnFinished"]

    (started,) = of(outputs, ToolStarted)
    assert (started.tool, started.input) == ("bash", {"command": "echo hi > out.txt"})
    (asked,) = of(outputs, PermissionAskedEvent)
    assert asked.request.request_id == "per_200e8b3250013kk0B4nXki3tf5"
    assert (asked.request.kind, asked.request.summary) == ("bash", "echo hi > out.txt")
    assert asked.request.always == ("echo *",)
    assert asked.request.asked_at == pytest.approx(1795311579.836)  # the tool's start, from the events

    tool_part, text_part = of(outputs, PartCompleted)
    assert (tool_part.kind, tool_part.status, tool_part.title) == ("tool", "completed", "echo hi > out.txt")
    assert tool_part.output == "(no output)"
    assert (text_part.kind, text_part.text) == ("text", "TOOL_RESULT_SEEN: (no output)")
    assert "".join(d.delta for d in of(outputs, TextDelta)) == text_part.text

    (turn,) = of(outputs, TurnFinished)
    assert turn.natural is True
    assert turn.duration_s == pytest.approx(0.658)  # completed 1795311580366 - user created 1795311579708
    assert (turn.tokens_total, turn.tokens_input, turn.tokens_output, turn.context_tokens) == (13, 10, 3, 13)
    assert (turn.provider_id, turn.model_id, turn.agent) == ("fake", "fake-model", "build")
    assert turn.directory == "/home/user/demo"
    assert turn.context_limit is None

    assert [s.state for s in of(outputs, StatusChanged)] == ["busy", "waiting", "busy", "idle"]
    assert not of(outputs, TitleChanged)  # the title set at creation never changed
    assert not reducer.is_busy(state)
    assert reducer.pending_permission_ids(state) == frozenset()


def test_replaying_the_recorded_turn_posts_nothing_again(sequence: list[dict[str, Any]]) -> None:
    state, _ = run(sequence, reducer.initial_state(SEQ_SESSION))
    _, again = run(sequence, state)
    posted = [o for o in again if not isinstance(o, StatusChanged)]
    assert posted == []


# ---- hand-built streams -------------------------------------------------------------------------
def test_repeated_part_events_emit_once() -> None:
    events = [
        user("msg_u", 1000),
        assistant("msg_a", 1010),
        text("msg_a", "prt_t", "", None),
        text("msg_a", "prt_t", "final text", 1100),
        text("msg_a", "prt_t", "final text", 1100),
        tool("msg_a", "prt_b", "running", input={"command": "ls"}),
        tool("msg_a", "prt_b", "running", input={"command": "ls"}, metadata={"output": ""}),
        tool("msg_a", "prt_b", "completed", input={"command": "ls"}, output="a\nb", title="ls"),
        tool("msg_a", "prt_b", "completed", input={"command": "ls"}, output="a\nb", title="ls"),
        part("msg_a", id="prt_r", type="reasoning", text="hmm", time={"start": 1, "end": 2}),
        part("msg_a", id="prt_r", type="reasoning", text="hmm", time={"start": 1, "end": 2}),
    ]
    _, outputs = run(events)
    completed = of(outputs, PartCompleted)
    assert [(p.part_id, p.kind) for p in completed] == [
        ("prt_t", "text"), ("prt_b", "tool"), ("prt_r", "reasoning")
    ]
    assert len(of(outputs, ToolStarted)) == 1


def test_text_is_emitted_only_when_it_ends_and_user_parts_never() -> None:
    events = [
        user("msg_u", 1000),
        text("msg_u", "prt_user", "please do it", None),
        text("msg_u", "prt_user2", "synthetic context", 1001),
        assistant("msg_a", 1010),
        text("msg_a", "prt_a", "", None),
        ev("message.part.delta", messageID="msg_a", partID="prt_a", field="text", delta="Hi"),
    ]
    state, outputs = run(events)
    assert of(outputs, PartCompleted) == []
    assert [d.delta for d in of(outputs, TextDelta)] == ["Hi"]
    # An event that changes nothing keeps the very same state object.
    same, _ = reducer.reduce(state, parse_event(events[2]))
    assert same is state


def test_reasoning_deltas_are_marked() -> None:
    events = [
        assistant("msg_a", 1010),
        part("msg_a", id="prt_r", type="reasoning", text="", time={"start": 1}),
        ev("message.part.delta", messageID="msg_a", partID="prt_r", field="text", delta="think"),
    ]
    _, outputs = run(events)
    assert [(d.kind, d.delta) for d in of(outputs, TextDelta)] == [("reasoning", "think")]


def test_abort_finishes_the_turn_unnaturally_without_a_failure() -> None:
    events = [
        user("msg_u", 1000),
        status("busy"),
        assistant("msg_a", 1010),
        tool("msg_a", "prt_b", "running", input={"command": "sleep 100"}),
        ev("session.error", error={"name": "MessageAbortedError", "data": {"message": "Aborted"}}),
        assistant("msg_a", 1010, completed=2000, error={"name": "MessageAbortedError", "data": {}}),
        status("idle"),
        IDLE,
    ]
    state, outputs = run(events)
    assert of(outputs, SessionFailed) == []
    (turn,) = of(outputs, TurnFinished)
    assert turn.natural is False
    assert not reducer.is_busy(state)


@pytest.mark.parametrize("assistant_seen", [True, False])
def test_events_after_an_abort_belong_to_the_ended_turn(assistant_seen: bool) -> None:
    """The order the real server uses: error, idle, THEN the cut text part, the message, idle again."""
    before = [user("msg_u", 1000), status("busy")]
    if assistant_seen:
        before += [assistant("msg_a", 1010), text("msg_a", "prt_t", "", None)]
    after_abort = [
        ev("session.error", error={"name": "MessageAbortedError", "data": {"message": "Aborted"}}),
        status("idle"),
        IDLE,
        ev("message.part.delta", messageID="msg_a", partID="prt_t", field="text", delta="tick"),
        text("msg_a", "prt_t", "tick tick", 1500),
        assistant("msg_a", 1010, completed=1600, error={"name": "MessageAbortedError", "data": {}}),
        status("idle"),
        IDLE,
    ]
    state, outputs = run(before + after_abort)
    assert [o.natural for o in of(outputs, TurnFinished)] == [False]
    assert of(outputs, PartCompleted) == [] and of(outputs, TextDelta) == []
    # The next prompt is a normal turn again.
    _, outputs = run(simple_turn("msg_u2", "msg_a2", 5000), state)
    assert [o.natural for o in of(outputs, TurnFinished)] == [True]
    assert [p.text for p in of(outputs, PartCompleted)] == ["hello world"]


def test_tool_step_then_stop_step_gives_one_natural_turn() -> None:
    events = [
        user("msg_u", 1000),
        status("busy"),
        assistant("msg_a1", 1010),
        tool("msg_a1", "prt_b", "running", input={"command": "ls"}),
        tool("msg_a1", "prt_b", "completed", input={"command": "ls"}, output="x", title="ls"),
        part("msg_a1", id="prt_sf", type="step-finish", reason="tool-calls", tokens={"input": 1}),
        assistant("msg_a1", 1010, finish="tool-calls", completed=1300),
        status("busy"),
        assistant("msg_a2", 1310),
        text("msg_a2", "prt_t", "done", 1400),
        assistant("msg_a2", 1310, finish="stop", completed=3500),
        status("idle"),
        IDLE,
        IDLE,  # a repeated idle does not finish the turn twice
    ]
    _, outputs = run(events)
    (turn,) = of(outputs, TurnFinished)
    assert turn.natural is True
    assert turn.duration_s == pytest.approx(2.5)
    assert (turn.provider_id, turn.model_id, turn.agent) == ("p1", "m1", "build")
    assert turn.directory == "/home/user/proj"
    # input + cache.read + cache.write + output of the last assistant message
    assert turn.context_tokens == 100 + 50 + 10 + 20
    assert turn.tokens_total == 100 + 20 + 5 + 50 + 10


def test_a_turn_ending_on_tool_calls_is_not_natural() -> None:
    events = [user("msg_u", 1000), assistant("msg_a", 1010, finish="tool-calls", completed=1100), IDLE]
    (turn,) = of(run(events)[1], TurnFinished)
    assert turn.natural is False


def test_api_error_is_reported_and_the_turn_is_not_natural() -> None:
    events = [
        user("msg_u", 1000),
        status("busy"),
        ev("session.error", error={"name": "APIError", "data": {"message": "Cannot connect"}}),
        status("idle"),
        IDLE,
    ]
    _, outputs = run(events)
    (failed,) = of(outputs, SessionFailed)
    assert (failed.name, failed.message) == ("APIError", "Cannot connect")
    (turn,) = of(outputs, TurnFinished)
    assert turn.natural is False


def test_an_error_after_idle_does_not_spoil_the_next_turn() -> None:
    state, _ = run(simple_turn())
    late_error = ev("session.error", error={"name": "UnknownError", "data": {"message": "late"}})
    state, outputs = run([late_error], state)
    assert len(of(outputs, SessionFailed)) == 1
    _, outputs = run(simple_turn("msg_u2", "msg_a2", 5000), state)
    (turn,) = of(outputs, TurnFinished)
    assert turn.natural is True


def test_consecutive_turns_each_finish_once_and_old_parts_stay_posted() -> None:
    state, first = run(simple_turn())
    state, second = run(simple_turn("msg_u2", "msg_a2", 5000), state)
    assert [len(of(first, TurnFinished)), len(of(second, TurnFinished))] == [1, 1]
    assert [p.part_id for p in of(second, PartCompleted)] == ["prt_msg_a2"]
    # A late repeat of the first turn's part does not post it again.
    _, late = run([text("msg_a1", "prt_msg_a1", "hello world", 1500)], state)
    assert late == []


def test_step_finish_tokens_are_used_when_the_message_has_none() -> None:
    events = [
        user("msg_u", 1000),
        assistant("msg_a", 1010, tokens={}),
        part("msg_a", id="prt_sf", type="step-finish", reason="stop",
             tokens={"total": 42, "input": 30, "output": 12, "cache": {"read": 0, "write": 0}}),
        assistant("msg_a", 1010, finish="stop", completed=1200, tokens={}),
        IDLE,
    ]
    (turn,) = of(run(events)[1], TurnFinished)
    assert (turn.tokens_total, turn.context_tokens) == (42, 42)


def test_status_changes_are_reported_once_and_retry_carries_the_detail() -> None:
    events = [
        status("busy"),
        status("busy"),
        ev("session.status", status={"type": "retry", "attempt": 2, "message": "rate limited", "next": 5}),
        status("busy"),
        status("idle"),
    ]
    state, outputs = run(events)
    changes = of(outputs, StatusChanged)
    assert [(c.state, c.detail) for c in changes] == [
        ("busy", ""), ("retry", "attempt 2: rate limited"), ("busy", ""), ("idle", "")
    ]
    assert not reducer.is_busy(state)


def test_permission_and_question_tracking() -> None:
    asked = ev("permission.asked", id="per_1", permission="edit", patterns=["a.txt"],
               metadata={"filepath": "/p/a.txt", "diff": "+x"}, always=["*"])
    question = ev("question.asked", id="que_1", questions=[{"question": "Color?", "options": []}])
    state, outputs = run([status("busy"), asked, asked, question])
    assert reducer.pending_permission_ids(state) == {"per_1"}
    assert reducer.pending_question_ids(state) == {"que_1"}
    assert len(of(outputs, PermissionAskedEvent)) == 1
    assert of(outputs, QuestionAskedEvent)[0].request.questions[0]["question"] == "Color?"
    assert state.status == "waiting" and reducer.is_busy(state)

    state, outputs = run([ev("permission.replied", requestID="per_1", reply="once")], state)
    assert reducer.pending_permission_ids(state) == frozenset()
    assert state.status == "waiting"  # the question still waits
    state, outputs = run([ev("question.rejected", requestID="que_1")], state)
    assert reducer.pending_question_ids(state) == frozenset()
    assert [c.state for c in of(outputs, StatusChanged)] == ["busy"]
    # A permission asked again after its answer is not posted twice.
    _, outputs = run([asked], state)
    assert of(outputs, PermissionAskedEvent) == []


def test_titles() -> None:
    def updated(title: str) -> dict[str, Any]:
        return ev("session.updated", info={"id": SID, "title": title})

    created = ev("session.created", info={"id": SID, "title": "my task"})
    _, outputs = run([
        created,
        updated("my task"),
        updated("New session - 2026-05-09T07:35:25.000Z"),
        updated("Fix the login bug"),
        updated("Fix the login bug"),
    ])
    assert [t.title for t in of(outputs, TitleChanged)] == ["Fix the login bug"]


def test_events_of_other_sessions_are_ignored() -> None:
    state = reducer.initial_state(SID)
    other = {"type": "session.status", "properties": {"sessionID": "ses_other", "status": {"type": "busy"}}}
    same, outputs = reducer.reduce(state, parse_event(other))
    assert same is state and outputs == ()


def test_long_tool_output_is_trimmed() -> None:
    events = [assistant("msg_a", 1), tool("msg_a", "prt_b", "completed", input={}, output="x" * 10_000)]
    (done,) = of(run(events)[1], PartCompleted)
    assert len(done.output) == reducer.OUTPUT_LIMIT + 1 and done.output.endswith("…")


# ---- the real OpenCode server ---------------------------------------------------------------------
def replay(events: list[Event], session_id: str) -> list[DomainEvent]:
    state = reducer.initial_state(session_id)
    outputs: list[DomainEvent] = []
    for event in events:
        state, out = reducer.reduce(state, event)
        outputs.extend(out)
    return outputs


def event_of(kind: type[Event], session_id: str) -> Callable[[Event], bool]:
    return lambda event: isinstance(event, kind) and event.session_id == session_id


@pytest.mark.opencode
async def test_live_bash_turn_with_permission(opencode_client: OpenCodeClient, project_dir: Path) -> None:
    session = await opencode_client.create_session(project_dir)
    async with EventRecorder(opencode_client) as recorder:
        prompt = [text_part("RUN_BASH: echo hi > out.txt")]
        await opencode_client.prompt_async(session.id, project_dir, prompt)
        asked = await recorder.wait_for(event_of(PermissionAsked, session.id), 60)
        assert isinstance(asked, PermissionAsked)
        await opencode_client.reply_permission(asked.request_id, "once", directory=project_dir)
        await recorder.wait_for(event_of(SessionIdle, session.id), 60)
        outputs = replay(recorder.events, session.id)

    (tool_part,) = [p for p in of(outputs, PartCompleted) if p.kind == "tool"]
    assert (tool_part.tool, tool_part.status) == ("bash", "completed")
    assert [p.text for p in of(outputs, PartCompleted) if p.kind == "text"] == ["Tool said: (no output)"]
    assert len(of(outputs, PermissionAskedEvent)) == 1
    (turn,) = of(outputs, TurnFinished)
    assert turn.natural and turn.model_id == "fake-model" and turn.duration_s > 0
    posted = [m for o in outputs for m in render_event(o)]
    assert posted[-1].startswith("*project · ") and posted[-1].endswith("fake-model*")


@pytest.mark.opencode
async def test_live_abort_is_not_a_failure(opencode_client: OpenCodeClient, project_dir: Path) -> None:
    session = await opencode_client.create_session(project_dir)
    async with EventRecorder(opencode_client) as recorder:
        await opencode_client.prompt_async(session.id, project_dir, [text_part("SLOW:20")])
        await recorder.wait_for(event_of(PartDelta, session.id), 60)
        assert await opencode_client.abort(session.id, project_dir)
        await recorder.wait_for(event_of(SessionIdle, session.id), 30)
        outputs = replay(recorder.events, session.id)

    assert of(outputs, SessionFailed) == []
    (turn,) = of(outputs, TurnFinished)
    assert turn.natural is False
    assert [m for o in outputs for m in render_event(o) if m.startswith("*")] == []


def test_abandoned_turn_ignores_its_late_events() -> None:
    state, _ = run(simple_turn()[:4])  # prompt, busy, assistant, empty text part
    state = reducer.abandon_turn(state)
    assert not reducer.is_busy(state)
    _, outputs = run(simple_turn()[4:], state)  # the rest of that turn arrives late
    assert outputs == []
