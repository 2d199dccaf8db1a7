"""The doors a stranger or a prompt could open, checked on the real `kimaki --no-tui` process against
the Discord twin and a real OpenCode: the agent's shell sees no kimaki secret, a stranger's server
is served only after `kimaki guild allow`, the data dir is private even when it was not, no echo
pings anyone, and each start-up failure is one clear line (no traceback) and exit code 1.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kimaki_tui.store import migrations
from kimaki_tui.store.repo import Store
from kimaki_tui.testing.discord_twin import DiscordTwin, Message
from tests.bot.rig import custom_ids, is_footer
from tests.harness import wait_until
from tests.process_rig import free_port, kimaki_cli, kimaki_env, linked_guild, read_until, start_kimaki

pytestmark = pytest.mark.opencode

TOKEN = "secret-process-token-0123456789"
GEMINI = "gemini-process-key-0123456789"
DB = "discord-sessions.db"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def holds(root: Path, secret: str) -> list[Path]:
    """Every file under `root` whose bytes contain `secret`."""
    needle = secret.encode()
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


async def stop(proc: asyncio.subprocess.Process) -> int:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(proc.wait(), 30)


async def test_the_agent_sees_no_secret_nothing_pings_and_the_data_dir_is_private(
    opencode_binary: str, spare_opencode_env: dict[str, str], project_dir: Path, tmp_path: Path
) -> None:
    async with DiscordTwin(bot_token=TOKEN) as twin:
        data = tmp_path / "data"
        owner, channel = linked_guild(twin, "Secrets", project_dir, data)
        member = twin.add_user("member")
        twin.world.guild(channel.guild_id).add_member(member)
        # What an older kimaki, or a loose umask, left behind: everything readable by everyone.
        data.chmod(0o755)
        for path in data.iterdir():
            path.chmod(0o644)
        env = kimaki_env(twin, spare_opencode_env, opencode_binary, free_port()) | {"GEMINI_API_KEY": GEMINI}
        proc = await start_kimaki(data, env, asyncio.subprocess.DEVNULL)
        try:
            assert proc.stderr is not None
            await read_until(proc.stderr, "kimaki: ready", 60)
            warning = await read_until(proc.stderr, "warning: The bot is Public", 10)
            assert "untick" in warning[-1] and "PUBLIC BOT" in warning[-1]

            # The prompt from the issue, approved: the agent's shell has neither secret.
            await owner.send(channel, "RUN_BASH: echo tok=$KIMAKI_BOT_TOKEN gem=$GEMINI_API_KEY end")
            thread = await twin.wait_for_thread(channel, timeout=30)
            prompt = await twin.wait_for_message(thread, lambda m: bool(m.components), timeout=60)
            approve = next(c for c in custom_ids(prompt) if c.startswith("kimaki:perm:once:"))
            await owner.click(prompt, approve)
            said = await twin.wait_for_message(thread, lambda m: "Tool said:" in m.content, timeout=60)
            assert said.content == "⬥ Tool said: tok= gem= end"  # empty, not even masked
            await twin.wait_for_message(thread, is_footer, timeout=60, after=said)  # the turn is over
            assert holds(Path(spare_opencode_env["XDG_DATA_HOME"]), TOKEN) == []
            assert holds(Path(spare_opencode_env["XDG_DATA_HOME"]), GEMINI) == []

            # The /queue echo repeats the mention without pinging anyone.
            inter = await owner.slash(thread, "queue", message=f"thanks <@{member.id}>")
            echo = (await inter.wait_response(30)).message
            assert echo is not None and echo.content == f"» **owner:** thanks <@{member.id}>"
            assert echo.allowed_mentions == {"parse": []} and echo.pinged == []
            await twin.wait_for_message(thread, lambda m: "Echo: thanks" in m.content, timeout=60)
            assert all(m.pinged == [] for m in twin.messages(thread) if m.author.bot)

            # A text file too long to inline is saved privately in the data dir.
            big = ("log line\n" * 10_000).encode()
            sent = await owner.send(channel, "BIG file attached", attachments=[("run.log", big, None)])
            saved = data / "attachments" / str(sent.id) / "run.log"
            await wait_until(saved.exists, 30, 0.1, "the attachment to be saved")

            assert mode(data) == 0o700
            private = [DB, f"{DB}-wal", f"{DB}-shm", "kimaki.log", "control-token"]
            assert {name: mode(data / name) for name in private} == dict.fromkeys(private, 0o600)
            assert mode(data / "attachments") == mode(saved.parent) == 0o700 and mode(saved) == 0o600
        finally:
            code = await stop(proc)
        assert code == 0
        assert not any(TOKEN in m.content or GEMINI in m.content for m in twin.world.messages.values())
        twin.assert_clean()


def is_notice(message: Message) -> bool:
    return "kimaki is not active in this server yet" in message.content


async def test_a_strangers_server_is_served_only_after_kimaki_guild_allow(
    opencode_binary: str, spare_opencode_env: dict[str, str], project_dir: Path, tmp_path: Path
) -> None:
    async with DiscordTwin(bot_token="guild-process-token") as twin:
        data = tmp_path / "data"
        owner, channel = linked_guild(twin, "Home", project_dir, data)
        # Mallory added the public bot to her own server, and an older kimaki let her link a channel.
        mallory = twin.add_user("mallory")
        theirs = twin.add_guild("Mallory's", owner=mallory, system_channel="general")
        loot = theirs.add_text_channel("loot")
        with Store.open(data / DB) as store:
            store.link_channel(str(loot.id), str(theirs.id), str(project_dir))
        env = kimaki_env(twin, spare_opencode_env, opencode_binary, free_port())
        proc = await start_kimaki(data, env, asyncio.subprocess.DEVNULL)
        try:
            assert proc.stderr is not None
            waiting = await read_until(proc.stderr, "waiting for your approval", 60)
            assert f"Mallory's ({theirs.id})" in waiting[-1]
            notice = await twin.wait_for_message(theirs.channel("general"), is_notice, timeout=30)
            assert f"kimaki guild allow {theirs.id}" in notice.content
            # The operator's server gets its commands once OpenCode has listed the project's workflows.
            assert await twin.wait_for_commands(twin.world.guild(channel.guild_id), timeout=60)
            assert twin.commands(theirs) == []
            with pytest.raises(LookupError):
                await mallory.slash(loot, "add-project", project="/")

            await mallory.send(loot, "RUN_BASH: id -u")
            # Gateway events are read in order: once a later message in the operator's server is
            # answered, Mallory's earlier one has been read (and dropped).
            await owner.send(channel, "REPLY: after mallory")
            home_thread = await twin.wait_for_thread(channel, timeout=30)
            await twin.wait_for_message(home_thread, lambda m: m.content == "⬥ after mallory", timeout=60)
            assert twin.threads(loot) == []

            code, out, _ = await kimaki_cli(env, "guild", "list", "--data-dir", str(data))
            row = next(line for line in out.splitlines() if line.startswith(str(theirs.id)))
            assert code == 0 and "pending" in row and "Mallory's" in row
            code, out, err = await kimaki_cli(env, "guild", "allow", str(theirs.id), "--data-dir", str(data))
            assert code == 0, err
            assert f"Server {theirs.id} (Mallory's) is now allowed." in out
            assert "The running kimaki applied it." in out

            await twin.wait_for_commands(theirs, timeout=30)
            await mallory.send(loot, "REPLY: served after approval")
            thread = await twin.wait_for_thread(loot, timeout=30)
            await twin.wait_for_message(thread, lambda m: m.content == "⬥ served after approval", timeout=60)
        finally:
            code = await stop(proc)
        assert code == 0
        assert [m for m in twin.messages(theirs.channel("general")) if is_notice(m)] == [notice]
        twin.assert_clean()


# ---- start-up failures ---------------------------------------------------------------------------


async def test_an_empty_database_is_refused_until_reset_database_moves_it_aside(
    opencode_binary: str, spare_opencode_env: dict[str, str], tmp_path: Path
) -> None:
    async with DiscordTwin(bot_token="reset-process-token") as twin:
        owner = twin.add_user("owner")
        twin.set_application_owner(owner)
        twin.add_guild("Home", owner=owner)
        data = tmp_path / "data"
        data.mkdir()
        (data / DB).touch()
        env = kimaki_env(twin, spare_opencode_env, opencode_binary, free_port())
        code, _, err = await kimaki_cli(env, "--no-tui", "--data-dir", str(data))
        assert code == 1 and "is empty (0 bytes)" in err and (data / DB).stat().st_size == 0
        proc = await start_kimaki(data, env, asyncio.subprocess.DEVNULL, "--reset-database")
        try:
            assert proc.stderr is not None
            said = await read_until(proc.stderr, "kimaki: ready", 60)
        finally:
            code = await stop(proc)
        assert code == 0
        [aside] = data.glob(f"{DB}.broken-*")
        assert any(f"moved the database aside to {aside}" in line for line in said)
        assert aside.stat().st_size == 0 and (data / DB).stat().st_size > 0


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode == 0


NAMESPACES = pytest.mark.skipif(
    not _unshare_works(),
    reason="needs `unshare -rm` (user and mount namespaces) for a real read-only or full disk",
)


def _damage(data: Path, how: str) -> None:
    """The data dir as the user finds it after an accident."""
    db = data / DB
    if how == "empty":
        data.mkdir()
        db.touch()
        return
    with Store.open(db) as store:
        for i in range(300):
            store.add_project(f"/srv/project-{i:04}" * 8)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if how == "newer":
        conn.execute("INSERT INTO schema_version VALUES (?, '2030-01-01T00:00:00+00:00')", (99,))
        conn.commit()
    conn.close()
    if how == "garbage":
        db.write_bytes(b"this is not a database " * 500)
    elif how == "truncated":
        db.write_bytes(db.read_bytes()[:8192])
    elif how == "foreign":
        for path in data.iterdir():
            path.unlink()
        conn = sqlite3.connect(db)
        conn.execute("CREATE TABLE recipes (name TEXT)")
        conn.commit()
        conn.close()


# What the failure's line must say; for the accidents that leave a file, it stays byte for byte.
FAILURES = {
    "empty": "is empty (0 bytes); it was left in place, not re-created",
    "garbage": "cannot be used (it is not an SQLite database); it was left untouched",
    "truncated": "cannot be used (it is truncated",
    "foreign": "cannot be used (it belongs to another program",
    "newer": f"only knows versions up to {migrations.LATEST_VERSION}",
}


async def _run_kimaki(
    env: dict[str, str], data: Path, setup: str | None = None, after: str = ""
) -> tuple[int, str]:
    """`kimaki --no-tui` until it exits: (code, stderr). With `setup`, in private user and mount
    namespaces prepared by that shell snippet (`after` runs there once kimaki has exited)."""
    argv = [sys.executable, "-m", "kimaki_tui", "--no-tui", "--data-dir", str(data)]
    if setup is not None:
        script = f'{setup} || exit 99; "$@"; code=$?; {after or "true"}; exit $code'
        argv = ["unshare", "-rm", "sh", "-c", script, "sh", *argv]
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert out == b"" and proc.returncode is not None
    return proc.returncode, err.decode()


def _env(opencode_binary: str, opencode_env: dict[str, str]) -> dict[str, str]:
    return {
        **opencode_env,
        "KIMAKI_BOT_TOKEN": "x.y.z",
        "OPENCODE_PATH": opencode_binary,
        "KIMAKI_LOCK_PORT": str(free_port()),
    }


def _one_line(code: int, err: str, expected: str) -> str:
    assert code == 1, err
    assert "Traceback" not in err and err.endswith("\n")
    [line] = err.splitlines()
    assert line.startswith("kimaki: ") and expected in line, line
    return line[len("kimaki: ") :]


@pytest.mark.parametrize("how", sorted(FAILURES))
async def test_a_damaged_database_is_one_clear_line_and_left_as_it_is(
    how: str, opencode_binary: str, spare_opencode_env: dict[str, str], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    _damage(data, how)
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    code, err = await _run_kimaki(_env(opencode_binary, spare_opencode_env), data)
    problem = _one_line(code, err, FAILURES[how])
    if how != "newer":
        assert "--reset-database" in problem
    after = {p.name: p.read_bytes() for p in data.iterdir() if p.name != "kimaki.log"}
    assert after == before
    assert f"ERROR   kimaki_tui.cli: cannot start: {problem}" in (data / "kimaki.log").read_text()


@NAMESPACES
async def test_a_read_only_data_dir_is_one_clear_line(
    opencode_binary: str, spare_opencode_env: dict[str, str], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    Store.open(data / DB).close()
    # A read-only bind mount of the data dir in a private mount namespace: EROFS for everyone,
    # root included (mode bits would not stop root).
    read_only = f"mount --bind {data} {data} && mount -o remount,bind,ro {data}"
    code, err = await _run_kimaki(_env(opencode_binary, spare_opencode_env), data, read_only)
    _one_line(code, err, f"the data dir {data} is not writable (Read-only file system)")
    assert not (data / "kimaki.log").exists()  # the log was not writable either


@NAMESPACES
async def test_a_full_disk_is_one_clear_line(
    opencode_binary: str, spare_opencode_env: dict[str, str], tmp_path: Path
) -> None:
    mount = tmp_path / "small-disk"
    mount.mkdir()
    data = mount / "data"
    # A 16 KB tmpfs in a private mount namespace: a real ENOSPC from the kernel. The log and the
    # control token fit; the database does not. The tmpfs vanishes with the namespace, so its log
    # is printed there, after kimaki exits.
    small_disk = f"mount -t tmpfs -o size=16k tmpfs {mount}"
    show = f"ls {data} >&2; cat {data}/kimaki.log >&2"
    code, err = await _run_kimaki(_env(opencode_binary, spare_opencode_env), data, small_disk, show)
    head, _, rest = err.partition("\n")
    problem = _one_line(code, head + "\n", f"no space left for the data dir {data}")
    assert f"cannot start: {problem}" in rest
    assert "discord-sessions.db" not in rest.split("--- kimaki log started")[0]  # no half-made database
