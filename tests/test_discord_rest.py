"""The one Discord REST client (CLI and wizard) against the Discord twin: answers, errors with
hints, 429s waited out and retried, and what the CLI prints when Discord says no."""

from __future__ import annotations

import asyncio
import contextlib
import io
import socket
from pathlib import Path

import pytest

from kimaki_tui.cli.main import main
from kimaki_tui.discord_rest import DiscordApiError, DiscordRest
from kimaki_tui.testing.discord_twin import DiscordTwin

TOKEN = "MTA5ODc2NTQzMjEwOTg3NjU0Mw.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_answers_come_back_as_json() -> None:
    async with DiscordTwin(bot_token=TOKEN, bot_name="Kimaki") as twin:
        guild = twin.add_guild("Home", owner=twin.add_user("owner"))
        channel = guild.add_text_channel("general")
        async with DiscordRest(TOKEN, base_url=twin.api_url) as rest:
            assert (await rest.me())["username"] == "Kimaki"
            assert [g["id"] for g in await rest.guilds()] == [str(guild.id)]
            message = await rest.send_message(str(channel.id), {"content": "hello"}, [("a.txt", b"A")])
        sent = twin.world.messages[int(message["id"])]
        assert sent.content == "hello" and [a.filename for a in sent.attachments] == ["a.txt"]
        twin.assert_clean()


async def test_a_rejected_token_and_an_unknown_channel_are_errors_with_hints() -> None:
    async with DiscordTwin(bot_token=TOKEN) as twin:
        async with DiscordRest("not.the.token", base_url=twin.api_url) as rest:
            with pytest.raises(DiscordApiError) as rejected:
                await rest.me()
        assert rejected.value.status == 401 and "HTTP 401" in str(rejected.value)
        assert "KIMAKI_BOT_TOKEN" in rejected.value.hint
        assert "not.the.token" not in str(rejected.value)

        async with DiscordRest(TOKEN, base_url=twin.api_url) as rest:
            with pytest.raises(DiscordApiError) as missing:
                await rest.channel("123456789012345678")
        assert (missing.value.status, missing.value.code) == (404, 10003)
        assert "Unknown Channel" in str(missing.value) and "Check the id" in missing.value.hint


async def test_a_429_is_waited_out_and_retried() -> None:
    async with DiscordTwin(bot_token=TOKEN) as twin:
        twin.inject_429("GET /users/@me", count=2, retry_after=0.01)
        async with DiscordRest(TOKEN, base_url=twin.api_url) as rest:
            assert (await rest.me())["id"] == str(twin.bot_user.id)
        assert twin.rate_limited_requests == ["GET /users/@me"] * 2

        twin.inject_429("GET /users/@me/guilds", count=5, retry_after=0.01)
        async with DiscordRest(TOKEN, base_url=twin.api_url) as rest:
            with pytest.raises(DiscordApiError) as limited:
                await rest.guilds()
        assert limited.value.status == 429 and "kept rate-limiting" in str(limited.value)
        assert "try again in a minute" in limited.value.hint
        assert twin.rate_limited_requests.count("GET /users/@me/guilds") == 3
        twin.assert_clean()


async def test_no_discord_and_no_token_are_errors_too() -> None:
    async with DiscordRest(TOKEN, base_url=f"http://127.0.0.1:{free_port()}/api/v10") as rest:
        with pytest.raises(DiscordApiError) as unreachable:
            await rest.me()
    assert unreachable.value.status == 0
    assert "cannot reach Discord at http://127.0.0.1" in str(unreachable.value)
    assert "network" in unreachable.value.hint

    async with DiscordRest() as rest:
        with pytest.raises(DiscordApiError, match="no Discord bot token") as tokenless:
            await rest.guilds()
    assert "kimaki setup" in tokenless.value.hint


async def test_a_token_view_shares_the_pool_and_leaves_it_open() -> None:
    async with DiscordTwin(bot_token=TOKEN, bot_name="Kimaki") as twin:
        base = DiscordRest(base_url=twin.api_url)
        try:
            view = base.with_token(TOKEN)
            await view.aclose()  # a view does not own the pool
            assert (await base.with_token(TOKEN).me())["username"] == "Kimaki"
        finally:
            await base.aclose()
        twin.assert_clean()


async def test_the_cli_prints_discords_refusal_and_the_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with DiscordTwin(bot_token=TOKEN) as twin:
        monkeypatch.setenv("KIMAKI_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("KIMAKI_DISCORD_API_URL", twin.api_url)
        args = ["send", "--data-dir", str(tmp_path), "--channel", "123456789012345678", "-p", "hi"]
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = await asyncio.to_thread(main, args)
    assert code == 1
    lines = err.getvalue().splitlines()
    assert lines[0] == "kimaki: Discord: GET /channels/123456789012345678: HTTP 404 Unknown Channel"
    assert lines[1].startswith("Check the id")
