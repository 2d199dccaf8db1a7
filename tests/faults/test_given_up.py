"""Once OpenCode has been given up on (a crash loop), a new message is answered at once with why
and what to do, instead of waiting for a server that will not come back; after a restart of
OpenCode messages are answered again."""

from __future__ import annotations

import pytest

from kimaki_tui.opencode.status import ServerStatus
from tests.bot.rig import BotRig

pytestmark = pytest.mark.opencode

GAVE_UP = "OpenCode crashed 5 times within 60 s; gave up restarting. Last: exited with code 1"


async def test_a_message_after_opencode_was_given_up_on_is_told_why_at_once(bot_rig: BotRig) -> None:
    await bot_rig.user_says("owner", "REPLY: first")
    thread = await bot_rig.wait_thread()
    await bot_rig.wait_bot_message(thread, lambda m: m.content == "⬥ first")
    await bot_rig.wait_idle(thread)
    # What the supervisor reports when its crash budget is spent.
    bot_rig.core.server.report(ServerStatus("failed", detail=GAVE_UP))
    await bot_rig.user_says("owner", "REPLY: are you there?", thread)
    reply = await bot_rig.wait_bot_message(thread, lambda m: "given up" in m.content)
    assert GAVE_UP in reply.content and "/restart-opencode-server" in reply.content
    session_id = bot_rig.core.conversations.runtime(str(thread.id)).session_id
    assert session_id is not None
    sent = await bot_rig.core_rig.client.messages(session_id, directory=bot_rig.project_dir)
    assert len([m for m in sent if m.info.role == "user"]) == 1 and "are you there" not in repr(sent)
    # A channel message is told too, in the thread it starts.
    await bot_rig.user_says("owner", "REPLY: a new one")
    new = await bot_rig.wait_thread(predicate=lambda c: c.name == "REPLY: a new one")
    await bot_rig.wait_bot_message(new, lambda m: "given up" in m.content)
    # Restarted (by /restart-opencode-server): answered again.
    bot_rig.core.server.report(ServerStatus("healthy", detail="restarted"))
    await bot_rig.user_says("owner", "REPLY: back", thread)
    await bot_rig.wait_bot_message(thread, lambda m: m.content == "⬥ back")
    await bot_rig.wait_idle(thread)
