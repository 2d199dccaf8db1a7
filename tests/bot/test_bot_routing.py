"""`--turn-routing heuristic` in a shared thread: thanks and side chatter get no answer but reach
the session as context; a request is answered; with routing off every message is answered."""

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
