"""The twin's model of Discord's rate limits: per-channel buckets, the global rate, the headers
that let discord.py wait instead of being refused, and the floor a load test compares with."""

from __future__ import annotations

import discord

from kimaki_tui.testing.discord_twin import DiscordTwin
from kimaki_tui.testing.discord_twin.rate_limits import RULES, RateLimits, floor_seconds, rule
from tests.twin.bot import TwinTestBot
from tests.twin.conftest import running


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_channel_bucket_counts_down_refuses_then_resets() -> None:
    clock = FakeClock()
    limits = RateLimits(clock=clock, wall=lambda: 1_000.0)
    remaining = []
    for _ in range(5):
        headers, retry, _ = limits.check("POST", "/channels/7/messages")
        assert retry is None
        remaining.append(headers["X-RateLimit-Remaining"])
    assert remaining == ["4", "3", "2", "1", "0"]
    assert headers["X-RateLimit-Reset-After"] == "5.000" and headers["X-RateLimit-Bucket"] == "message-create"
    clock.now += 2
    _, retry, is_global = limits.check("POST", "/channels/7/messages")
    assert retry == 3.0 and not is_global
    assert limits.check("POST", "/channels/8/messages")[1] is None  # another channel, another bucket
    assert limits.check("POST", "/channels/7/typing")[1] is None  # another route, another bucket
    clock.now += 3
    assert limits.check("POST", "/channels/7/messages")[1] is None
    assert limits.refused == ["message-create:7 POST /channels/7/messages"]


def test_the_global_rate_spans_every_route_but_interactions() -> None:
    clock = FakeClock()
    limits = RateLimits(clock=clock, global_per_second=3)
    for n in range(3):
        assert limits.check("GET", f"/channels/{n}")[1] is None
    assert limits.check("POST", "/interactions/1/tok/callback")[1] is None
    headers, retry, is_global = limits.check("GET", "/users/@me")
    assert is_global and retry == 1.0 and headers == {}
    clock.now += 1
    assert limits.check("GET", "/users/@me")[1] is None


def test_the_floor_is_the_slowest_bucket_or_the_global_rate() -> None:
    twelve = [("POST", "/channels/1/messages")] * 12  # 5 now, 5 after 5 s, 2 after 10 s
    assert floor_seconds(twelve) == 10.0
    spread = [("POST", f"/channels/{n}/messages") for n in range(120)]  # 50 a second
    assert floor_seconds(spread) == 2.0
    assert floor_seconds([]) == 0.0
    assert floor_seconds([("POST", "/channels/1/typing")] * 6) == 5.0


async def test_discord_py_waits_on_the_headers_instead_of_being_refused() -> None:
    fast = (rule("message-create", "POST", RULES[0].pattern.pattern, limit=2, window=0.3),)
    async with DiscordTwin(bot_token="limits-token", discord_limits=RateLimits(rules=fast)) as twin:
        guild = twin.add_guild("Limits", owner=twin.add_user("olivia"))
        general = guild.add_text_channel("general")
        bot = TwinTestBot(guild.id)
        async with running(twin, bot):
            channel = bot.get_channel(general.id)
            assert isinstance(channel, discord.TextChannel)
            for n in range(7):
                await channel.send(f"message {n}")
        assert twin.discord_limits is not None and twin.discord_limits.refused == []
        assert [m.content for m in twin.messages(general)] == [f"message {n}" for n in range(7)]
        twin.assert_clean()


def test_a_threads_posts_count_from_when_it_could_be_created() -> None:
    """Seven threads from one channel's messages: the sixth and seventh wait a window; their posts
    (six each: two windows) cannot start before that."""
    made = [("POST", f"/channels/1/messages/{100 + n}/threads") for n in range(7)]
    posts = [("POST", f"/channels/{100 + n}/messages") for n in range(7) for _ in range(6)]
    assert floor_seconds(made + posts) == 5.0 + 5.0
    assert floor_seconds(made) == 5.0
