"""`kimaki session read --verbose`, `export-events-jsonl` (replayed by `kimaki events render`) and
`discord-url`, against the running kimaki's real OpenCode and the Discord twin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.automation.rig import AutomationRig
from tests.automation.test_cli_admin import answered_thread

pytestmark = pytest.mark.opencode


async def test_read_verbose_shows_thinking_tool_input_and_output(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    notes = rig.bot.project_dir / "notes.txt"
    notes.write_text("verbose-marker-42\n")
    call = json.dumps({"filePath": str(notes)})
    _thread, session = await answered_thread(rig, f"THINK CALL_TOOL: read {call}")
    plain = await rig.cli("session", "read", session)
    assert plain.code == 0, plain.err
    assert "_thinking_" not in plain.out and "output:" not in plain.out
    verbose = await rig.cli("session", "read", session, "--verbose")
    assert verbose.code == 0, verbose.err
    text = verbose.out
    assert "> _thinking_" in text
    assert "input:\n```\n{" in text and f'"filePath": "{notes}"' in text
    output = text.index("output:\n```")
    assert "verbose-marker-42" in text[output:]  # what the read tool returned
    assert "tokens, $" in text


async def test_export_events_round_trips_through_events_render(
    auto_rig: AutomationRig, tmp_path: Path
) -> None:
    rig = auto_rig
    _thread, session = await answered_thread(rig, "REPLY: exported **answer** 1234")
    stdout = await rig.cli("session", "export-events-jsonl", "--session", session)
    assert stdout.code == 0, stdout.err
    events = [json.loads(line) for line in stdout.out.splitlines()]
    assert events[0]["type"] == "message.updated" and events[-1]["type"] == "session.idle"
    assert {e["properties"]["sessionID"] for e in events} == {session}

    target = tmp_path / "events.jsonl"
    written = await rig.cli("session", "export-events-jsonl", "--session", session, "--out", str(target))
    assert written.code == 0 and f"to {target}" in written.out
    assert target.read_text(encoding="utf-8") == stdout.out
    rendered = await rig.cli("events", "render", str(target))
    assert rendered.code == 0, rendered.err
    assert f"thread of {session}" in rendered.out and "exported **answer** 1234" in rendered.out
    assert "warning" not in rendered.err

    missing = await rig.cli("session", "export-events-jsonl")
    assert missing.code == 2 and "--session ID is required" in missing.err
    unknown = await rig.cli("session", "export-events-jsonl", "--session", "ses_unknown")
    assert unknown.code == 1 and "pass --project DIR" in unknown.err
    unwritable = await rig.cli(
        "session", "export-events-jsonl", "--session", session, "--out", str(tmp_path / "no" / "x.jsonl")
    )
    assert unwritable.code == 1 and "cannot write --out" in unwritable.err


async def test_discord_url_names_the_thread(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    thread, session = await answered_thread(rig, "REPLY: link me")
    plain = await rig.cli("session", "discord-url", session)
    assert plain.code == 0, plain.err
    url = f"https://discord.com/channels/{rig.bot.guild.id}/{thread.id}"
    assert plain.out.strip() == url
    as_json = await rig.cli("session", "discord-url", session, "--json")
    assert json.loads(as_json.out) == {
        "url": url,
        "session_id": session,
        "thread_id": str(thread.id),
        "channel_id": str(rig.bot.channel.id),
        "guild_id": str(rig.bot.guild.id),
    }
    unknown = await rig.cli("session", "discord-url", "ses_unknown")
    assert unknown.code == 1 and "no thread of this kimaki shows session ses_unknown" in unknown.err
