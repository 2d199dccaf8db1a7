"""Who may use the bot, as each user sees it in Discord, and the "Kimaki" role made at start-up."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from kimaki_tui.core.access import BLOCKED_TEXT, NEEDS_ROLE_TEXT
from kimaki_tui.testing.discord_twin import Actor, Perm
from tests.bot.rig import BotRig, is_footer

pytestmark = pytest.mark.opencode
MakeRig = Callable[..., AbstractAsyncContextManager[BotRig]]


async def outcome(rig: BotRig, actor: Actor, text: str) -> str:
    """ "thread" if the message started a session, the bot's reply text if refused, "" if ignored."""
    msg = await actor.send(rig.channel, text)
    # The sentinel is handled after `msg`, so by its answer the bot has dealt with `msg` too.
    sentinel = await rig.users.owner.send(rig.channel, f"REPLY: after {text}")
    sentinel_thread = await rig.wait_thread(predicate=lambda t: t.id == sentinel.id)
    await rig.wait_bot_message(sentinel_thread, is_footer)
    thread = next((t for t in rig.twin.threads(rig.channel) if t.id == msg.id), None)
    if thread is not None:
        await rig.wait_bot_message(thread, is_footer)
        return "thread"
    replies = [
        m
        for m in rig.bot_messages(rig.channel)
        if m.reference is not None and m.reference.get("message_id") == str(msg.id)
    ]
    return replies[0].content if replies else ""


async def test_access_matrix(bot_rig: BotRig) -> None:
    users = bot_rig.users
    assert await outcome(bot_rig, users.owner, "REPLY: owner") == "thread"
    assert await outcome(bot_rig, users.admin, "REPLY: admin") == "thread"
    assert await outcome(bot_rig, users.manager, "REPLY: manager") == "thread"
    assert await outcome(bot_rig, users.kimaki_user, "REPLY: role") == "thread"
    assert await outcome(bot_rig, users.member, "REPLY: member") == NEEDS_ROLE_TEXT
    assert await outcome(bot_rig, users.other_bot, "REPLY: bot without role") == ""
    # Without the members intent the bot learns roles from each message's member data.
    bot_rig.guild.give_role(users.other_bot, users.kimaki_role)
    assert await outcome(bot_rig, users.other_bot, "REPLY: bot with role") == "thread"
    bot_rig.guild.give_role(users.owner, users.no_kimaki_role)
    blocked = await users.owner.send(bot_rig.channel, "REPLY: blocked owner")
    reply = await bot_rig.wait_bot_message(
        bot_rig.channel,
        lambda m: m.reference is not None and m.reference.get("message_id") == str(blocked.id),
    )
    assert reply.content == BLOCKED_TEXT
    assert all(t.id != blocked.id for t in bot_rig.twin.threads(bot_rig.channel))


async def test_a_member_without_access_cannot_prompt_in_a_session_thread(bot_rig: BotRig) -> None:
    await bot_rig.user_says("owner", "REPLY: started")
    thread = await bot_rig.wait_thread()
    footer = await bot_rig.wait_bot_message(thread, is_footer)
    await bot_rig.user_says("member", "let me in", thread)
    refusal = await bot_rig.wait_bot_message(thread, lambda m: m.content == NEEDS_ROLE_TEXT, after=footer)
    await bot_rig.settle()
    assert bot_rig.bot_messages(thread)[-1].id == refusal.id


async def test_allow_all_users_lets_members_in_but_not_no_kimaki(make_bot_rig: MakeRig) -> None:
    async with make_bot_rig(allow_all_users=True) as rig:
        assert await outcome(rig, rig.users.member, "REPLY: member") == "thread"
        rig.guild.give_role(rig.users.member, rig.users.no_kimaki_role)
        assert await outcome(rig, rig.users.member, "REPLY: member again") == BLOCKED_TEXT


async def test_the_kimaki_role_is_created_when_missing(make_bot_rig: MakeRig) -> None:
    async with make_bot_rig(start=False) as rig:
        rig.users.kimaki_role.name = "Helpers"  # the guild has no access role yet
        await rig.start_bot()
        role = await rig.twin.wait_until(
            lambda: next((r for r in rig.guild.roles.values() if r.name == "Kimaki" and not r.managed), None),
            5,
            "the bot to create the Kimaki role",
        )
        assert role.permissions == 0 or not role.permissions & Perm.ADMINISTRATOR
        await rig.restart_bot()
        assert [r.name for r in rig.guild.roles.values()].count("Kimaki") == 2  # managed + ours, not three


async def test_without_manage_roles_the_role_is_not_created_and_the_bot_runs(
    make_bot_rig: MakeRig, caplog: pytest.LogCaptureFixture
) -> None:
    async with make_bot_rig(start=False) as rig:
        rig.users.kimaki_role.name = "Helpers"
        rig.guild.bot_role.permissions &= ~Perm.MANAGE_ROLES
        with caplog.at_level(logging.WARNING, "kimaki_tui.bot"):
            await rig.start_bot()
            await rig.twin.wait_until(
                lambda: any("cannot create the Kimaki role" in r.getMessage() for r in caplog.records),
                5,
                "the warning",
            )
        rig.twin.violations.clear()  # the refused role creation is the point of this test
        await rig.user_says("owner", "REPLY: still works")
        thread = await rig.wait_thread()
        await rig.wait_bot_message(thread, lambda m: "still works" in m.content)


async def test_guilds_get_commands_synced_at_start_and_on_join(bot_rig: BotRig) -> None:
    app = bot_rig.twin.app_id

    def synced(guild_id: int) -> bool:
        path = f"/api/v10/applications/{app}/guilds/{guild_id}/commands"
        return any(r.method == "PUT" and r.path == path and r.status == 200 for r in bot_rig.twin.requests)

    assert synced(bot_rig.guild.id)
    assert not any(
        r.method == "PUT" and r.path == f"/api/v10/applications/{app}/commands" for r in bot_rig.twin.requests
    )
    later = bot_rig.twin.add_guild("Joined Later", owner=bot_rig.users.owner)
    await bot_rig.twin.wait_until(lambda: synced(later.id) or None, 5, "commands synced to the new guild")
    await bot_rig.twin.wait_until(
        lambda: any(r.name == "Kimaki" and not r.managed for r in later.roles.values()) or None,
        5,
        "the Kimaki role in the new guild",
    )
