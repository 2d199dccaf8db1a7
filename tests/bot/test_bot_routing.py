"""Turn routing in a shared thread. `heuristic`: thanks and side chatter get no answer but reach the
session as context; a request is answered; with routing off every message is answered. `ai`: the
model is asked about what the heuristic lets through (in a throw-away session, deleted after), and a
model too slow to decide means the message is answered. `/turn-routing` sets a channel's own mode."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from kimaki_tui.testing.scripted_model import ScriptedModel, latest_user_text
from tests.bot.rig import BotRig, is_footer
from tests.harness import texts, wait_until

pytestmark = pytest.mark.opencode
MakeRig = Callable[..., AbstractAsyncContextManager[BotRig]]


async def test_thanks_and_side_chatter_become_context(
    make_bot_rig: MakeRig, scripted_model: ScriptedModel
) -> None:
    async with make_bot_rig(turn_routing="heuristic") as rig:
        await rig.user_says("owner", "REPLY: first answer")
        thread = await rig.wait_thread()
        first = await rig.wait_bot_message(thread, is_footer)
        asked_before = len(scripted_model.requests)
        await rig.user_says("kimaki_user", "thanks!", thread)
        await rig.user_says("kimaki_user", f"<@{rig.users.owner.id}> can you have a look too?", thread)

        async def noted() -> bool:
            said = [t for m in await rig.core.history.messages(str(thread.id)) for t in texts(m)]
            return sum("to the others in the thread]" in t for t in said) == 2

        await wait_until(noted, 30, message="both messages in the session as context")
        await rig.user_says("owner", "REPLY: second answer", thread)
        second = await rig.wait_bot_message(thread, is_footer, after=first)

        footers = [m for m in rig.bot_messages(thread) if is_footer(m)]
        assert [f.id for f in footers] == [first.id, second.id]
        answers = [m.content for m in rig.bot_messages(thread) if m.content.startswith("⬥")]
        assert answers == ["⬥ first answer", "⬥ second answer"]
        turns = [b for b in scripted_model.requests[asked_before:] if b.get("tools")]
        assert [latest_user_text(b["messages"]) for b in turns] == ["REPLY: second answer"]
        sent = str(turns[0]["messages"])
        assert "to the others in the thread] thanks!" in sent and "can you have a look too?" in sent


async def test_without_routing_thanks_is_answered(bot_rig: BotRig) -> None:
    await bot_rig.user_says("owner", "REPLY: done")
    thread = await bot_rig.wait_thread()
    first = await bot_rig.wait_bot_message(thread, is_footer)
    await bot_rig.user_says("owner", "thanks!", thread)
    await bot_rig.wait_bot_message(thread, is_footer, after=first)
    assert any(m.content == "⬥ Echo: thanks!" for m in bot_rig.bot_messages(thread))


def routing_requests(model: ScriptedModel, since: int) -> list[str]:
    """What turn routing asked the model, in order (tool-less requests with its system prompt)."""
    asked = model.requests[since:]
    return [
        latest_user_text(b["messages"])
        for b in asked
        if not b.get("tools") and "RESPOND or SKIP" in str(b["messages"][0].get("content"))
    ]


async def test_ai_routing_asks_the_model_about_what_the_heuristic_lets_through(
    make_bot_rig: MakeRig, scripted_model: ScriptedModel
) -> None:
    async with make_bot_rig(turn_routing="ai") as rig:
        await rig.user_says("owner", "REPLY: first answer")
        thread = await rig.wait_thread()
        first = await rig.wait_bot_message(thread, is_footer)
        asked_before = len(scripted_model.requests)
        await rig.user_says("kimaki_user", "thanks!", thread)  # the heuristic: no model call
        await rig.user_says("kimaki_user", "lunch at noon? ROUTE:SKIP", thread)
        await rig.user_says("owner", "REPLY: second answer", thread)
        await rig.wait_bot_message(thread, is_footer, after=first)

        answers = [m.content for m in rig.bot_messages(thread) if m.content.startswith("⬥")]
        assert answers == ["⬥ first answer", "⬥ second answer"]
        asked = routing_requests(scripted_model, asked_before)
        assert len(asked) == 2  # the chatter and the request, not the thanks
        assert "lunch at noon? ROUTE:SKIP" in asked[0] and "REPLY: second answer" in asked[1]
        turns = [b for b in scripted_model.requests[asked_before:] if b.get("tools")]
        assert [latest_user_text(b["messages"]) for b in turns] == ["REPLY: second answer"]
        sent = str(turns[0]["messages"])
        assert "thanks!" in sent and "lunch at noon?" in sent  # both reached the session as context
        # The throw-away sessions it asked in are gone from OpenCode.
        sessions = await rig.core_rig.client.list_sessions(str(rig.project_dir))
        assert not [s for s in sessions if s.title == "kimaki turn routing"]


async def test_ai_routing_answers_when_the_model_is_too_slow(
    make_bot_rig: MakeRig, scripted_model: ScriptedModel
) -> None:
    async with make_bot_rig(turn_routing="ai", turn_routing_timeout=1.0) as rig:
        await rig.user_says("owner", "REPLY: first answer")
        thread = await rig.wait_thread()
        first = await rig.wait_bot_message(thread, is_footer)
        asked_before = len(scripted_model.requests)
        await rig.user_says("owner", "ROUTE:WAIT REPLY: answered anyway", thread)
        await rig.wait_bot_message(thread, is_footer, after=first)
        asked = routing_requests(scripted_model, asked_before)
        assert len(asked) == 1 and "ROUTE:WAIT" in asked[0]  # asked, gave up waiting, answered
        assert any(m.content == "⬥ answered anyway" for m in rig.bot_messages(thread))


async def test_turn_routing_per_channel_overrides_the_flag(
    make_bot_rig: MakeRig, scripted_model: ScriptedModel
) -> None:
    async with make_bot_rig() as rig:  # --turn-routing off
        owner, channel = rig.users.owner, rig.channel
        reply = await (await owner.slash(channel, "turn-routing", mode="heuristic")).wait_response(15)
        assert "Turn routing here is **heuristic**:" in reply.content
        await rig.restart_bot()  # the choice is the store's, not the process's
        await rig.user_says("owner", "REPLY: first answer")
        thread = await rig.wait_thread()
        first = await rig.wait_bot_message(thread, is_footer)
        await rig.user_says("owner", "thanks!", thread)
        await rig.user_says("owner", "REPLY: after thanks", thread)
        await rig.wait_bot_message(thread, is_footer, after=first)
        answers = [m.content for m in rig.bot_messages(thread) if m.content.startswith("⬥")]
        assert answers == ["⬥ first answer", "⬥ after thanks"]
        reply = await (await owner.slash(channel, "turn-routing", mode="default")).wait_response(15)
        assert "Turn routing here is **off** (the global default)" in reply.content
        assert rig.core.routing.mode(str(channel.id), default="ai") == "ai"  # unset: the default
