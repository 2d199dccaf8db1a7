"""The Discord twin against the real discord.py client: login, messages, intents, threads, components,
slash commands, limits, permissions, rate limits, gateway resume and strictness about unknown routes.
"""

from __future__ import annotations

import discord
import pytest

from kimaki_tui.testing.discord_twin import DiscordTwin, Perm
from kimaki_tui.testing.discord_twin.model import Channel
from tests.harness import wait_until

from .bot import ApprovalView, ModelView, TwinTestBot
from .conftest import Scene, running


async def test_login_ready_and_guild_cache(twin: DiscordTwin, scene: Scene) -> None:
    guild = scene.guild
    general = scene.general
    bot = TwinTestBot(guild.id)
    async with running(twin, bot):
        assert bot.user is not None and bot.user.id == twin.bot_user.id
        cached = bot.get_guild(guild.id)
        assert cached is not None and cached.name == "Test Guild"
        channel = cached.get_channel(general.id)
        assert isinstance(channel, discord.TextChannel) and channel.topic == "chat"
        assert cached.me.guild_permissions.manage_channels
        assert [c.kind for c in twin.gateway_connections] == ["identify"]


async def test_bot_sends_edits_deletes_and_sees_its_own_messages(twin: DiscordTwin, scene: Scene) -> None:
    guild = scene.guild
    general = scene.general
    bot = TwinTestBot(guild.id)
    async with running(twin, bot):
        channel = bot.get_channel(general.id)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("hello")
        await sent.edit(content="hello world\nsecond line")
        doomed = await channel.send("temporary")
        await doomed.delete()
        assert twin.transcript(general) == "Kimaki: hello world\n  second line"
        own = await bot.wait_seen(lambda m: m.id == sent.id)
        assert own.author.id == twin.bot_user.id


@pytest.mark.parametrize("intent", [True, False])
async def test_message_content_needs_the_intent_unless_mentioned(
    twin: DiscordTwin, scene: Scene, intent: bool
) -> None:
    alice = scene.alice
    guild = scene.guild
    general = scene.general
    bot = TwinTestBot(guild.id, message_content=intent)
    async with running(twin, bot):
        plain = await alice.send(general, "just chatting")
        seen = await bot.wait_seen(lambda m: m.id == plain.id)
        assert seen.content == ("just chatting" if intent else "")
        mention = await alice.send(general, f"{twin.bot_user.mention} hi")
        seen = await bot.wait_seen(lambda m: m.id == mention.id)
        assert seen.content == f"{twin.bot_user.mention} hi"


async def test_thread_from_message_has_the_message_id(twin: DiscordTwin, scene: Scene) -> None:
    alice = scene.alice
    guild = scene.guild
    general = scene.general
    bot = TwinTestBot(guild.id)
    async with running(twin, bot):
        starter = await alice.send(general, "!thread")
        thread = await twin.wait_for_thread(general)
        assert thread.id == starter.id
        await twin.wait_for_message(thread, lambda m: m.author.bot)
        assert twin.transcript(thread) == "Kimaki: thread started"
        assert twin.transcript(general) == "alice: !thread\n  [thread: Session]"
        assert bot.get_channel(thread.id) is not None


async def test_button_click_reaches_the_view_and_edits_the_message(twin: DiscordTwin, scene: Scene) -> None:
    alice = scene.alice
    guild = scene.guild
    general = scene.general
    bot = TwinTestBot(guild.id)
    async with running(twin, bot):
        channel = bot.get_channel(general.id)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("Run `rm -rf build`?", view=ApprovalView())
        assert twin.transcript(general) == "Kimaki: Run `rm -rf build`?\n  [button: Accept] [button: Deny]"
        message = twin.messages(general)[0]
        assert message.id == sent.id
        response = await (await alice.click(message, "approval:accept")).wait_response()
        assert response.type == 7 and response.content == "Accepted by alice"
        assert twin.transcript(general) == "Kimaki: Accepted by alice"
        with pytest.raises(LookupError):
            await alice.click(message, "approval:deny")  # the view is gone


