"""Where kimaki listens and who must hold which role, as the operator narrows it: a channel
allow-list, one category, a required role (on top of the Kimaki role rules)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Any

import pytest

from kimaki_tui.bot.access import OUT_OF_SCOPE_TEXT
from kimaki_tui.core.access import NEEDS_ROLE_TEXT
from kimaki_tui.testing.discord_twin import Actor, Channel, Message
from tests.bot.rig import BotRig, is_footer

pytestmark = pytest.mark.opencode
MakeRig = Callable[..., AbstractAsyncContextManager[BotRig]]


def narrow(rig: BotRig, **discord: Any) -> None:
    rig.settings = replace(rig.settings, discord=replace(rig.settings.discord, **discord))


def replies_to(message: Message, message_id: int) -> bool:
    return message.reference is not None and message.reference.get("message_id") == str(message_id)


def second_channel(rig: BotRig) -> Channel:
    """Another linked channel of the same project, outside the rig's category."""
    outside = rig.guild.add_text_channel("elsewhere")
    rig.core.projects.link(str(outside.id), str(rig.guild.id), str(rig.project_dir))
    return outside


async def answered(rig: BotRig, actor: Actor, channel: Channel, text: str, *, witness: Channel) -> bool:
    """Whether `text` opened an answered thread; decided once a later message in `witness` (a
    channel that is listened to) has its answer, so an ignored message is known to be ignored."""
    msg = await actor.send(channel, text)
    sentinel = await rig.users.owner.send(witness, f"REPLY: after {text}")
    witnessed = await rig.wait_thread(parent=witness, predicate=lambda t: t.id == sentinel.id)
    await rig.wait_bot_message(witnessed, is_footer)
    thread = next((t for t in rig.twin.threads(channel) if t.id == msg.id), None)
    if thread is None:
        replies = [m for m in rig.bot_messages(channel) if replies_to(m, msg.id)]
        assert replies == [], "an ignored message got a reply"
        return False
    await rig.wait_bot_message(thread, is_footer)
    return True


async def test_a_category_limits_where_kimaki_listens(make_bot_rig: MakeRig) -> None:
    async with make_bot_rig(start=False) as rig:
        outside = second_channel(rig)
        narrow(rig, category=str(rig.category.id))
        await rig.start_bot()
        owner = rig.users.owner
        assert await answered(rig, owner, rig.channel, "REPLY: inside", witness=rig.channel)
        assert not await answered(rig, owner, outside, "REPLY: outside", witness=rig.channel)
        refused = await (await owner.slash(outside, "session", prompt="hi")).wait_response(15)
        assert refused.ephemeral and refused.content == OUT_OF_SCOPE_TEXT
        assert rig.twin.threads(outside) == []


async def test_a_channel_allow_list_covers_the_channel_and_its_threads(make_bot_rig: MakeRig) -> None:
    async with make_bot_rig(start=False) as rig:
        outside = second_channel(rig)
        narrow(rig, allowed_channels=f" {outside.id} ,")
        await rig.start_bot()
        owner = rig.users.owner
        assert not await answered(rig, owner, rig.channel, "REPLY: not listed", witness=outside)
        assert await answered(rig, owner, outside, "REPLY: listed", witness=outside)
        thread = rig.twin.threads(outside)[0]
        footer = rig.bot_messages(thread)[-1]
        await rig.user_says("owner", "REPLY: answered in its thread", thread)
        await rig.wait_bot_message(thread, is_footer, after=footer)
        assert any(m.content == "⬥ answered in its thread" for m in rig.bot_messages(thread))


async def test_a_required_role_is_needed_on_top_of_the_kimaki_role(make_bot_rig: MakeRig) -> None:
    async with make_bot_rig(start=False) as rig:
        deployers = rig.guild.add_role("deployers")
        rig.guild.give_role(rig.users.owner, deployers)  # the witness's messages are answered
        narrow(rig, required_role=str(deployers.id))
        await rig.start_bot()
        user = rig.users.kimaki_user
        msg = await user.send(rig.channel, "REPLY: without it")
        refusal = await rig.wait_bot_message(
            rig.channel, lambda m: replies_to(m, msg.id)
        )
        needed = f"You need the <@&{deployers.id}> role to use kimaki here — ask a server admin."
        assert refusal.content == needed
        assert rig.twin.threads(rig.channel) == []
        rig.guild.give_role(user, deployers)
        assert await answered(rig, user, rig.channel, "REPLY: with it", witness=rig.channel)
        member = rig.users.member  # the role alone does not replace the Kimaki role rules
        rig.guild.give_role(member, deployers)
        denied = await member.send(rig.channel, "REPLY: role but no Kimaki role")
        reply = await rig.wait_bot_message(
            rig.channel, lambda m: replies_to(m, denied.id)
        )
        assert reply.content == NEEDS_ROLE_TEXT
