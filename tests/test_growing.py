"""The reducer's growing values: O(1) growth that shares storage, yet older values never change.

A long session (thousands of parts, a 200,000-character answer) must cost the same per event at
its end as at its start; bench/long_session.py times it, these tests pin the mechanism without a
clock: growing the newest value reuses its storage, and every older value still reads as before.
"""

from __future__ import annotations

from typing import Any

from kimaki_tui.core import reducer
from kimaki_tui.core.events import PartCompleted
from kimaki_tui.core.growing import GrowingText, IdSet
from kimaki_tui.opencode.events import parse_event

SID = "ses_growing"


def test_id_set_grows_in_place_and_older_sets_keep_their_members() -> None:
    first = IdSet(["a", "b"])
    second = first.with_id("c")
    third = second.with_ids(["d", "a"])
    assert second._items is first._items and third._items is first._items  # no copy
    assert list(first) == ["a", "b"] and "c" not in first and len(first) == 2
    assert list(second) == ["a", "b", "c"] and "d" not in second
    assert list(third) == ["a", "b", "c", "d"] and third.last == "d"
    assert third.with_id("b") is third


def test_growing_an_older_id_set_branches_off() -> None:
    base = IdSet(["a"])
    left = base.with_id("left")
    right = base.with_id("right")  # base was already grown: this one copies
    assert list(left) == ["a", "left"] and list(right) == ["a", "right"]
    assert "right" not in left and "left" not in right and "left" not in base


def test_the_empty_default_is_never_grown_in_place() -> None:
    empty = IdSet()
    one, other = empty.with_id("x"), empty.with_id("y")
    assert list(empty) == [] and list(one) == ["x"] and list(other) == ["y"]
    assert empty == frozenset() and one == frozenset({"x"}) and IdSet(["x", "y"]) == IdSet(["y", "x"])


def test_growing_text_appends_without_copying_and_branches_when_reused() -> None:
    empty = GrowingText()
    hello = empty.plus("hel").plus("lo")
    world = hello.plus(" world")
    assert world._pieces is hello._pieces  # appended in place
    there = hello.plus(" there")  # hello already grew: a copy of its own pieces
    assert (str(empty), str(hello), str(world), str(there)) == ("", "hello", "hello world", "hello there")
    assert len(world) == 11 and world == "hello world" and GrowingText("hi") == GrowingText("hi")
    assert str(GrowingText().plus("x")) == "x" and str(empty) == ""


def _ev(etype: str, **props: Any) -> dict[str, Any]:
    return {"type": etype, "properties": {"sessionID": SID, **props}}


def test_streamed_text_shares_its_pieces_from_delta_to_delta() -> None:
    """Each token delta appends to the open part's text instead of copying all of it."""
    mid, pid = "msg_a", "prt_t"
    info = {"id": mid, "role": "assistant", "time": {"created": 1}}
    state = reducer.initial_state(SID)
    for raw in (
        _ev("session.status", status={"type": "busy"}),
        _ev("message.updated", info=info),
        _ev(
            "message.part.updated",
            part={"id": pid, "messageID": mid, "type": "text", "text": "", "time": {"start": 1}},
        ),
    ):
        state, _ = reducer.reduce(state, parse_event(raw))
    texts = []
    for n in range(50):
        delta = _ev("message.part.delta", messageID=mid, partID=pid, field="text", delta=f"w{n} ")
        state, _ = reducer.reduce(state, parse_event(delta))
        texts.append(state.open_parts[0].streamed)
    assert all(t._pieces is texts[0]._pieces for t in texts)  # one list, appended to
    assert str(texts[9]) == "".join(f"w{n} " for n in range(10))  # older states unchanged
    done = _ev("message.updated", info={**info, "finish": "stop", "time": {"created": 1, "completed": 2}})
    _, outputs = reducer.reduce(state, parse_event(done))
    [part] = [o for o in outputs if isinstance(o, PartCompleted)]
    assert part.text == "".join(f"w{n} " for n in range(50))


def test_a_thousand_parts_in_one_turn_are_tracked_without_copying() -> None:
    """The set of posted parts grows in place across a long turn; each part is posted once."""
    state = reducer.initial_state(SID)
    mid = "msg_long"
    info = {"id": mid, "role": "assistant", "time": {"created": 1}}
    state, _ = reducer.reduce(state, parse_event(_ev("message.updated", info=info)))
    posted: list[str] = []
    storages = set()
    for n in range(1000):
        part = {
            "id": f"prt_{n}",
            "messageID": mid,
            "type": "text",
            "text": f"t{n}",
            "time": {"start": 1, "end": 2},
        }
        for _ in range(2):  # OpenCode may repeat a finished part: posted once all the same
            state, outputs = reducer.reduce(state, parse_event(_ev("message.part.updated", part=part)))
            posted += [o.part_id for o in outputs if isinstance(o, PartCompleted)]
        storages.add(id(state.emitted._items))
    assert posted == [f"prt_{n}" for n in range(1000)]
    assert len(storages) == 1  # one list of ids for the whole turn