async def test_select_and_ephemeral_reply(twin: DiscordTwin, scene: Scene) -> None:
    alice = scene.alice
    guild = scene.guild
    general = scene.general
    bot = TwinTestBot(guild.id)
    async with running(twin, bot):
        channel = bot.get_channel(general.id)
        assert isinstance(channel, discord.TextChannel)
        await channel.send("Pick a model", view=ModelView())
        message = await twin.wait_for_message(general)
        with pytest.raises(ValueError):
            await alice.select(message, "model", ["llama"])
        response = await (await alice.select(message, "model", ["claude"])).wait_response()
        assert response.content == "model: claude" and response.ephemeral
        assert "Kimaki (ephemeral to alice): model: claude" in twin.transcript(general)


async def test_slash_commands_with_options_and_subcommands(twin: DiscordTwin, scene: Scene) -> None:
    alice = scene.alice
    guild = scene.guild
    general = scene.general
    bot = TwinTestBot(guild.id)
    async with running(twin, bot):
        assert {c.name for c in twin.commands(guild)} >= {"queue", "resume", "session"}
        response = await (await alice.slash(general, "queue", message="hi", priority=2)).wait_response()
        assert response.content == "queued: hi (priority 2)"
        assert response.message is not None and response.message.type == 20
        listed = await (await alice.slash(general, "session list", limit=1)).wait_response()
        assert listed.content == "alpha-session"
        with pytest.raises(ValueError, match="unknown option"):
            await alice.slash(general, "queue", text="hi")
        with pytest.raises(ValueError, match="required"):
            await alice.slash(general, "queue")
        with pytest.raises(LookupError, match="never synced"):
            await alice.slash(general, "nonexistent")


async def test_autocomplete_returns_the_bots_choices(twin: DiscordTwin, scene: Scene) -> None:
    alice = scene.alice
    guild = scene.guild
    general = scene.general
    bot = TwinTestBot(guild.id)
    async with running(twin, bot):
        choices = await alice.autocomplete(general, "resume", "session", "alp")
        assert [c["value"] for c in choices] == ["alpha-session", "alpine"]


async def test_modal_submit(twin: DiscordTwin, scene: Scene) -> None:
    alice = scene.alice
    guild = scene.guild
    general = scene.general
    bot = TwinTestBot(guild.id)
    async with running(twin, bot):
        opened = await alice.slash(general, "feedback")
        assert (await opened.wait_response()).modal is not None
        with pytest.raises(ValueError, match="required"):
            await alice.submit_modal(opened, None, {})
        submitted = await alice.submit_modal(opened, None, {"feedback:text": "great tool"})
        assert (await submitted.wait_response()).content == "thanks: great tool"


async def test_deferred_thinking_then_followup_edits_the_loading_message(
    twin: DiscordTwin, scene: Scene
) -> None:
    alice = scene.alice
    guild = scene.guild
    general = scene.general
    bot = TwinTestBot(guild.id)
    async with running(twin, bot):
        response = await (await alice.slash(general, "slow")).wait_response()
        assert response.type == 5 and response.content == "done thinking"
        assert twin.transcript(general) == "Kimaki: done thinking"


async def test_interaction_permissions_come_from_roles(twin: DiscordTwin, scene: Scene) -> None:
    alice = scene.alice
    guild = scene.guild
    general = scene.general
    manager = twin.add_user("manny")
    guild.add_member(manager, roles=[guild.add_role("Managers", Perm.MANAGE_GUILD)])
    bot = TwinTestBot(guild.id)
    async with running(twin, bot):
        plain = await (await alice.slash(general, "whoami")).wait_response()
        managing = await (await manager.slash(general, "whoami")).wait_response()
        owner = await (await twin.user("olivia").slash(general, "whoami")).wait_response()
        assert plain.content == "admin=False manage=False"
        assert managing.content == "admin=False manage=True"
        assert owner.content == "admin=True manage=True"


