"""The dashboard's activity feed, line by line (screens/activity.py is pure)."""

from __future__ import annotations

from kimaki_tui.core.events import (
    PartCompleted,
    PermissionAskedEvent,
    PermissionRequest,
    PromptDispatched,
    SessionFailed,
    TurnAborted,
    TurnFinished,
)
from kimaki_tui.screens.activity import activity_of
from kimaki_tui.screens.format import Palette
from kimaki_tui.screens.widgets.activity_strip import EMPTY, activity_text


def named(thread_id: str) -> str:
    return {"1": "Fix the login"}.get(thread_id, f"thread {thread_id}")


def finished(natural: bool) -> TurnFinished:
    return TurnFinished(
        "ses_1", natural, 12.34, 5200, 5000, 200, 0, None, "fake", "fake-model", "build", thread_id="1"
    )


def test_each_event_a_person_follows_is_one_line() -> None:
    request = PermissionRequest("per_1", "ses_1", "bash", ("rm -rf build",), (), {}, 0.0)
    lines = [
        activity_of(
            PromptDispatched("ses_1", "make the tests pass", "alice", "discord", False, thread_id="1"),
            named,
            5,
        ),
        activity_of(PromptDispatched("ses_1", "next", "alice", "discord", True, thread_id="1"), named, 6),
        activity_of(finished(True), named, 7),
        activity_of(PermissionAskedEvent("ses_1", request, thread_id="1"), named, 8),
        activity_of(TurnAborted("ses_1", "bob", "control-center", thread_id="1"), named, 9),
        activity_of(SessionFailed("ses_1", "APIError", "Rate limit exceeded", thread_id="2"), named, 10),
    ]
    assert [(line.text, line.level) for line in lines if line] == [
        ("Fix the login: prompt from alice — “make the tests pass”", "info"),
        ("Fix the login: prompt from the queue — “next”", "info"),
        ("Fix the login: answered in 12.3 s · 5.2k tokens", "info"),
        ("Fix the login: waits for approval: bash rm -rf build", "warning"),
        ("Fix the login: aborted by bob", "info"),
        ("thread 2: failed — Rate limit exceeded", "error"),
    ]
    # Streamed parts and turns cut short (their abort or failure has its own line) add nothing.
    assert activity_of(finished(False), named, 11) is None
    assert (
        activity_of(PartCompleted("ses_1", "prt_1", "msg_1", "text", text="hi", thread_id="1"), named, 12)
        is None
    )


def test_the_strip_shows_the_newest_three_with_their_age() -> None:
    lines = tuple(
        activity_of(
            PromptDispatched("ses_1", f"p{n}", "alice", "discord", False, thread_id="1"), named, n * 60
        )
        for n in range(5)
    )
    text = activity_text(tuple(line for line in lines if line), Palette(), now=300.0).plain
    assert text.splitlines() == [
        "  3m  Fix the login: prompt from alice — “p2”",
        "  2m  Fix the login: prompt from alice — “p3”",
        "  1m  Fix the login: prompt from alice — “p4”",
    ]
    assert activity_text((), Palette(), now=0.0).plain == EMPTY
