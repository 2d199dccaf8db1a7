"""Moving from kimaki: a kimaki database built from kimaki's published schema, with rows in every
table the import reads, goes into kimaki-tui's own database and the (in-memory) keyring, through
the real Store and the Discord twin; kimaki's file stays byte for byte what it was."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kimaki_tui.database_file import KIMAKI_DB_NAME, OWN_DB_NAME, choose_database
from kimaki_tui.migrate_kimaki import ImportReport, KimakiSourceError, import_into
from kimaki_tui.migrate_kimaki.source import KimakiTask, parse_time
from kimaki_tui.migrate_kimaki.tasks import TaskSkipped, convert_task
from kimaki_tui.scheduling.cron import parse_cron
from kimaki_tui.secrets import SecretStore
from kimaki_tui.store.repo import Store
from kimaki_tui.testing.discord_twin import DiscordTwin
from tests.keyring_backend import MemoryKeyring, use_keyring
from tests.kimaki_rig import (
    GEMINI_KEY,
    GONE_THREAD,
    OLD_APP_ID,
    KimakiWorld,
    fingerprint,
    kimaki_files,
    make_world,
)
from tests.setup_rig import APP_ID, TOKEN, running_twin


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    with use_keyring(MemoryKeyring()) as backend:
        yield backend


@pytest.fixture
async def twin() -> AsyncIterator[DiscordTwin]:
    async with running_twin() as running:
        yield running


@pytest.fixture
def world(twin: DiscordTwin, tmp_path: Path) -> KimakiWorld:
    return make_world(twin, tmp_path)


def secrets_of(data: Path) -> SecretStore:
    return SecretStore(data, env={})


async def run_import(world: KimakiWorld, data: Path, *, dry_run: bool = False) -> ImportReport:
    target = choose_database(data).path
    return await import_into(world.db, target, secrets_of(data), dry_run=dry_run, api_url=world.twin.api_url)


async def test_every_imported_table_lands_in_kimaki_tui(world: KimakiWorld) -> None:
    data = world.db.parent
    before = kimaki_files(world.db)
    report = await run_import(world, data)

    assert (data / OWN_DB_NAME).exists() and kimaki_files(world.db) == before
    secrets = secrets_of(data)
    assert secrets.get_bot_token() == TOKEN and secrets.get_gemini_key() == GEMINI_KEY
    with Store.open(data / OWN_DB_NAME) as store:
        links = {link.channel_id: link for link in store.list_channels()}
        assert set(links) == {str(world.alpha.id), str(world.beta.id)}
        alpha = links[str(world.alpha.id)]
        assert (alpha.directory, alpha.guild_id, alpha.app_id) == (
            str(world.alpha_dir),
            str(world.guild.id),
            str(APP_ID),
        )
        threads = {t.thread_id: t for t in store.list_threads()}
        assert set(threads) == {str(world.plain.id), str(world.worktree.id), str(world.synced.id)}
        plain, worktree = threads[str(world.plain.id)], threads[str(world.worktree.id)]
        assert (plain.session_id, plain.channel_id, plain.directory, plain.origin) == (
            "ses_plain",
            str(world.alpha.id),
            str(world.alpha_dir),
            "discord",
        )
        assert (worktree.channel_id, worktree.directory) == (str(world.beta.id), str(world.worktree_dir))
        assert threads[str(world.synced.id)].origin == "resume"
        assert store.get_channel_pref(str(world.alpha.id)).model == "anthropic/claude-sonnet-4"
        assert store.get_channel_pref(str(world.beta.id)).agent == "plan"
        assert store.get_session_pref("ses_plain").model == "openai/gpt-5"
        assert store.get_session_pref("ses_worktree").agent == "build"
        tasks = store.list_tasks(all_states=True)
    assert len(tasks) == 4 and {t.status for t in tasks} == {"scheduled"}
    cron = next(t for t in tasks if t.kind == "cron" and t.payload["prompt"] == "weekly review of open PRs")
    assert (cron.cron, cron.timezone, cron.channel_id) == ("0 9 * * 1", "Europe/Paris", str(world.alpha.id))
    assert cron.payload == {
        "target": "channel",
        "target_id": str(world.alpha.id),
        "prompt": "weekly review of open PRs",
        "name": "Weekly review",
        "model": "anthropic/claude-sonnet-4",
        "user_id": "42",
    }
    assert cron.next_run_at == parse_cron("0 9 * * 1", "Europe/Paris").next_after(datetime.now(UTC))
    restricted = next(t for t in tasks if t.payload["prompt"] == "restricted")
    assert restricted.payload == {
        "target": "channel",
        "target_id": str(world.alpha.id),
        "prompt": "restricted",
        "permissions": ["bash:deny", "edit:src/*:ask"],
        "parent_session": "ses_parent",
        "pre_run": "git fetch -q",
        "allow_concurrency": True,
    }
    guarded = next(t for t in tasks if t.payload["prompt"] == "guarded")
    assert guarded.payload["injection_guard"] == ["bash:*"]
    once = next(t for t in tasks if t.kind == "at")
    assert once.run_at == world.run_at and once.channel_id == str(world.alpha.id)
    assert once.payload == {
        "target": "thread",
        "target_id": str(world.plain.id),
        "prompt": "check the deploy",
        "agent": "build",
    }

    counts = {table: (c.imported, c.present, c.skipped) for table, c in report.counts.items()}
    assert counts == {
        "bot_tokens": (1, 0, 1),
        "bot_api_keys": (1, 0, 1),
        "channel_directories": (2, 0, 1),
        "thread_sessions": (3, 0, 1),
        "channel_models": (1, 0, 0),
        "channel_agents": (1, 0, 0),
        "session_models": (1, 0, 0),
        "session_agents": (1, 0, 0),
        "scheduled_tasks": (4, 0, 1),
    }
    reasons = {(s.table, s.key): s.reason for s in report.skips}
    assert "older bot" in reasons[("bot_tokens", str(OLD_APP_ID))]
    assert "voice channel" in reasons[("channel_directories", str(world.voice.id))]
    assert "no longer exists in Discord" in reasons[("thread_sessions", GONE_THREAD)]
    assert "finished in kimaki (completed)" in reasons[("scheduled_tasks", "3")]
    text = report.text()
    assert TOKEN not in text and GEMINI_KEY not in text and "was only read" in text


async def test_a_second_import_adds_nothing(world: KimakiWorld) -> None:
    data = world.db.parent
    first = await run_import(world, data)
    with Store.open(data / OWN_DB_NAME) as store:
        before = (store.list_channels(), store.list_threads(), store.list_tasks(all_states=True))
    second = await run_import(world, data)

    assert second.total_imported == 0
    for table, count in second.counts.items():
        assert count.present == first.counts[table].imported, table
        assert count.skipped == first.counts[table].skipped, table
    with Store.open(data / OWN_DB_NAME) as store:
        assert (store.list_channels(), store.list_threads(), store.list_tasks(all_states=True)) == before


async def test_kimaki_keeps_writing_its_file_and_the_import_reads_its_log(world: KimakiWorld) -> None:
    """kimaki running: its newest rows are still in the write-ahead log. The import sees them and
    changes neither the database file nor the log."""
    kimaki = sqlite3.connect(world.db)
    with contextlib.closing(kimaki):
        kimaki.execute("PRAGMA wal_autocheckpoint = 0")  # keep the row in the log, as a busy kimaki does
        kimaki.execute(
            "INSERT INTO channel_models (channel_id, model_id) VALUES (?, ?)",
            (str(world.beta.id), "openai/gpt-5"),
        )
        kimaki.commit()
        before = kimaki_files(world.db)
        assert before["-wal"] is not None
        data = world.db.parent
        report = await run_import(world, data)
        assert kimaki_files(world.db) == before
        assert report.counts["channel_models"].imported == 2
        with Store.open(data / OWN_DB_NAME) as store:
            assert store.get_channel_pref(str(world.beta.id)).model == "openai/gpt-5"
        # kimaki carries on writing to its file.
        kimaki.execute("DELETE FROM channel_models WHERE channel_id = ?", (str(world.beta.id),))
        kimaki.commit()


async def test_a_dry_run_writes_nothing_and_says_what_it_would_do(
    world: KimakiWorld, memory_keyring: MemoryKeyring
) -> None:
    data = world.db.parent
    dry = await run_import(world, data, dry_run=True)
    assert not (data / OWN_DB_NAME).exists() and memory_keyring.values == {}
    assert "Dry run: nothing was written." in dry.text() and "would import" in dry.text()
    real = await run_import(world, data)
    assert [(s.table, s.key) for s in dry.skips] == [(s.table, s.key) for s in real.skips]
    assert {t: c.imported for t, c in dry.counts.items()} == {t: c.imported for t, c in real.counts.items()}


async def test_what_kimaki_tui_already_has_is_kept(world: KimakiWorld, tmp_path: Path) -> None:
    data = world.db.parent
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    secrets_of(data).set_bot_token("my.own.token")
    with Store.open(data / OWN_DB_NAME) as store:
        store.link_channel(str(world.alpha.id), str(world.guild.id), str(elsewhere))
        store.set_session_pref("ses_plain", model="google/gemini-2.5-pro")
    report = await run_import(world, data)

    reasons = {(s.table, s.key): s.reason for s in report.skips}
    assert "another bot token" in reasons[("bot_tokens", str(APP_ID))]
    assert "links it to" in reasons[("channel_directories", str(world.alpha.id))]
    assert "already uses model google/gemini-2.5-pro" in reasons[("session_models", "ses_plain")]
    assert secrets_of(data).get_bot_token() == "my.own.token"
    with Store.open(data / OWN_DB_NAME) as store:
        assert store.channel_directory(str(world.alpha.id)) == str(elsewhere)
        assert store.session_for_thread(str(world.plain.id)) is not None  # its channel is linked (elsewhere)


async def test_older_kimaki_without_guild_ids_asks_discord(twin: DiscordTwin, tmp_path: Path) -> None:
    world = make_world(twin, tmp_path, before_guild_ids=True)
    report = await run_import(world, world.db.parent)
    assert report.counts["channel_directories"].imported == 2
    assert report.counts["thread_sessions"].imported == 3
    with Store.open(world.db.parent / OWN_DB_NAME) as store:
        assert {link.guild_id for link in store.list_channels()} == {str(world.guild.id)}


async def test_without_discord_threads_wait_for_a_later_run(world: KimakiWorld) -> None:
    data = world.db.parent
    target = choose_database(data).path
    offline = "http://127.0.0.1:9/api/v10"  # nothing listens there
    report = await import_into(world.db, target, secrets_of(data), api_url=offline)
    assert report.counts["channel_directories"].imported == 2  # kimaki knows their servers
    assert report.counts["thread_sessions"].imported == 0
    reasons = [s.reason for s in report.skips if s.table == "thread_sessions"]
    assert len(reasons) == 4 and all("run the import again" in r for r in reasons)
    assert "thread" in {s.reason.split(" ")[0] for s in report.skips if s.table == "scheduled_tasks"}
    again = await run_import(world, data)
    assert again.counts["thread_sessions"].imported == 3 and again.counts["scheduled_tasks"].imported == 1


def test_which_database_file_kimaki_tui_uses(tmp_path: Path) -> None:
    fresh = choose_database(tmp_path)
    assert fresh.path == tmp_path / KIMAKI_DB_NAME and fresh.notice is None
    with Store.open(tmp_path / KIMAKI_DB_NAME):
        pass  # kimaki-tui's own file under the shared name (data dirs made before the import existed)
    assert choose_database(tmp_path).path == tmp_path / KIMAKI_DB_NAME

    kimaki_dir = tmp_path / "kimaki"
    kimaki_dir.mkdir()
    with contextlib.closing(sqlite3.connect(kimaki_dir / KIMAKI_DB_NAME)) as conn:
        conn.execute("CREATE TABLE thread_sessions (thread_id text PRIMARY KEY, session_id text NOT NULL)")
        conn.execute(
            "CREATE TABLE channel_directories (channel_id text PRIMARY KEY, directory text NOT NULL)"
        )
    beside = choose_database(kimaki_dir)
    assert beside.path == kimaki_dir / OWN_DB_NAME and beside.kimaki_db == kimaki_dir / KIMAKI_DB_NAME
    assert beside.notice is not None and "kimaki import-kimaki" in beside.notice
    with Store.open(beside.path):
        pass
    assert choose_database(kimaki_dir).path == kimaki_dir / OWN_DB_NAME
    assert choose_database(kimaki_dir).notice is None  # said once, on the first start


async def test_not_a_kimaki_database_is_refused_untouched(tmp_path: Path) -> None:
    ours = tmp_path / "ours.db"
    with Store.open(ours):
        pass
    before = fingerprint(ours)
    with pytest.raises(KimakiSourceError, match="not a kimaki database"):
        await import_into(ours, tmp_path / OWN_DB_NAME, secrets_of(tmp_path))
    assert fingerprint(ours) == before and not (tmp_path / OWN_DB_NAME).exists()


def test_kimaki_timestamps_in_every_form_it_wrote() -> None:
    moment = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
    assert parse_time("2025-06-01T10:00:00.000Z") == moment  # Date.toISOString()
    assert parse_time("2025-06-01 10:00:00") == moment  # SQLite's CURRENT_TIMESTAMP (UTC)
    assert parse_time(1748772000000) == moment == parse_time("1748772000000")  # older releases: ms
    assert parse_time(None) is None and parse_time("soon") is None


def _task(
    status: str = "planned", kind: str = "cron", cron: str | None = "*/5 * * * *", **payload: object
) -> KimakiTask:
    body = {"kind": "channel", "channelId": "1", "prompt": "hi", **payload}
    return KimakiTask(1, status, kind, None, cron, "UTC", None, "boom", json.dumps(body))


@pytest.mark.parametrize(
    ("task", "reason"),
    [
        (_task("cancelled"), "finished in kimaki (cancelled)"),
        (_task("failed"), "finished in kimaki (failed: boom)"),
        (_task(cron="0 */5 * * * *"), "cannot read its cron expression"),  # kimaki's cron takes seconds
        (_task(permissions=["bash:maybe"]), "cannot read its permission rule"),
        (_task(permissions="bash:deny"), "not a list of tool:action strings"),
        (_task(injectionGuardPatterns=["rm -rf"]), "cannot read its injection-guard rule"),
        (_task(kind="at"), "a one-shot task without a time"),
        (_task(model="gpt-5"), "is not 'provider/model'"),
        (KimakiTask(1, "planned", "cron", None, "* * * * *", "UTC", None, None, "[1]"), "not a JSON object"),
    ],
)
def test_tasks_kimaki_tui_cannot_run_the_same_way_are_skipped(task: KimakiTask, reason: str) -> None:
    with pytest.raises(TaskSkipped, match=re.escape(reason)):
        convert_task(task, datetime.now(UTC))


def test_kimakis_send_options_move_over() -> None:
    task = _task(
        cwd="/srv/app/sub",
        permissions=["bash:deny"],
        injectionGuardPatterns=["webfetch:*"],
        parentSessionId="ses_p",
        preRunCommand="make",
        allowConcurrency=True,
    )
    _, request = convert_task(task, datetime.now(UTC))
    assert (request.cwd, request.permissions, request.parent_session) == (
        "/srv/app/sub",
        ("bash:deny",),
        "ses_p",
    )
    assert (request.pre_run, request.allow_concurrency) == ("make", True)
    assert request.injection_guard == ("webfetch:*",)


def test_a_task_kimaki_was_running_moves_over() -> None:
    schedule, request = convert_task(_task("running", worktreeName="wt", notifyOnly=True), datetime.now(UTC))
    assert schedule.kind == "cron" and schedule.first_run > datetime.now(UTC)
    assert (request.target, request.target_id, request.worktree, request.notify_only) == (
        "channel",
        "1",
        "wt",
        True,
    )