async def test_limits_are_enforced_and_recorded(twin: DiscordTwin, scene: Scene) -> None:
    guild = scene.guild
    general = scene.general
    bot = TwinTestBot(guild.id)
    async with running(twin, bot):
        channel = bot.get_channel(general.id)
        assert isinstance(channel, discord.TextChannel)
        with pytest.raises(discord.HTTPException) as too_long:
            await channel.send("x" * 2001)
        assert too_long.value.status == 400 and too_long.value.code == 50035
        sent = await channel.send("ok")
        with pytest.raises(discord.HTTPException):
            await sent.create_thread(name="n" * 101)
        assert [v.fields for v in twin.violations] == [["content"], ["name"]]
        assert twin.transcript(general) == "Kimaki: ok"
        twin.violations.clear()


async def test_forbidden_when_the_bot_role_lacks_send_messages(twin: DiscordTwin, scene: Scene) -> None:
    guild = scene.guild
    general = scene.general
    guild.set_overwrite(general, guild.bot_role, deny=Perm.SEND_MESSAGES)
    bot = TwinTestBot(guild.id)
    async with running(twin, bot):
        channel = bot.get_channel(general.id)
        assert isinstance(channel, discord.TextChannel)
        assert not channel.permissions_for(channel.guild.me).send_messages
        with pytest.raises(discord.Forbidden) as denied:
            await channel.send("hello")
        assert denied.value.code == 50013
        assert [v.kind for v in twin.violations] == ["permission"]
        twin.violations.clear()


async def test_injected_429_is_retried_and_the_message_arrives_once(twin: DiscordTwin, scene: Scene) -> None:
    guild = scene.guild
    general = scene.general
    bot = TwinTestBot(guild.id)
    async with running(twin, bot):
        channel = bot.get_channel(general.id)
        assert isinstance(channel, discord.TextChannel)
        twin.inject_429("POST /channels/*/messages", count=1, retry_after=0.05)
        await channel.send("after the limit")
        assert len(twin.rate_limited_requests) == 1
        posts = [r.status for r in twin.requests if r.method == "POST" and r.path.endswith("/messages")]
        assert posts == [429, 200]
        assert twin.transcript(general) == "Kimaki: after the limit"


async def test_gateway_outage_resumes_and_replays_missed_events(twin: DiscordTwin, scene: Scene) -> None:
    alice = scene.alice
    guild = scene.guild
    general = scene.general
    bot = TwinTestBot(guild.id)
    async with running(twin, bot):
        async with twin.gateway_outage():
            missed = await alice.send(general, "sent while the bot was away")
        seen = await bot.wait_seen(lambda m: m.id == missed.id)
        assert seen.content == "sent while the bot was away"
        resumed = await twin.wait_for_connection("resume")
        assert resumed.path == "/gateway-resume"
        await alice.send(general, "!ping")
        await twin.wait_for_message(general, lambda m: m.content == "pong")


async def test_invalid_session_makes_the_client_identify_again(twin: DiscordTwin, scene: Scene) -> None:
    alice = scene.alice
    guild = scene.guild
    general = scene.general
    bot = TwinTestBot(guild.id)
    async with running(twin, bot):
        await twin.drop_gateway(resumable=False)
        await twin.wait_for_connection("identify", count=2)
        await bot.wait_ready(2)
        await alice.send(general, "!ping")
        await twin.wait_for_message(general, lambda m: m.content == "pong")


async def test_unknown_routes_are_recorded(twin: DiscordTwin, scene: Scene) -> None:
    guild = scene.guild
    bot = TwinTestBot(guild.id)
    async with running(twin, bot):
        route = discord.http.Route("GET", "/guilds/{guild_id}/bans", guild_id=guild.id)
        with pytest.raises(discord.NotFound):
            await bot.http.request(route)
        assert [u.path for u in twin.unexpected_requests] == [f"/api/v10/guilds/{guild.id}/bans"]
        twin.unexpected_requests.clear()


