"""The twin's strictness on the wire, checked with raw HTTP and websocket clients: limits, permissions,
threads, history paging, interactions protocol, intents, sequence numbers, zlib and resume.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest

from kimaki_tui.testing.discord_twin import DiscordTwin, Perm

from .bot import TwinTestBot
from .conftest import Scene
from .raw import RawApi, RawGateway


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def api(twin: DiscordTwin, http: aiohttp.ClientSession) -> RawApi:
    return RawApi(twin, http)


def _fields(twin: DiscordTwin) -> list[list[str]]:
    found = [v.fields for v in twin.violations]
    twin.violations.clear()
    return found


async def test_bad_token_is_401_and_a_login_failure(twin: DiscordTwin, scene: Scene, api: RawApi) -> None:
    status, body = await api.call("GET", "/users/@me", token="wrong")
    assert status == 401 and body["message"] == "401: Unauthorized"
    bot = TwinTestBot(scene.guild.id)
    with twin.patch_discord(), pytest.raises(discord.LoginFailure):
        await bot.login("wrong")
    await bot.close()


async def test_json_content_type_is_exact_and_required(
    twin: DiscordTwin, scene: Scene, http: aiohttp.ClientSession, api: RawApi
) -> None:
    headers = {"Authorization": f"Bot {twin.bot_token}"}
    async with http.get(twin.api_url + "/users/@me", headers=headers) as resp:
        assert resp.headers["Content-Type"] == "application/json"
    path = f"/channels/{scene.general.id}/messages"
    status, _ = await api.call("POST", path, raw=b'{"content": "x"}', content_type="text/plain")
    assert status == 400 and [v.kind for v in twin.violations] == ["protocol"]
    twin.violations.clear()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"content": "x" * 2001}, "content"),
        ({"embeds": [{"description": "d" * 4097}]}, "embeds.0.description"),
        (
            {
                "content": "x",
                "components": [
                    {
                        "type": 1,
                        "components": [{"type": 2, "style": 1, "label": "b", "custom_id": "c" * 101}],
                    }
                ],
            },
            "components.0.components.0.custom_id",
        ),
        (
            {
                "content": "x",
                "components": [
                    {
                        "type": 1,
                        "components": [
                            {"type": 2, "style": 1, "label": str(i), "custom_id": f"b{i}"} for i in range(6)
                        ],
                    }
                ],
            },
            "components.0.components",
        ),
        (
            {
                "content": "x",
                "components": [
                    {"type": 1, "components": [{"type": 2, "style": 1, "label": "b", "custom_id": f"r{i}"}]}
                    for i in range(6)
                ],
            },
            "components",
        ),
        (
            {
                "content": "x",
                "components": [
                    {
                        "type": 1,
                        "components": [
                            {
                                "type": 3,
                                "custom_id": "s",
                                "options": [{"label": str(i), "value": str(i)} for i in range(26)],
                            }
                        ],
                    }
                ],
            },
            "components.0.components.0.options",
        ),
        (
            {
                "content": "x",
                "components": [
                    {
                        "type": 1,
                        "components": [
                            {"type": 2, "style": 1, "label": "a", "custom_id": "same"},
                            {"type": 2, "style": 1, "label": "b", "custom_id": "same"},
                        ],
                    }
                ],
            },
            "components.0.components.1.custom_id",
        ),
    ],
)
async def test_message_limits(
    twin: DiscordTwin, scene: Scene, api: RawApi, payload: dict[str, object], field: str
) -> None:
    status, body = await api.call("POST", f"/channels/{scene.general.id}/messages", payload)
    assert (status, body["code"]) == (400, 50035)
    assert field in _fields(twin)[0]
    assert twin.messages(scene.general) == []


async def test_empty_message_and_other_limits(twin: DiscordTwin, scene: Scene, api: RawApi) -> None:
    status, body = await api.call("POST", f"/channels/{scene.general.id}/messages", {"content": ""})
    assert (status, body["code"]) == (400, 50006)
    status, _ = await api.call(
        "POST", f"/guilds/{scene.guild.id}/channels", {"name": "x", "topic": "t" * 1025}
    )
    assert status == 400
    commands = [{"name": f"c{i}", "description": "d", "type": 1} for i in range(101)]
    status, _ = await api.call(
        "PUT", f"/applications/{twin.app_id}/guilds/{scene.guild.id}/commands", commands
    )
    assert status == 400
    status, _ = await api.call(
        "PUT", f"/applications/{twin.app_id}/commands", [{"name": "Bad", "description": "d"}]
    )
    assert status == 400
    assert len(_fields(twin)) == 4


async def test_commands_keep_their_ids_across_bulk_overwrites(
    twin: DiscordTwin, scene: Scene, api: RawApi
) -> None:
    path = f"/applications/{twin.app_id}/guilds/{scene.guild.id}/commands"
    _, first = await api.call("PUT", path, [{"name": "queue", "description": "q"}])
    _, second = await api.call(
        "PUT", path, [{"name": "queue", "description": "q2"}, {"name": "new", "description": "n"}]
    )
    assert second[0]["id"] == first[0]["id"] and second[0]["description"] == "q2"
    assert [c.name for c in twin.commands(scene.guild)] == ["queue", "new"]


async def test_threads_match_discord(twin: DiscordTwin, scene: Scene, api: RawApi) -> None:
    general = scene.general
    _, msg = await api.call("POST", f"/channels/{general.id}/messages", {"content": "start here"})
    path = f"/channels/{general.id}/messages/{msg['id']}/threads"
    status, thread = await api.call("POST", path, {"name": "Session", "auto_archive_duration": 1440})
    assert status == 200 and thread["id"] == msg["id"] and thread["parent_id"] == str(general.id)
    status, body = await api.call("POST", path, {"name": "again"})
    assert (status, body["code"]) == (400, 160004)
    _, history = await api.call("GET", f"/channels/{thread['id']}/messages")
    assert [m["type"] for m in history] == [21] and history[0]["referenced_message"][
        "content"
    ] == "start here"
    _, loose = await api.call("POST", f"/channels/{general.id}/threads", {"name": "Loose", "type": 11})
    assert "* Kimaki started a thread: Loose" in twin.transcript(general)
    _, private = await api.call("POST", f"/channels/{general.id}/threads", {"name": "Secret"})
    assert private["type"] == 12
    with pytest.raises(PermissionError):
        await scene.alice.send(int(private["id"]), "can I see this?")
    await scene.alice.send(int(loose["id"]), "joining")
    assert scene.alice.id in twin.channel(int(loose["id"])).thread_members
    _fields(twin)


async def test_history_paging_is_newest_first(twin: DiscordTwin, scene: Scene, api: RawApi) -> None:
    sent = [await scene.alice.send(scene.general, f"m{i}") for i in range(5)]
    base = f"/channels/{scene.general.id}/messages"
    _, newest = await api.call("GET", f"{base}?limit=2")
    _, before = await api.call("GET", f"{base}?limit=2&before={sent[2].id}")
    _, after = await api.call("GET", f"{base}?limit=2&after={sent[1].id}")
    assert [m["content"] for m in newest] == ["m4", "m3"]
    assert [m["content"] for m in before] == ["m1", "m0"]
    assert [m["content"] for m in after] == ["m3", "m2"]


async def test_guild_permission_rules(twin: DiscordTwin, scene: Scene, api: RawApi) -> None:
    guild = scene.guild
    status, _ = await api.call(
        "POST", f"/guilds/{guild.id}/roles", {"name": "x", "permissions": str(Perm.ADMINISTRATOR)}
    )
    assert status == 403
    _, role = await api.call("POST", f"/guilds/{guild.id}/roles", {"name": "Kimaki", "permissions": "0"})
    status, _ = await api.call("PUT", f"/guilds/{guild.id}/members/{scene.alice.id}/roles/{role['id']}")
    assert status == 204 and int(role["id"]) in guild.members[scene.alice.id].role_ids
    above = guild.add_role("Above")
    guild.set_role_permissions(above, 0)
    above.position = 99
    status, _ = await api.call("PUT", f"/guilds/{guild.id}/members/{scene.alice.id}/roles/{above.id}")
    assert status == 403
    overwrite = [{"id": str(guild.id), "type": 0, "allow": str(Perm.ADMINISTRATOR), "deny": "0"}]
    status, _ = await api.call(
        "POST", f"/guilds/{guild.id}/channels", {"name": "x", "permission_overwrites": overwrite}
    )
    assert status == 403
    guild.set_role_permissions(guild.bot_role, Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES)
    status, _ = await api.call("POST", f"/guilds/{guild.id}/channels", {"name": "nope"})
    assert status == 403
    assert [v.kind for v in twin.violations] == ["permission"] * 4
    twin.violations.clear()
    twin.configure(members_intent=False)
    status, body = await api.call("GET", f"/guilds/{guild.id}/members?limit=10")
    assert (status, body["code"]) == (403, 50001)
    twin.violations.clear()


async def test_interaction_protocol(
    twin: DiscordTwin, scene: Scene, api: RawApi, http: aiohttp.ClientSession
) -> None:
    gateway = await RawGateway.connect(http, twin.gateway_url)
    await gateway.identify(twin.bot_token)
    row = {"type": 1, "components": [{"type": 2, "style": 1, "label": "Go", "custom_id": "go"}]}
    _, msg = await api.call(
        "POST", f"/channels/{scene.general.id}/messages", {"content": "x", "components": [row]}
    )
    inter = await scene.alice.click(twin.messages(scene.general)[0], "go")
    event = await gateway.next_event("INTERACTION_CREATE")
    assert event["message"]["id"] == msg["id"] and event["attachment_size_limit"] == 25 * 1024 * 1024
    status, _ = await api.call("POST", f"/webhooks/{twin.app_id}/{inter.token}", {"content": "early"})
    assert status == 404  # no followups before the interaction is acknowledged
    callback = f"/interactions/{inter.id}/{inter.token}/callback?with_response=1"
    status, body = await api.call("POST", callback, {"type": 8, "data": {"choices": []}})
    assert status == 400  # autocomplete results are not an answer to a click
    status, body = await api.call("POST", callback, {"type": 4, "data": {"content": "ok", "flags": 64}})
    assert status == 200 and body["resource"]["message"]["flags"] & 64
    status, body = await api.call("POST", callback, {"type": 4, "data": {"content": "twice"}})
    assert (status, body["code"]) == (400, 40060)
    response = await inter.wait_response()
    assert response.ephemeral and response.content == "ok"
    twin.configure(interaction_timeout=0.0)
    late = await scene.alice.click(twin.messages(scene.general)[0], "go")
    status, body = await api.call("POST", f"/interactions/{late.id}/{late.token}/callback", {"type": 6})
    assert (status, body["code"]) == (404, 10062)
    assert [v.kind for v in twin.violations] == ["limit", "protocol", "timeout"]
    twin.violations.clear()
    await gateway.close()


async def test_gateway_intents_sequence_and_resume(
    twin: DiscordTwin, scene: Scene, http: aiohttp.ClientSession
) -> None:
    no_content = await RawGateway.connect(http, twin.gateway_url, compressed=False)
    ready = await no_content.identify(twin.bot_token, intents=(1 << 0) | (1 << 9))
    assert ready["s"] == 1 and ready["d"]["resume_gateway_url"].endswith("/gateway-resume")
    assert (await no_content.next_event("GUILD_CREATE"))["id"] == str(scene.guild.id)
    await scene.alice.send(scene.general, "secret words")
    assert (await no_content.next_event("MESSAGE_CREATE"))["content"] == ""
    await scene.alice.send(scene.general, f"{twin.bot_user.mention} visible")
    assert (await no_content.next_event("MESSAGE_CREATE"))["content"].endswith("visible")
    seq, session_id = no_content.seq, no_content.session_id
    await no_content.close()
    await scene.alice.send(scene.general, "while offline")
    resumed = await RawGateway.connect(http, ready["d"]["resume_gateway_url"])
    resumed.seq = seq
    await resumed.ws.send_json(
        {"op": 6, "d": {"token": twin.bot_token, "session_id": session_id, "seq": seq}}
    )
    assert (await resumed.next_event("MESSAGE_CREATE"))["content"] == ""  # replayed, still without the intent
    await resumed.next_event("RESUMED")
    await resumed.close()
    twin.configure(message_content_intent=False)
    refused = await RawGateway.connect(http, twin.gateway_url)
    assert (await refused.identify(twin.bot_token))["close_code"] == 4014
    wrong = await RawGateway.connect(http, twin.gateway_url)
    assert (await wrong.identify("nope"))["close_code"] == 4004


async def test_reactions_and_transcript(twin: DiscordTwin, scene: Scene, api: RawApi) -> None:
    msg = await scene.alice.send(scene.general, "react to me")
    status, _ = await api.call(
        "PUT", f"/channels/{scene.general.id}/messages/{msg.id}/reactions/%F0%9F%91%80/@me"
    )
    assert status == 204
    assert twin.transcript(scene.general) == "alice: react to me\n  [reactions: 👀]"
    scene.guild.set_role_permissions(scene.guild.bot_role, Perm.VIEW_CHANNEL | Perm.READ_MESSAGE_HISTORY)
    scene.guild.set_role_permissions(scene.guild.everyone, 0)
    status, _ = await api.call(
        "PUT", f"/channels/{scene.general.id}/messages/{msg.id}/reactions/%E2%9C%85/@me"
    )
    assert status == 403
    twin.violations.clear()
