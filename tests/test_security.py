"""The pure and file-level parts of issue 11's fixes: what OpenCode's environment keeps, private file
modes, refused databases, system directories, names without invisible characters, outgoing
masking, and the server-approval rule with its store table."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kimaki_tui.bot.outgoing import mask_form, mask_payload, mask_text
from kimaki_tui.bot.threads import thread_name
from kimaki_tui.core.bus import EventBus
from kimaki_tui.core.events import GuildAccessChanged
from kimaki_tui.core.guilds import GuildAccess, InvalidGuildId, evaluate, reason
from kimaki_tui.core.names import strip_invisible
from kimaki_tui.core.projects import system_directory_problem
from kimaki_tui.errors import DataDirError, startup_error
from kimaki_tui.logs import MASK, register_secret
from kimaki_tui.opencode.environment import agent_environment
from kimaki_tui.private_files import private_dir, write_private
from kimaki_tui.settings import resolve_data_dir
from kimaki_tui.setup.channel_plan import sanitize_channel_name
from kimaki_tui.store.db import (
    CorruptDatabaseError,
    EmptyDatabaseError,
    check_database_file,
    set_database_aside,
)
from kimaki_tui.store.repo import Store

GUILD = "123456789012345678"
OTHER = "223456789012345678"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


# ---- OpenCode's environment ---------------------------------------------------------------------


def test_agent_environment_drops_kimaki_secrets_and_keeps_the_rest() -> None:
    token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.abcdef.0123456789abcdefghijklmnopq"
    base = {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "KIMAKI_BOT_TOKEN": token,
        "GEMINI_API_KEY": "AIza-gemini-key-value",
        "KIMAKI_CONTROL_TOKEN": "control",
        "KIMAKI_SOME_API_KEY": "x",
        "KIMAKI_DATA_DIR": "/home/u/.kimaki",
        "MY_COPY_OF_IT": f"Bot {token}",
        "ANTHROPIC_API_KEY": "sk-ant-users-own-provider-key",
    }
    env = agent_environment(base, secret_values=[token, "short"], extra={"OPENCODE_SERVER_PASSWORD": "pw"})
    assert env == {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "KIMAKI_DATA_DIR": "/home/u/.kimaki",
        "ANTHROPIC_API_KEY": "sk-ant-users-own-provider-key",
        "OPENCODE_SERVER_PASSWORD": "pw",
    }


# ---- private files ------------------------------------------------------------------------------


def test_a_loose_existing_data_dir_and_its_files_become_private(tmp_path: Path, loose_umask: None) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    db = data / "discord-sessions.db"
    Store.open(db).close()  # an older version's files: created under umask 0 below
    for name in ("discord-sessions.db", "discord-sessions.db-wal", "discord-sessions.db-shm"):
        if (data / name).exists():
            os.chmod(data / name, 0o644)
    assert resolve_data_dir(data) == data and mode(data) == 0o700
    with Store.open(db) as store:
        store.add_project("/srv/p")
        for name in ("discord-sessions.db", "discord-sessions.db-wal", "discord-sessions.db-shm"):
            assert mode(data / name) == 0o600, name
    write_private(data / "attachments" / "t" / "a.txt", "x")
    assert mode(data / "attachments") == 0o700 and mode(data / "attachments" / "t" / "a.txt") == 0o600


def test_a_new_database_is_private_from_its_first_byte(tmp_path: Path, loose_umask: None) -> None:
    private_dir(tmp_path / "d")
    with Store.open(tmp_path / "d" / "x.db"):
        assert all(mode(p) == 0o600 for p in (tmp_path / "d").iterdir())


# ---- damaged databases --------------------------------------------------------------------------


def test_an_empty_database_is_refused_and_left_in_place(tmp_path: Path) -> None:
    db = tmp_path / "discord-sessions.db"
    db.touch()
    with pytest.raises(EmptyDatabaseError) as caught:
        Store.open(db)
    assert "--reset-database" in caught.value.hint
    assert db.stat().st_size == 0 and sorted(p.name for p in tmp_path.iterdir()) == [db.name]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "directory"])
def test_a_damaged_database_is_refused_untouched(tmp_path: Path, damage: str) -> None:
    db = tmp_path / "discord-sessions.db"
    if damage == "directory":
        db.mkdir()
    else:
        with Store.open(db) as store:
            for i in range(300):
                store.add_project(f"/srv/project-{i:04}" * 8)
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        data = db.read_bytes()
        db.write_bytes(b"not a database " * 300 if damage == "garbage" else data[: len(data) // 3])
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(CorruptDatabaseError) as caught:
        check_database_file(db)
    with pytest.raises(CorruptDatabaseError):
        Store.open(db)
    assert "left untouched" in str(caught.value) and "--reset-database" in caught.value.hint
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_another_programs_database_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "discord-sessions.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(CorruptDatabaseError, match="another program"):
        Store.open(db)
    conn = sqlite3.connect(db)
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["recipes"]
    conn.close()


def test_reset_moves_the_database_and_its_side_files_aside(tmp_path: Path) -> None:
    db = tmp_path / "discord-sessions.db"
    db.touch()
    (tmp_path / "discord-sessions.db-wal").write_bytes(b"w")
    aside = set_database_aside(db)
    assert aside is not None and aside.exists() and not db.exists()
    assert aside.with_name(aside.name + "-wal").read_bytes() == b"w"
    assert set_database_aside(db) is None
    with Store.open(db) as store:
        assert store.list_projects() == []


def test_startup_errors_for_the_data_dir(tmp_path: Path) -> None:
    full = startup_error(OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x")), tmp_path)
    read_only = startup_error(OSError(errno.EROFS, "Read-only file system", str(tmp_path)), tmp_path)
    assert isinstance(full, DataDirError) and "no space left" in str(full)
    assert "Free some space" in full.hint
    assert isinstance(read_only, DataDirError) and "not writable" in str(read_only)
    assert startup_error(OSError(errno.EROFS, "elsewhere", "/somewhere/else"), tmp_path) is None
    assert startup_error(ValueError("a bug"), tmp_path) is None


# ---- projects and names -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/etc", "/usr", "/bin", "/boot", "/proc", "/sys", "/dev", "/proc/1"])
def test_system_directories_cannot_be_projects(path: str) -> None:
    problem = system_directory_problem(path, home="/home/u")
    assert problem is not None and f"`{path}`" in problem


def test_root_home_and_ordinary_folders_can_be_projects() -> None:
    assert system_directory_problem("/root", home="/root") is None
    assert system_directory_problem("/root", home="/home/u") is not None
    for path in ("/home/u/app", "/usr/local/src/app", "/etc/nixos", "/srv/app", "/tmp/x"):
        assert system_directory_problem(path, home="/home/u") is None, path


def test_invisible_and_bidi_characters_never_reach_names() -> None:
    sneaky = "fix\u202egnp.exe \u200bthe\u2066 bug\ufeff\u061c\u2069\u200f"
    assert strip_invisible(sneaky) == "fixgnp.exe the bug"
    assert thread_name(sneaky) == "fixgnp.exe the bug"
    assert sanitize_channel_name("my\u200bapp\u202e") == "myapp"


# ---- outgoing masking ---------------------------------------------------------------------------


def test_outgoing_bodies_mask_known_secrets_and_token_shapes() -> None:
    secret = "s3cret-value-registered-here"
    register_secret(secret, "tiny12")
    token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.abcdef.0123456789abcdefghijklmnopq"
    assert mask_text(f"key={secret} tok={token} tiny12 stays") == f"key={MASK} tok={MASK} tiny12 stays"
    body = {"content": secret, "embeds": [{"description": f"x {secret}"}], "flags": 4}
    assert mask_payload(body) == {"content": MASK, "embeds": [{"description": f"x {MASK}"}], "flags": 4}
    form = [
        {"name": "payload_json", "value": json.dumps({"content": secret})},
        {"name": "files[0]", "value": b"x"},
    ]
    masked = mask_form(form)
    assert json.loads(masked[0]["value"]) == {"content": MASK} and masked[1] == form[1]


# ---- which servers are served --------------------------------------------------------------------


def test_the_rule() -> None:
    operators = {"1", "2"}
    assert evaluate(None, "1", operators) == "allowed"
    assert evaluate(None, "9", operators) == "pending"
    assert evaluate(None, None, operators) == "pending"
    assert evaluate("denied", "1", operators) == "denied"
    assert evaluate("allowed", "9", operators) == "allowed"


def test_guild_access_records_decides_and_publishes(tmp_path: Path) -> None:
    bus = EventBus()
    seen: list[object] = []
    bus.add_callback(seen.append)
    with Store.open(tmp_path / "k.db") as store:
        access = GuildAccess(store, bus)
        access.set_operators({"42"})
        assert access.seen(GUILD, "Home", "42").status == "allowed" and access.allowed(GUILD)
        stranger = access.seen(OTHER, "Mallory's", "666")
        assert stranger.status == "pending" and not access.allowed(OTHER) and not access.allowed(None)
        assert reason(stranger) == "waiting for the operator"
        assert access.claim_notice(OTHER) and not access.claim_notice(OTHER)  # once
        allowed = access.allow(OTHER, by="cli")
        assert (allowed.status, allowed.name, reason(allowed)) == ("allowed", "Mallory's", "allowed by cli")
        assert access.seen(OTHER, "Mallory's", "666").status == "allowed"  # the decision sticks
        assert access.deny(GUILD, by="cli").status == "denied" and not access.allowed(GUILD)
        with pytest.raises(InvalidGuildId):
            access.allow("not-an-id", by="cli")
        assert [e.status for e in seen if isinstance(e, GuildAccessChanged)] == [
            "allowed", "pending", "allowed", "denied",
        ]  # fmt: skip

        # Another process (`kimaki guild allow`) changed the database: reload() follows it.
        other = GuildAccess(store)
        other.allow(GUILD, by="cli")
        access.reload()
        assert access.allowed(GUILD) and seen[-1] == GuildAccessChanged(GUILD, "allowed", "Home")


def test_a_second_open_in_this_process_keeps_the_first_ones_locks(tmp_path: Path) -> None:
    """The file checks read the database file; closing that read would drop the POSIX locks of
    a connection this process already has, and another process's `kimaki guild allow` would then
    delete the WAL under it (its reads stay stale forever). So they run only before the first open."""
    db = tmp_path / "discord-sessions.db"
    with Store.open(db) as store:
        access = GuildAccess(store)
        access.seen(GUILD, "Mallory's", "666")
        Store.open(db).close()  # a second connection in this process must keep the first one's locks
        done = subprocess.run(
            [sys.executable, "-m", "kimaki_tui", "guild", "allow", GUILD, "--data-dir", str(tmp_path)],
            capture_output=True, text=True, env={**os.environ, "KIMAKI_LOCK_PORT": "1"}, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        access.reload()
        assert access.allowed(GUILD)