async def test_attachments_round_trip_through_the_cdn(twin: DiscordTwin, scene: Scene) -> None:
    alice = scene.alice
    guild = scene.guild
    general = scene.general
    bot = TwinTestBot(guild.id)
    async with running(twin, bot):
        await alice.send(general, "!echo-file", attachments=[("notes.txt", b"hello file", "text/plain")])
        reply = await twin.wait_for_message(general, lambda m: m.author.bot)
        assert reply.content == "got 10 bytes" and reply.attachments[0].data == b"hello file"
        assert "  [attachment: echo.txt]" in twin.transcript(general)


async def test_uploads_over_the_limit_get_413(twin: DiscordTwin, scene: Scene) -> None:
    guild = scene.guild
    general = scene.general
    twin.configure(upload_limit=1000)
    bot = TwinTestBot(guild.id)
    async with running(twin, bot):
        channel = bot.get_channel(general.id)
        assert isinstance(channel, discord.TextChannel)
        import io

        with pytest.raises(discord.HTTPException) as too_big:
            await channel.send(file=discord.File(io.BytesIO(b"x" * 2000), "big.bin"))
        assert too_big.value.status == 413
        twin.violations.clear()


async def test_typing_and_bot_made_channels_and_roles(twin: DiscordTwin, scene: Scene) -> None:
    guild = scene.guild
    bot = TwinTestBot(guild.id)
    async with running(twin, bot):
        cached = bot.get_guild(guild.id)
        assert cached is not None
        category = await cached.create_category("Kimaki")
        project = await cached.create_text_channel("My Project", category=category, topic="a project")
        role = await cached.create_role(name="Kimaki", permissions=discord.Permissions(send_messages=True))
        assert project.name == "my-project" and project.category_id == category.id
        assert guild.channel("my-project").parent_id == category.id
        # The bot's own managed role is also called "Kimaki" (the bot's name), as on Discord.
        made = [r for r in guild.roles.values() if r.name == "Kimaki" and not r.managed]
        assert [r.id for r in made] == [role.id] and guild.bot_role.name == "Kimaki"
        await twin.wait_until(lambda: cached.get_role(role.id))
        async with project.typing():
            await twin.wait_for_typing(project.id)
        assert len(twin.typing_events(project.id)) == 1


async def test_a_person_typing_reaches_the_bot_as_a_member_in_that_channel(
    twin: DiscordTwin, scene: Scene
) -> None:
    bot = TwinTestBot(scene.guild.id)
    async with running(twin, bot):
        await scene.alice.start_typing(scene.general)
        channel_id, user = await twin.wait_until(lambda: next(iter(bot.typing), None))
        assert channel_id == scene.general.id
        assert isinstance(user, discord.Member) and user.id == scene.alice.id
        assert [(t.channel_id, t.user_id) for t in twin.typing_events(scene.general)] == [
            (scene.general.id, scene.alice.id)
        ]


async def test_voice_messages_and_guilds_joined_later(twin: DiscordTwin, scene: Scene) -> None:
    bot = TwinTestBot(scene.guild.id)
    async with running(twin, bot):
        ogg = b"OggS" + bytes(60)
        voice = await scene.alice.send(
            scene.general, attachments=[("voice-message.ogg", ogg, "audio/ogg")], voice=True
        )
        seen = await bot.wait_seen(lambda m: m.id == voice.id)
        assert seen.flags.voice and seen.attachments[0].is_voice_message()
        assert await seen.attachments[0].read() == ogg
        second = twin.add_guild("Second Guild", owner=scene.alice)
        joined = await twin.wait_until(lambda: bot.get_guild(second.id))
        assert joined.name == "Second Guild"


