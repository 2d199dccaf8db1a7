"""`kimaki bot install-url` and `kimaki bot status set|clear`: through the real CLI, the running
bot's gateway connection to the Discord twin, and a restart of the bot."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from kimaki_tui.setup.guide import BOT_PERMISSIONS
from tests.automation.rig import AutomationRig

pytestmark = pytest.mark.opencode


async def test_install_url_names_the_bot_application(auto_rig: AutomationRig) -> None:
    result = await auto_rig.cli("bot", "install-url")
    assert result.code == 0, result.err
    url = urlparse(result.out.strip())
    query = parse_qs(url.query)
    assert url.netloc == "discord.com" and query["client_id"] == [str(auto_rig.twin.app_id)]
    assert query["permissions"] == [str(BOT_PERMISSIONS)] and "bot" in query["scope"][0].split()
    given = await auto_rig.cli("bot", "install-url", "--app-id", "123456789012345678")
    assert "client_id=123456789012345678" in given.out
    bad = await auto_rig.cli("bot", "install-url", "--app-id", "abc")
    assert bad.code == 2 and "--app-id abc is not an application id" in bad.err


async def test_the_install_url_flag_prints_the_link_and_exits(auto_rig: AutomationRig) -> None:
    result = await auto_rig.cli("--install-url")
    assert result.code == 0, result.err
    assert result.out.strip() == (await auto_rig.cli("bot", "install-url")).out.strip()
    assert f"client_id={auto_rig.twin.app_id}" in result.out and result.out.count("\n") == 1


async def test_status_set_shows_at_once_survives_a_restart_and_clears(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    world = rig.twin.world

    def shown() -> tuple[str, list[tuple[int, str | None]]] | None:
        """(status, [(activity type, text)]) as the gateway last heard it (a custom status's text
        is its `state`)."""
        presence = world.presence
        if presence is None:
            return None
        listed = presence.get("activities") or []
        activities = [(int(a["type"]), a.get("state" if a["type"] == 4 else "name")) for a in listed]
        return str(presence.get("status")), activities

    result = await rig.cli("bot", "status", "set", "fixing  bugs", "--type", "watching", "--status", "idle")
    assert result.code == 0, result.err
    assert "watching “fixing bugs” (idle)" in result.out and "shows it now" in result.out
    await rig.twin.wait_until(lambda: shown() == ("idle", [(3, "fixing bugs")]), 10, "the presence")

    world.presence = None
    await rig.bot.stop_bot()
    await rig.bot.start_bot()  # a new connection identifies with the kept status
    await rig.twin.wait_until(lambda: shown() == ("idle", [(3, "fixing bugs")]), 10, "the presence again")

    custom = await rig.cli("bot", "status", "set", "on call")
    assert custom.code == 0, custom.err
    await rig.twin.wait_until(lambda: shown() == ("online", [(4, "on call")]), 10, "the custom status")

    cleared = await rig.cli("bot", "status", "clear")
    assert cleared.code == 0 and "cleared" in cleared.out
    await rig.twin.wait_until(lambda: shown() == ("online", []), 10, "no activity")
    assert not (rig.data_dir / "bot-status.json").exists()

    empty = await rig.cli("bot", "status", "set", "  ")
    assert empty.code == 2 and "TEXT is empty" in empty.err
    long = await rig.cli("bot", "status", "set", "x" * 129)
    assert long.code == 2 and "at most 128" in long.err
    kind = await rig.cli("bot", "status", "set", "hi", "--type", "streaming")
    assert kind.code == 2 and "--type" in kind.err
