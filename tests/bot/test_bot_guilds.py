"""Only the operator's servers are served: a stranger's server gets no commands, no sessions and one
notice until it is allowed; team members' servers are served at once; a denied server loses its
commands and every interaction there goes unanswered. Also: no bot message pings anyone, and
known secrets never reach Discord."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from kimaki_tui.logs import MASK, register_secret
from kimaki_tui.testing.discord_twin import Guild, Message
from tests.bot.rig import BotRig, is_footer
from tests.harness import git_init

pytestmark = pytest.mark.opencode
MakeRig = Callable[..., AbstractAsyncContextManager[BotRig]]


def is_notice(message: Message) -> bool:
    return "kimaki is not active in this server yet" in message.content


@pytest.fixture
def gate_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="kimaki_tui.bot.guilds")
    return caplog


async def logged(rig: BotRig, caplog: pytest.LogCaptureFixture, text: str) -> None:
    """Wait for the bot to log `text` (the gate logs each event it drops, as it drops it)."""
    await rig.twin.wait_until(lambda: any(text in r.getMessage() for r in caplog.records), 10, repr(text))


async def strangers_server(rig: BotRig, project_dir: Path) -> tuple[Guild, Message]:
    """Mallory adds the public bot to her own server (and links a project channel there, as an
    older kimaki let her); the bot tells her server once that the operator must allow it."""
    mallory = rig.twin.add_user("mallory")
    guild = rig.twin.add_guild("Mallory's", owner=mallory, system_channel="general")
    channel = guild.add_text_channel("loot")
    rig.core.projects.link(str(channel.id), str(guild.id), str(project_dir))
    notice = await rig.wait_bot_message(guild.channel("general"), is_notice)
    return guild, notice


async def test_a_strangers_server_waits_for_the_operator(
    bot_rig: BotRig, project_dir: Path, gate_log: pytest.LogCaptureFixture
) -> None:
    guild, notice = await strangers_server(bot_rig, project_dir)
    mallory = bot_rig.twin.user("mallory")
    assert f"kimaki guild allow {guild.id}" in notice.content
    assert bot_rig.twin.commands(guild) == [] and bot_rig.core.guilds.status(guild.id) == "pending"
    with pytest.raises(LookupError):  # no command exists there, as on Discord
        await mallory.slash(guild.channel("loot"), "add-project", project="/")
    await mallory.send(guild.channel("loot"), "RUN_BASH: id -u")
    await logged(bot_rig, gate_log, f"ignored MESSAGE_CREATE from server {guild.id}")
    assert bot_rig.twin.threads(guild.channel("loot")) == [] and bot_rig.core.conversations.all() == []
    assert not any(role.name == "Kimaki" and not role.managed for role in guild.roles.values())

    # The notice is posted once, not at every start.
    await bot_rig.restart_bot()
    await logged(bot_rig, gate_log, f"({guild.id}) is still waiting for approval (notice already posted)")
    assert [m for m in bot_rig.twin.messages(guild.channel("general")) if is_notice(m)] == [notice]

    # The operator allows it (the control center or `kimaki guild allow`): it is served at once.
    bot_rig.core.guilds.allow(str(guild.id), by="test")
    await bot_rig.twin.wait_for_commands(guild, timeout=10)
    await mallory.send(guild.channel("loot"), "REPLY: served now")
    thread = await bot_rig.wait_thread(guild.channel("loot"))
    await bot_rig.wait_bot_message(thread, lambda m: m.content == "⬥ served now")


async def test_denying_a_server_removes_its_commands_and_answers_nothing(
    bot_rig: BotRig, gate_log: pytest.LogCaptureFixture
) -> None:
    await bot_rig.user_says("owner", "RUN_BASH: echo hi")
    thread = await bot_rig.wait_thread()
    prompt = await bot_rig.wait_bot_message(thread, lambda m: bool(m.components))
    [request] = bot_rig.core.approvals.pending_permissions()

    bot_rig.core.guilds.deny(str(bot_rig.guild.id), by="test")
    await bot_rig.twin.wait_until(lambda: bot_rig.twin.commands(bot_rig.guild) == [], 10, "commands removed")
    click = await bot_rig.users.owner.click(prompt, f"kimaki:perm:once:{request.request_id}")
    await logged(bot_rig, gate_log, f"ignored INTERACTION_CREATE from server {bot_rig.guild.id}")
    await bot_rig.users.owner.send(thread, "REPLY: ignored")
    await logged(bot_rig, gate_log, f"ignored MESSAGE_CREATE from server {bot_rig.guild.id}")
    assert click.callback_type is None
    assert bot_rig.core.approvals.pending_permissions() == [request]
    assert not any("ignored" in m.content for m in bot_rig.bot_messages(thread))
    bot_rig.core.guilds.allow(str(bot_rig.guild.id), by="test")  # let the rig end its turn cleanly
    await bot_rig.twin.wait_for_commands(bot_rig.guild, timeout=10)
    await bot_rig.core.approvals.answer_permission(request.request_id, "reject", by="test", origin="test")
    await bot_rig.wait_idle(thread)


async def test_team_members_servers_are_served_and_invitees_are_not(
    make_bot_rig: MakeRig, tmp_path: Path
) -> None:
    async with make_bot_rig(start=False) as rig:
        twin = rig.twin
        lead, teammate, invitee = twin.add_user("lead"), twin.add_user("teammate"), twin.add_user("invitee")
        twin.set_application_team(lead, [teammate], invited=[invitee])
        team_guild = twin.add_guild("Team's", owner=teammate)
        invitee_guild = twin.add_guild("Invitee's", owner=invitee, system_channel="general")
        await rig.start_bot()
        await twin.wait_for_commands(team_guild, timeout=10)
        await rig.wait_bot_message(invitee_guild.channel("general"), is_notice)
        assert twin.commands(invitee_guild) == []
        # The rig's own server belongs to its "owner", who is not in the team any more.
        assert rig.core.guilds.status(rig.guild.id) == "pending" and twin.commands(rig.guild) == []


async def test_the_queue_echo_and_every_post_ping_nobody(bot_rig: BotRig) -> None:
    member = bot_rig.users.member
    await bot_rig.user_says("owner", f"REPLY: hello <@{member.id}> and @everyone")
    thread = await bot_rig.wait_thread()
    await bot_rig.wait_bot_message(thread, is_footer)
    inter = await bot_rig.users.owner.slash(thread, "queue", message=f"ping <@{member.id}> please")
    echo = (await inter.wait_response(15)).message
    assert echo is not None and echo.content == f"» **owner:** ping <@{member.id}> please"
    assert echo.mentions == [member.id] and echo.pinged == []
    assert echo.allowed_mentions == {"parse": []}
    await bot_rig.wait_bot_message(thread, lambda m: f"Echo: ping <@{member.id}>" in m.content)
    posts = bot_rig.bot_messages(thread)
    assert any(m.mentions == [member.id] for m in posts)  # the answer repeats the mention...
    assert all(m.pinged == [] and m.allowed_mentions == {"parse": []} for m in posts)  # ...silently


async def test_known_secrets_never_reach_discord(bot_rig: BotRig) -> None:
    secret = "gemini-like-secret-0123456789"
    register_secret(secret)
    await bot_rig.user_says("owner", f"REPLY: the key is {secret}")
    thread = await bot_rig.wait_thread()
    answer = await bot_rig.wait_bot_message(thread, lambda m: m.content.startswith("⬥ the key is"))
    assert answer.content == f"⬥ the key is {MASK}"
    await bot_rig.wait_bot_message(thread, is_footer)
    inter = await bot_rig.users.owner.slash(thread, "queue", message=f"REPLY: again {secret}")
    echo = (await inter.wait_response(15)).message  # an interaction reply: the webhook path
    assert echo is not None and secret not in echo.content and MASK in echo.content
    await bot_rig.wait_bot_message(thread, lambda m: m.content == f"⬥ again {MASK}")
    assert not any(secret in m.content or secret in thread.name for m in bot_rig.twin.messages(thread))


async def test_add_project_refuses_system_directories(bot_rig: BotRig, tmp_path: Path) -> None:
    for path in ("/", "/etc", "/proc"):
        inter = await bot_rig.users.owner.slash(bot_rig.channel, "add-project", project=path)
        reply = (await inter.wait_response(15)).content
        assert f"`{path}` is" in reply and "run commands on the whole system" in reply
    ok = git_init(tmp_path / "fine")
    inter = await bot_rig.users.owner.slash(bot_rig.channel, "add-project", project=str(ok))
    assert "Created" in (await inter.wait_response(15)).content


async def test_message_txt_honours_both_size_limits(make_bot_rig: MakeRig) -> None:
    async with make_bot_rig(max_attachment=4096, max_inline_text=1024) as rig:
        secret_text = "SECRET-CONTENT " * 400  # 6000 bytes: over the 4 KB limit
        await rig.users.owner.send(rig.channel, "", attachments=[("message.txt", secret_text.encode(), None)])
        reply = await rig.wait_bot_message(rig.channel)
        assert reply.content == "⚠️ Left out: `message.txt` is too large (6 KB; the limit is 4 KB)"
        assert rig.twin.threads(rig.channel) == []

        body = "REPLY: MIDSIZE " + "word " * 400  # 2 KB: over the inline limit, under the size limit
        msg = await rig.users.owner.send(rig.channel, "", attachments=[("message.txt", body.encode(), None)])
        thread = await rig.wait_thread()
        await rig.wait_bot_message(thread, is_footer)
        saved = rig.settings.attachments_dir / str(msg.id) / "message.txt"
        assert saved.read_text() == body and (saved.stat().st_mode & 0o777) == 0o600
        assert not any("SECRET-CONTENT" in m.content for m in rig.twin.messages(rig.channel))