async def test_bot_posting_in_an_archived_thread_unarchives_it(twin: DiscordTwin, scene: Scene) -> None:
    bot = TwinTestBot(scene.guild.id)
    async with running(twin, bot):
        await scene.alice.send(scene.general, "!thread")
        thread = await twin.wait_for_thread(scene.general)
        await twin.wait_for_message(thread, lambda m: m.author.bot)
        scene.guild.archive_thread(thread)

        # discord.py drops archived threads from its cache; a bot must fetch them to post again.
        await twin.wait_until(lambda: bot.get_channel(thread.id) is None)
        fetched = await bot.fetch_channel(thread.id)
        assert isinstance(fetched, discord.Thread) and fetched.archived
        await fetched.send("back again")
        assert not thread.archived and twin.transcript(thread).endswith("Kimaki: back again")


async def test_archived_threads_are_listed_newest_first_page_by_page(twin: DiscordTwin, scene: Scene) -> None:
    bot = TwinTestBot(scene.guild.id)
    async with running(twin, bot):
        threads: list[Channel] = []
        for _ in range(3):
            await scene.alice.send(scene.general, "!thread")
            thread = await twin.wait_for_thread(scene.general, predicate=lambda t: t not in threads)
            await twin.wait_for_message(thread, lambda m: m.author.bot)  # posting would unarchive it
            threads.append(thread)
        for thread in threads:
            scene.guild.archive_thread(thread)
        channel = bot.get_channel(scene.general.id)
        assert isinstance(channel, discord.TextChannel)
        # limit 2 per request: discord.py follows has_more with `before` = the last one's archive time.
        listed = [t.id async for t in channel.archived_threads(limit=None)]
        assert listed == [t.id for t in reversed(threads)]
        paged = [r for r in twin.requests if r.path.endswith("/threads/archived/public")]
        assert len(paged) == 1  # 100 a page: all in one
        first_two = [t.id async for t in channel.archived_threads(limit=2)]
        assert first_two == [threads[2].id, threads[1].id]


@pytest.mark.parametrize("members", [True, False])
async def test_members_intent_controls_the_member_cache(
    twin: DiscordTwin, scene: Scene, members: bool
) -> None:
    bot = TwinTestBot(scene.guild.id, members=members)
    async with running(twin, bot):
        cached = bot.get_guild(scene.guild.id)
        assert cached is not None
        assert (cached.get_member(scene.alice.id) is not None) == members


async def test_privileged_intents_must_be_enabled_in_the_portal(twin: DiscordTwin, scene: Scene) -> None:
    twin.configure(message_content_intent=False)
    bot = TwinTestBot(scene.guild.id, message_content=True)
    with pytest.raises(discord.PrivilegedIntentsRequired):
        async with running(twin, bot):
            pass


async def test_reconnect_opcode_resumes_the_session(twin: DiscordTwin, scene: Scene) -> None:
    bot = TwinTestBot(scene.guild.id)
    async with running(twin, bot):
        twin.request_reconnect()
        await twin.wait_for_connection("resume")
        await scene.alice.send(scene.general, "!ping")
        await twin.wait_for_message(scene.general, lambda m: m.content == "pong")


async def test_heartbeat_latency_is_a_round_trip_not_an_interval(twin: DiscordTwin, scene: Scene) -> None:
    """discord.py stamps a heartbeat's send time after the send returns (in its keep-alive thread);
    an ack that beats that stamp measures a whole interval. The twin acks after a round trip, as
    Discord does, so the latency the bot reports is a round trip."""
    twin.gateway.heartbeat_interval_ms = 250  # short beats: a few of them within the test
    bot = TwinTestBot(scene.guild.id)
    async with running(twin, bot):
        seen: dict[float, float] = {}  # ack time -> the latency measured at it

        def acks() -> int | None:
            keep_alive = bot.ws._keep_alive
            if keep_alive is not None and keep_alive._last_ack > 0:
                seen[keep_alive._last_ack] = bot.latency
            return len(seen) if len(seen) >= 8 else None

        await wait_until(acks, 20.0, 0.01, "eight heartbeat acks")
        # A round trip (the twin's ack delay), never the interval (0.25 s) plus that.
        assert all(latency < 0.25 for latency in seen.values()), seen
