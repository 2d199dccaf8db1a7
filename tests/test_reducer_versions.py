"""The parser and the reducer on what OpenCode 1.2 does differently from 1.18: event shapes,
text parts left without an end, and an abort reported inside the next turn."""

from __future__ import annotations

from typing import Any

from kimaki_tui.core import reducer
from kimaki_tui.core.events import DomainEvent, PartCompleted, TurnFinished
from kimaki_tui.opencode.events import (
    MessageUpdated,
    PartUpdated,
    SessionInfoEvent,
    SessionStatus,
    UnknownEvent,
    parse_event,
)

SID = "ses_12"
Raw = dict[str, Any]


def old(etype: str, **props: Any) -> Raw:
    """An event as OpenCode 1.2 sends it: no top-level session id on parts and messages."""
    return {"type": etype, "properties": props}


def user(mid: str, created: int) -> Raw:
    info = {"id": mid, "sessionID": SID, "role": "user", "time": {"created": created}}
    return old("message.updated", info=info)


def assistant(mid: str, created: int, **extra: Any) -> Raw:
    times = {"created": created, **extra.pop("time", {})}
    info = {"id": mid, "sessionID": SID, "role": "assistant", "agent": "build", "modelID": "m", "time": times}
    info.update(providerID="p", **extra)
    return old("message.updated", info=info)


def text(mid: str, pid: str, body: str, end: int | None = None) -> Raw:
    times = {"start": 1} if end is None else {"start": 1, "end": end}
    part = {"id": pid, "messageID": mid, "sessionID": SID, "type": "text", "text": body, "time": times}
    return old("message.part.updated", part=part)


def delta(mid: str, pid: str, piece: str) -> Raw:
    return old("message.part.delta", sessionID=SID, messageID=mid, partID=pid, field="text", delta=piece)


def step_finish(mid: str) -> Raw:
    part = {"id": f"prt_sf_{mid}", "messageID": mid, "sessionID": SID, "type": "step-finish"}
    return old("message.part.updated", part=part)


def status(kind: str) -> Raw:
    return old("session.status", sessionID=SID, status={"type": kind})


IDLE = old("session.idle", sessionID=SID)
ABORTED = old("session.error", sessionID=SID, error={"name": "MessageAbortedError", "data": {"message": "x"}})


def run(events: list[Raw]) -> list[DomainEvent]:
    state = reducer.initial_state(SID)
    outputs: list[DomainEvent] = []
    for raw in events:
        state, out = reducer.reduce(state, parse_event(raw))
        outputs.extend(out)
    return outputs


def texts(outputs: list[DomainEvent]) -> list[str]:
    return [o.text for o in outputs if isinstance(o, PartCompleted) and o.kind == "text"]


def test_the_session_id_is_found_where_each_version_puts_it() -> None:
    part = parse_event(text("msg_a", "prt_1", "hi"))
    assert isinstance(part, PartUpdated) and part.session_id == SID
    message = parse_event({"directory": "/p", "payload": user("msg_u", 1)})
    assert isinstance(message, MessageUpdated) and message.session_id == SID and message.directory == "/p"
    created = parse_event(old("session.created", info={"id": SID, "title": "t"}))
    assert isinstance(created, SessionInfoEvent) and created.session_id == SID
    # 1.18's top-level id is used when present; events that carry none stay harmless.
    top_level = {"sessionID": "ses_t", "info": {"id": "i"}}
    newer = parse_event({"type": "session.updated", "properties": top_level})
    assert newer.session_id == "ses_t"
    assert isinstance(parse_event(old("message.part.updated", part={"id": "prt"})), UnknownEvent)
    assert isinstance(parse_event(old("todo.updated", todos=[])), UnknownEvent)
    assert isinstance(parse_event(status("busy")), SessionStatus)


def test_a_text_left_open_is_posted_when_its_step_finishes() -> None:
    outputs = run([
        user("msg_u", 1000), text("msg_u", "prt_user", "please"),  # a user part never ends: not posted
        status("busy"), assistant("msg_a", 1010), text("msg_a", "prt_t", ""),
        delta("msg_a", "prt_t", "Hel"), delta("msg_a", "prt_t", "lo"),
        step_finish("msg_a"),
        text("msg_a", "prt_t", "Hello", 1200),  # a late end does not post it again
        assistant("msg_a", 1010, finish="stop", time={"completed": 1300}), status("idle"), IDLE,
    ])  # fmt: skip
    assert texts(outputs) == ["Hello"]
    finished = [o for o in outputs if isinstance(o, TurnFinished)]
    assert [t.natural for t in finished] == [True]
    assert outputs.index(finished[0]) > next(i for i, o in enumerate(outputs) if isinstance(o, PartCompleted))


def test_a_text_left_open_by_an_abort_is_posted_before_the_turn_ends() -> None:
    outputs = run([
        user("msg_u", 1000), status("busy"), assistant("msg_a", 1010), text("msg_a", "prt_t", ""),
        delta("msg_a", "prt_t", "tick 0 "),
        status("idle"), IDLE, ABORTED, status("idle"), IDLE,  # 1.2: idle first, the error after
        assistant("msg_a", 1010, error={"name": "MessageAbortedError"}, time={"completed": 1500}), IDLE,
    ])  # fmt: skip
    assert texts(outputs) == ["tick 0 "]
    assert [o.natural for o in outputs if isinstance(o, TurnFinished)] == [False]
    assert isinstance(outputs[-2], PartCompleted) and isinstance(outputs[-1], TurnFinished)


def test_an_abort_reported_inside_the_next_turn_does_not_lose_that_turn() -> None:
    """OpenCode 1.2 may report the abort (an error and an idle) after the next prompt started."""
    outputs = run([
        user("msg_u1", 1000), status("busy"), assistant("msg_a1", 1010), text("msg_a1", "prt_1", ""),
        delta("msg_a1", "prt_1", "tick 0 "), status("idle"), IDLE,
        user("msg_u2", 2000), status("busy"), assistant("msg_a2", 2010),
        ABORTED, status("idle"), IDLE,  # the first turn's abort, late
        assistant("msg_a1", 1010, error={"name": "MessageAbortedError"}, time={"completed": 2020}),
        status("busy"), text("msg_a2", "prt_2", ""), delta("msg_a2", "prt_2", "All done."),
        text("msg_a2", "prt_2", "All done.", 2100), step_finish("msg_a2"),
        assistant("msg_a2", 2010, finish="stop", time={"completed": 2200}), status("idle"), IDLE,
    ])  # fmt: skip
    assert texts(outputs) == ["tick 0 ", "All done."]
    turns = [o for o in outputs if isinstance(o, TurnFinished)]
    # The early idle ends the second turn too soon (without a footer); the real end has one.
    assert [t.natural for t in turns] == [False, False, True]
    assert turns[-1].model_id == "m"


def test_an_abort_settles_when_opencode_closes_the_cut_message() -> None:
    """Between 1.2's first idle and its closing of the aborted message a new prompt would be
    aborted too; `settling` says to wait."""
    state = reducer.initial_state(SID)
    steps = [user("msg_u", 1000), status("busy"), assistant("msg_a", 1010), text("msg_a", "prt_t", ""),
             status("idle"), IDLE, ABORTED, status("idle"), IDLE]  # fmt: skip
    for raw in steps:
        state, _ = reducer.reduce(state, parse_event(raw))
    assert reducer.settling(state) and not reducer.is_busy(state)
    closed = assistant("msg_a", 1010, error={"name": "MessageAbortedError"}, time={"completed": 1500})
    state, _ = reducer.reduce(state, parse_event(closed))
    assert not reducer.settling(state)
