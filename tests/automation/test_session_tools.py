"""`kimaki session list --json|search|wait|abort` against the running kimaki's real OpenCode."""

from __future__ import annotations

import json

import pytest

from tests.automation.rig import AutomationRig
from tests.automation.test_cli_admin import answered_thread
from tests.harness import wait_until

pytestmark = pytest.mark.opencode


async def test_list_json_shows_every_session_and_marks_kimakis(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    thread, session = await answered_thread(rig, "REPLY: mapped one")
    # A session started outside kimaki (as `opencode` in a terminal would).
    outside = await rig.server.client.create_session(rig.bot.project_dir, title="from a terminal")
    result = await rig.cli("session", "list", "--json")
    assert result.code == 0, result.err
    rows = {row["id"]: row for row in json.loads(result.out)}
    assert rows[session]["kimaki"] is True and rows[session]["thread_id"] == str(thread.id)
    assert rows[outside.id]["kimaki"] is False and rows[outside.id]["thread_id"] is None
    assert rows[outside.id]["title"] == "from a terminal"


async def test_search_finds_words_and_regexes(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    thread, session = await answered_thread(rig, "REPLY: the pelican flies at dawn")
    words = await rig.cli("session", "search", "PELICAN flies")
    assert words.code == 0, words.err
    assert session in words.out and "pelican flies" in words.out
    regex = await rig.cli("session", "search", "/peli\\w+ f/i", "--json")
    hits = json.loads(regex.out)
    assert [h["id"] for h in hits] == [session] and hits[0]["thread_id"] == str(thread.id)
    none = await rig.cli("session", "search", "albatross")
    assert none.code == 0 and "No session matches albatross." in none.out
    bad = await rig.cli("session", "search", "/(unclosed/")
    assert bad.code == 2 and "not a valid regular expression" in bad.err


async def test_wait_returns_once_the_session_is_idle_and_abort_stops_a_turn(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    await rig.bot.user_says("owner", "SLOW:2")
    thread = await rig.bot.wait_thread()
    runtime = rig.bot.core.conversations.runtime(str(thread.id))
    await wait_until(lambda: runtime.session_id is not None and runtime.busy, 15, message="the slow turn")
    assert runtime.session_id is not None
    waited = await rig.cli("session", "wait", runtime.session_id, "--timeout", "60")
    assert waited.code == 0, waited.err
    status = await rig.server.client.session_status(runtime.directory)
    assert runtime.session_id not in status and waited.out.strip()

    await rig.bot.user_says("owner", "SLOW:60", thread)
    await wait_until(lambda: runtime.busy, 15, message="the long turn")
    aborted = await rig.cli("session", "abort", runtime.session_id)
    assert aborted.code == 0 and f"Aborted session {runtime.session_id}." in aborted.out

    async def opencode_idle() -> bool:
        return runtime.session_id not in await rig.server.client.session_status(runtime.directory)

    await wait_until(opencode_idle, 30, message="OpenCode to stop the turn")
    await wait_until(lambda: not runtime.busy, 30, message="the turn to end")
    idle = await rig.cli("session", "abort", runtime.session_id)
    assert f"Session {runtime.session_id} was not running." in idle.out
    unknown = await rig.cli("session", "wait", "ses_unknown")
    assert unknown.code == 1 and "no thread shows session ses_unknown" in unknown.err


async def test_archive_stops_marks_and_archives_the_thread(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    thread, session = await answered_thread(rig, "REPLY: done here")
    result = await rig.cli("session", "archive", "--session", session)
    assert result.code == 0, result.err
    assert f"Archived thread {thread.id}" in result.out
    assert rig.twin.world.channel(thread.id).archived
    starter = rig.twin.world.messages[thread.id]
    assert starter.reactions.get("📁") == [rig.twin.bot_user.id]
    directory = rig.bot.core.conversations.runtime(str(thread.id)).directory
    info = await rig.server.client.get_session(session, directory)
    assert info.title.startswith("📁 ")
    again = await rig.cli("session", "archive", str(thread.id))
    assert again.code == 0, again.err
    info = await rig.server.client.get_session(session, directory)
    assert not info.title.startswith("📁 📁")

    both = await rig.cli("session", "archive", str(thread.id), "--session", session)
    assert both.code == 2 and "one of them" in both.err
    unknown = await rig.cli("session", "archive", "123")
    assert unknown.code == 1 and "no thread of this kimaki shows thread 123" in unknown.err
