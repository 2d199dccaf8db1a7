"""Turn routing's heuristic: which thread messages ask the agent for an answer."""

from __future__ import annotations

import pytest

from kimaki_tui.core.routing import (
    ThreadMessage,
    btw_suffix,
    channel_action,
    is_context,
    needs_answer,
    queue_suffix,
)
from kimaki_tui.core.turn_routing import verdict


@pytest.mark.parametrize(
    "text", ["thanks!", "Thank you so much.", "thx", "ok", "Okay!!", "lgtm", "👍", "🙏🙏", "great, thanks!"]
)
def test_a_bare_acknowledgement_needs_no_answer(text: str) -> None:
    assert not needs_answer(ThreadMessage(text))


@pytest.mark.parametrize(
    "text",
    ["thanks, now run the tests", "ok but why did it fail?", "fix the login bug", "is it done?", "no"],
)
def test_anything_with_a_request_in_it_is_for_the_agent(text: str) -> None:
    assert needs_answer(ThreadMessage(text))


def test_mentions_decide_first() -> None:
    assert not needs_answer(ThreadMessage(" can you review this?", starts_with_other_mention=True))
    assert needs_answer(ThreadMessage(" thanks!", mentions_bot=True))
    assert not needs_answer(ThreadMessage("   "))


def test_channel_messages_under_mention_mode() -> None:
    plain, bang = ThreadMessage("fix it"), ThreadMessage("  !fix it")
    mentioned = ThreadMessage(" fix it", mentions_bot=True)
    elsewhere = ThreadMessage(" fix it", starts_with_other_mention=True)
    actions = [channel_action(m, linked=True, mention_mode=True) for m in (plain, bang, mentioned, elsewhere)]
    assert actions == ["ignore", "start", "start", "ignore"]
    assert channel_action(plain, linked=True, mention_mode=False) == "start"
    assert channel_action(mentioned, linked=False, mention_mode=False) == "explain"
    assert channel_action(plain, linked=False, mention_mode=True) == "ignore"


def test_thread_messages_to_someone_else_are_context_in_mention_mode() -> None:
    elsewhere = ThreadMessage(" look", starts_with_other_mention=True)
    assert is_context(elsewhere, mention_mode=True)
    assert not is_context(elsewhere, mention_mode=False)
    both = ThreadMessage(" look", mentions_bot=True, starts_with_other_mention=True)
    assert not is_context(both, mention_mode=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("run the tests. queue", ("run the tests", True)),
        ("run the tests . Queue  ", ("run the tests", True)),
        ("please queue", ("please queue", False)),
        (". queue", (". queue", False)),  # nothing left to send: an ordinary message
    ],
)
def test_a_queue_suffix_waits_for_the_running_turn(text: str, expected: tuple[str, bool]) -> None:
    assert queue_suffix(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("what does foo do? btw", ("what does foo do?", True)),
        ("what does foo do. BTW.", ("what does foo do", True)),
        ("what does foo do\nbtw", ("what does foo do", True)),
        ("is this btw", ("is this btw", False)),  # no punctuation before it: an ordinary prompt
        (". btw", (". btw", False)),
    ],
)
def test_a_btw_suffix_asks_aside(text: str, expected: tuple[str, bool]) -> None:
    assert btw_suffix(text) == expected


@pytest.mark.parametrize(
    ("answer", "respond"),
    [
        ("RESPOND", True),
        ("SKIP", False),
        ("skip.", False),
        ("**SKIP**", False),
        ("Skip: that is for Bob", False),
        ("respond", True),
        ("", True),  # no verdict: answer rather than lose a prompt
        ("I think you should skip it", True),  # only a leading SKIP counts
    ],
)
def test_the_models_routing_verdict(answer: str, respond: bool) -> None:
    assert verdict(answer) is respond
