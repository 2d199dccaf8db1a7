"""`kimaki project`, `kimaki upload-to-discord` and `kimaki session` against the twin and real OpenCode."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimaki_tui.testing.discord_twin import Channel
from tests.automation.rig import AutomationRig
from tests.bot.rig import is_footer
from tests.keyring_backend import MemoryKeyring, use_keyring

pytestmark = pytest.mark.opencode


async def answered_thread(rig: AutomationRig, text: str) -> tuple[Channel, str]:
    await rig.bot.user_says("owner", text)
    thread = await rig.bot.wait_thread()
    await rig.bot.wait_bot_message(thread, is_footer)
    session = rig.bot.core.conversations.runtime(str(thread.id)).session_id
    assert session is not None
    return thread, session


async def test_project_add_list_remove(
    auto_rig: AutomationRig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = auto_rig
    folder = tmp_path / "My App"
    folder.mkdir()
    monkeypatch.chdir(folder)  # `project add` defaults to the current folder
    added = await rig.cli("project", "add")
    assert added.code == 0, added.err
    channel = next(c for c in rig.bot.guild.channels if c.name == "my-app")
    assert channel.parent_id == rig.bot.category.id
    assert f"Linked {folder} to #my-app ({channel.id})" in added.out
    assert rig.bot.core.projects.directory_of(str(channel.id)) == str(folder)

    again = await rig.cli("project", "add", str(folder))
    assert again.code == 1 and "already linked" in again.err
    missing = await rig.cli("project", "add", str(tmp_path / "nope"))
    assert missing.code == 2 and "is not a folder" in missing.err

    listed = await rig.cli("project", "list")
    assert listed.code == 0
    rows = {line.split()[-3]: line for line in listed.out.splitlines()[2:]}  # FOLDER CHANNEL SERVER STATE
    assert str(channel.id) in rows and str(rig.bot.channel.id) in rows

    removed = await rig.cli("project", "remove", str(channel.id))
    assert removed.code == 0 and f"Unlinked channel {channel.id}" in removed.out
    assert rig.bot.core.projects.directory_of(str(channel.id)) is None
    assert not rig.twin.channel(channel.id).deleted  # the Discord channel stays
    twice = await rig.cli("project", "remove", str(channel.id))
    assert twice.code == 1 and "is not linked" in twice.err


async def test_upload_posts_all_files_in_one_message(auto_rig: AutomationRig, tmp_path: Path) -> None:
    rig = auto_rig
    thread, session = await answered_thread(rig, "REPLY: ready for files")
    notes = tmp_path / "notes.txt"
    notes.write_text("some notes\n")
    image = tmp_path / "shot.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    before = len(rig.twin.messages(thread))
    result = await rig.cli("upload-to-discord", "--session", session, str(notes), str(image))
    assert result.code == 0, result.err
    assert result.out.startswith("Uploaded notes.txt, shot.png: https://discord.com/channels/")
    posted = rig.twin.messages(thread)[before:]
    assert len(posted) == 1
    assert [(a.filename, a.data) for a in posted[0].attachments] == [
        ("notes.txt", b"some notes\n"),
        ("shot.png", image.read_bytes()),
    ]


async def test_upload_refuses_files_over_the_limit_before_sending(
    auto_rig: AutomationRig, tmp_path: Path
) -> None:
    rig = auto_rig
    _thread, session = await answered_thread(rig, "REPLY: nothing big please")
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:  # sparse: 25 MB + 1 byte without writing them
        handle.truncate(25 * 1024 * 1024 + 1)
    small = tmp_path / "small.txt"
    small.write_text("ok")
    before = len(rig.twin.requests)
    result = await rig.cli("upload-to-discord", "-s", session, str(small), str(big))
    assert result.code == 2
    assert f"{big} is 25.0 MB; Discord takes files up to 25 MB" in result.err
    missing = await rig.cli("upload-to-discord", "-s", session, str(tmp_path / "gone.txt"))
    assert missing.code == 2 and "does not exist" in missing.err
    unknown = await rig.cli("upload-to-discord", "-s", "ses_unknown", str(small))
    assert unknown.code == 1 and "no thread shows session ses_unknown" in unknown.err
    assert not [r for r in rig.twin.requests[before:] if r.method == "POST"]


async def test_session_list_and_read(auto_rig: AutomationRig) -> None:
    rig = auto_rig
    thread, session = await answered_thread(rig, "REPLY: the **answer** is 42")
    listed = await rig.cli("session", "list")
    assert listed.code == 0
    row = next(line for line in listed.out.splitlines() if line.startswith(session))
    assert rig.bot.project_dir.name in row and str(thread.id) in row

    read = await rig.cli("session", "read", session)
    assert read.code == 0, read.err
    text = read.out
    assert text.startswith("# ")
    user, assistant = text.index("## User"), text.index("## Assistant (fake-model)")
    assert user < text.index("REPLY: the **answer** is 42", user) < assistant
    assert text.rstrip().endswith("the **answer** is 42")

    unknown = await rig.cli("session", "read", "ses_unknown")
    assert unknown.code == 1 and "pass --project DIR" in unknown.err


async def test_commands_need_a_bot_token(auto_rig: AutomationRig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIMAKI_BOT_TOKEN")
    with use_keyring(MemoryKeyring()):
        result = await auto_rig.cli("send", "--channel", str(auto_rig.bot.channel.id), "--prompt", "hi")
    assert result.code == 2 and "no Discord bot token" in result.err and "KIMAKI_BOT_TOKEN" in result.err
