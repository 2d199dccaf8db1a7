"""Turn routing's heuristic: which thread messages ask the agent for an answer."""

from __future__ import annotations

import pytest

from kimaki_tui.core.routing import ThreadMessage, needs_answer


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
