"""DiscordTwin: a strict local fake of Discord's REST API (v10) and Gateway for the real discord.py client.

async with DiscordTwin(bot_token="t") as twin:
    alice = twin.add_user("alice")
    guild = twin.add_guild("Test", owner=alice)
    general = guild.add_text_channel("general")
    with twin.patch_discord():
        ... start a discord.py client with token "t" ...
        await alice.send(general, "hello")
        reply = await twin.wait_for_message(general, lambda m: m.author.bot)
    twin.assert_clean()
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from aiohttp import web

from . import (
    rest_cdn,
    rest_channels,
    rest_commands,
    rest_guilds,
    rest_identity,
    rest_interactions,
    rest_messages,
)
from .actors import Actor
from .errors import RequestRecord, UnexpectedRequest, Violation
from .faults import RestFaults
from .gateway import ConnectionRecord, Gateway
from .guild import Guild
from .model import Channel, ChannelType, Command, Message, Team, TypingEvent, User
from .patch import point_discord_at
from .permissions import DEFAULT_BOT
from .rate_limits import RateLimits
from .rest_app import API, RateLimitInjector, ResponseDelays, make_app
from .transcript import render_channel
from .world import World

log = logging.getLogger(__name__)
T = TypeVar("T")
ChannelRef = Channel | int


def _cid(channel: ChannelRef) -> int:
    return channel.id if isinstance(channel, Channel) else int(channel)


class DiscordTwin:
    def __init__(
        self,
        bot_token: str = "twin-bot-token",
        *,
        app_id: int | None = None,
        bot_name: str = "Kimaki",
        host: str = "127.0.0.1",
        port: int = 0,
        discord_limits: RateLimits | None = None,
    ) -> None:
        """`discord_limits`: answer like Discord's rate limits (headers, 429s); off by default."""
        self.world = World(bot_token=bot_token, bot_name=bot_name, app_id=app_id)
        self.gateway = Gateway(self.world)
        self.world.sink = self.gateway
        self.rate_limits = RateLimitInjector()
        self.discord_limits = discord_limits
        self.delays = ResponseDelays()
        self.rest_faults = RestFaults()
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> DiscordTwin:
        app = make_app(self.world, self.rate_limits, self.rest_faults, self.delays, self.discord_limits)
        for module in (
            rest_identity,
            rest_messages,
            rest_channels,
            rest_guilds,
            rest_commands,
            rest_interactions,
            rest_cdn,
        ):
            app.add_routes(module.routes)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway-resume", self.gateway.handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.world.base_url = f"http://{self._host}:{port}"
        self.gateway.resume_url = f"ws://{self._host}:{port}/gateway-resume"
        log.info("Discord twin listening on %s", self.world.base_url)
        return self

    async def stop(self) -> None:
        """Stop serving. Close the discord.py client first, or it will try to reconnect."""
        if self._runner is not None:
            await self.gateway.close_all()
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordTwin:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        return self.world.base_url + API

    @property
    def gateway_url(self) -> str:
        return self.world.base_url.replace("http://", "ws://") + "/gateway"

    def patch_discord(self) -> Any:
        """Context manager pointing discord.py at this twin (see patch.point_discord_at)."""
        return point_discord_at(self.api_url, self.gateway_url)

    def env(self) -> dict[str, str]:
        """The env vars the product honours to point discord.py here (for subprocess tests)."""
        return {"KIMAKI_DISCORD_API_URL": self.api_url, "KIMAKI_DISCORD_GATEWAY_URL": self.gateway_url}

    # -- identity and settings ------------------------------------------------------------------

    @property
    def bot_token(self) -> str:
        return self.world.token

    @property
    def app_id(self) -> int:
        return self.world.app_id

    @property
    def bot_user(self) -> User:
        return self.world.bot_user

    def configure(
        self,
        *,
        upload_limit: int | None = None,
        message_content_intent: bool | None = None,
        members_intent: bool | None = None,
        interaction_timeout: float | None = None,
        bot_public: bool | None = None,
    ) -> None:
        """Developer Portal switches and limits (privileged intents enabled and the bot Public by
        default, as for a new application)."""
        world = self.world
        if bot_public is not None:
            world.bot_public = bot_public
        if upload_limit is not None:
            world.upload_limit = upload_limit
        if message_content_intent is not None:
            world.message_content_enabled = message_content_intent
        if members_intent is not None:
            world.members_intent_enabled = members_intent
        if interaction_timeout is not None:
            world.interaction_timeout = interaction_timeout

    def set_application_owner(self, owner: Actor | User) -> None:
        """The person who created the application in the Developer Portal (the operator)."""
        self.world.app_owner = owner.user if isinstance(owner, Actor) else owner
        self.world.app_team = None

    def set_application_team(
        self,
        owner: Actor,
        members: Sequence[Actor] = (),
        *,
        invited: Sequence[Actor] = (),
        name: str = "Team",
    ) -> None:
        """Move the application to a Developer Portal team: `members` accepted, `invited` not yet."""
        self.world.app_team = Team(
            id=self.world.ids.next(),
            name=name,
            owner=owner.user,
            members=[m.user for m in members],
            invited=[m.user for m in invited],
        )

    # -- building the world ---------------------------------------------------------------------

    def add_user(self, name: str, *, bot: bool = False) -> Actor:
        user = User(id=self.world.ids.next(), name=name, bot=bot)
        self.world.users[user.id] = user
        return Actor(self.world, user)

    def user(self, name: str) -> Actor:
        """The actor for an existing user name, created on first use."""
        for user in self.world.users.values():
            if user.name == name and not user.bot:
                return Actor(self.world, user)
        return self.add_user(name)

    def add_guild(
        self,
        name: str,
        *,
        owner: Actor | User | None = None,
        bot_permissions: int = DEFAULT_BOT,
        system_channel: str | None = None,
    ) -> Guild:
        """A guild the bot is in (with its managed role); owner defaults to a new user 'owner'.
        `system_channel` names a text channel made with it that Discord posts joins to (a new
        server's #general)."""
        owner_user = (owner.user if isinstance(owner, Actor) else owner) or self.add_user("owner").user
        guild = Guild(self.world, name, owner_user, bot_permissions)
        if system_channel is not None:  # part of the server before the bot hears of it: no event
            guild.system_channel_id = guild.create_channel(ChannelType.TEXT, system_channel, emit=False).id
        self.world.guilds[guild.id] = guild
        self.gateway.announce_guild(guild)
        return guild

    # -- faults ---------------------------------------------------------------------------------

    def inject_429(
        self, pattern: str, count: int = 1, retry_after: float = 0.05, *, is_global: bool = False
    ) -> None:
        """Answer the next `count` requests matching `pattern` ("POST /channels/*/messages") with 429."""
        self.rate_limits.add(pattern, count, retry_after, is_global)

    def delay_responses(self, pattern: str, seconds: float) -> None:
        """Answer requests matching `pattern` ("POST /channels/*/messages") `seconds` late: the
        change happens (and its gateway events go out) at once, the bot learns of it late."""
        self.delays.rules.append((pattern, seconds))

    def hold_requests(self, pattern: str) -> asyncio.Event:
        """Keep requests matching `pattern` waiting, not yet applied, until the returned event is
        set (Discord slow to act, e.g. on a rate-limited route)."""
        released = asyncio.Event()
        self.delays.holds.append((pattern, released))
        return released

    def hold_answers(self, pattern: str) -> asyncio.Event:
        """Apply requests matching `pattern` at once (their gateway events go out) but keep their
        answers until the returned event is set (the client still waits, e.g. on a rate limit)."""
        released = asyncio.Event()
        self.delays.answer_holds.append((pattern, released))
        return released

    @property
    def rate_limited_requests(self) -> list[str]:
        return self.rate_limits.hits

    def refuse_rest(self, seconds: float) -> None:
        """For `seconds`, drop every REST request's connection unanswered (Discord unreachable)."""
        self.rest_faults.unreachable_for(seconds)

    @property
    def rest_unreachable(self) -> bool:
        return self.rest_faults.unreachable

    def inject_5xx(self, pattern: str, count: int = 1, status: int = 502) -> None:
        """Answer the next `count` requests matching `pattern` with `status` (a Discord outage)."""
        self.rest_faults.add_server_errors(pattern, count, status)

    def lose_answers(self, pattern: str, count: int = 1) -> None:
        """Handle the next `count` matching requests, then drop the connection before answering."""
        self.rest_faults.add_lost_answers(pattern, count)

    def fail_downloads(self, count: int = 1, status: int = 404) -> None:
        """Answer the next `count` attachment downloads (the CDN) with `status`."""
        self.rest_faults.add_download_errors(count, status)

    @property
    def dropped_requests(self) -> list[str]:
        return self.rest_faults.dropped

    async def drop_gateway(self, *, resumable: bool = True) -> None:
        await self.gateway.drop(resumable=resumable)

    def request_reconnect(self) -> None:
        self.gateway.request_reconnect()

    def forget_history(self) -> None:
        """Let the twin forget what it kept of the past — the gateway's replay logs, typing events,
        request log and nonces — so a long run measures the bot's memory, not the twin's."""
        self.gateway.forget_delivered()
        self.world.typing.clear()
        self.world.requests.clear()
        self.world.nonces.clear()

    def gateway_outage(self, *, resumable: bool = True) -> AbstractAsyncContextManager[None]:
        """Inside the block the bot is disconnected and cannot reconnect; it resumes after (or,
        not `resumable`, starts a new session that never receives the events of the gap)."""
        return self.gateway.outage(resumable=resumable)

    @property
    def gateway_connections(self) -> list[ConnectionRecord]:
        return self.gateway.records

    # -- records --------------------------------------------------------------------------------

    @property
    def violations(self) -> list[Violation]:
        return self.world.violations

    @property
    def unexpected_requests(self) -> list[UnexpectedRequest]:
        return self.world.unexpected

    @property
    def errors(self) -> list[str]:
        return self.world.errors

    @property
    def requests(self) -> list[RequestRecord]:
        return self.world.requests

    def assert_clean(self, *, allow_violations: bool = False) -> None:
        """Fail if the bot used routes the twin lacks, the twin crashed, or (by default) Discord refused."""
        problems = [f"unexpected: {u}" for u in self.unexpected_requests]
        problems += [f"twin error: {e.splitlines()[0]}" for e in self.errors]
        if not allow_violations:
            problems += [f"violation: {v}" for v in self.violations]
        if problems:
            raise AssertionError("Discord twin saw problems:\n" + "\n".join(problems))

    # -- queries --------------------------------------------------------------------------------

    def channel(self, channel_id: int) -> Channel:
        return self.world.channel(channel_id)

    def messages(self, channel: ChannelRef) -> list[Message]:
        return [m for m in self.world.channel_log(_cid(channel)) if not m.deleted]

    def transcript(self, channel: ChannelRef) -> str:
        return render_channel(self.world, _cid(channel))

    def typing_events(self, channel: ChannelRef) -> list[TypingEvent]:
        return [t for t in self.world.typing if t.channel_id == _cid(channel)]

    def threads(self, parent: ChannelRef) -> list[Channel]:
        pid = _cid(parent)
        return [
            c for c in self.world.channels.values() if c.parent_id == pid and c.is_thread and not c.deleted
        ]

    def commands(self, guild: Guild | None = None) -> list[Command]:
        return list(self.world.commands_for(guild.id if guild is not None else None))

    # -- waiting --------------------------------------------------------------------------------

    async def wait_until(
        self, check: Callable[[], T | None], timeout: float = 5.0, what: str = "condition", poll: float = 0.02
    ) -> T:
        """Wait for a truthy `check()`: re-checked on every twin change, and every `poll` seconds for
        conditions on the bot's side (its cache learns of events after the twin sends them)."""
        return await self.world.changes.wait_for(check, timeout, what, poll)

    async def wait_for_message(
        self,
        channel: ChannelRef,
        predicate: Callable[[Message], bool] | None = None,
        timeout: float = 5.0,
        *,
        after: Message | int | None = None,
    ) -> Message:
        """The first message in the channel (newer than `after`) matching `predicate`."""
        floor = after.id if isinstance(after, Message) else (after or 0)

        def check() -> Message | None:
            for msg in self.messages(channel):
                if msg.id > floor and (predicate is None or predicate(msg)):
                    return msg
            return None

        return await self.wait_until(check, timeout, f"a message in channel {_cid(channel)}")

    async def wait_for_thread(
        self, parent: ChannelRef, timeout: float = 5.0, *, predicate: Callable[[Channel], bool] | None = None
    ) -> Channel:
        """The first live thread under `parent` (matching `predicate`)."""

        def check() -> Channel | None:
            return next((t for t in self.threads(parent) if predicate is None or predicate(t)), None)

        return await self.wait_until(check, timeout, f"a thread under channel {_cid(parent)}")

    async def wait_for_commands(self, guild: Guild | None = None, timeout: float = 5.0) -> list[Command]:
        """Wait until the bot has synced at least one command in this scope."""
        return await self.wait_until(lambda: self.commands(guild), timeout, "the bot to sync commands")

    async def wait_for_typing(self, channel: ChannelRef, timeout: float = 5.0) -> TypingEvent:
        def check() -> TypingEvent | None:
            events = self.typing_events(channel)
            return events[-1] if events else None

        return await self.wait_until(check, timeout, f"typing in channel {_cid(channel)}")

    async def wait_for_connection(
        self, kind: str = "identify", count: int = 1, timeout: float = 5.0
    ) -> ConnectionRecord:
        """Wait for the `count`-th gateway connection that authenticated as `kind` (identify/resume)."""

        def check() -> ConnectionRecord | None:
            matching = [r for r in self.gateway.records if r.kind == kind]
            return matching[count - 1] if len(matching) >= count else None

        return await self.wait_until(check, timeout, f"gateway {kind} #{count}")
