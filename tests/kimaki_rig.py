"""A kimaki user's world for the import tests: a Discord twin with their server, project channels
and session threads, and kimaki's database (tests/kimaki_fixture.py) describing them, with rows in
every table the import reads — plus rows it must skip (a voice channel, an older bot, a deleted
thread, finished tasks)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kimaki_tui.testing.discord_twin import Channel, ChannelType, DiscordTwin, Guild
from kimaki_tui.testing.discord_twin import threads as twin_threads
from tests.harness import git_init
from tests.kimaki_fixture import KimakiRows, build_kimaki_db, iso, task_payload
from tests.setup_rig import APP_ID, TOKEN, make_token

OLD_APP_ID = 1111111111111111111
GEMINI_KEY = "AIzaSyKimakiGeminiKey0123"
GONE_THREAD = "1300000000000000001"  # a thread Discord no longer has


@dataclass
class KimakiWorld:
    twin: DiscordTwin
    guild: Guild
    alpha: Channel  # text channel → project alpha
    beta: Channel  # text channel → project beta
    voice: Channel
    plain: Channel  # thread in alpha
    worktree: Channel  # thread in beta, whose session runs in a worktree
    synced: Channel  # kimaki "Sync:" thread in alpha (external_poll)
    alpha_dir: Path
    beta_dir: Path
    worktree_dir: Path
    db: Path
    run_at: datetime  # the one-shot task's time


def make_world(
    twin: DiscordTwin, root: Path, *, before_guild_ids: bool = False, wal: bool = True
) -> KimakiWorld:
    owner = twin.add_user("owner")
    twin.set_application_owner(owner)
    guild = twin.add_guild("Home", owner=owner)
    category = guild.add_category("Kimaki")
    alpha = guild.add_text_channel("alpha", category=category)
    beta = guild.add_text_channel("beta", category=category)
    voice = guild.add_voice_channel("alpha-voice", category=category)

    def thread(parent: Channel, name: str) -> Channel:
        return twin_threads.start_thread(
            twin.world, parent, twin.world.bot_user, {"name": name}, kind=ChannelType.PUBLIC_THREAD
        )

    plain, worktree, synced = (
        thread(alpha, "fix the tests"),
        thread(beta, "feature"),
        thread(alpha, "Sync: x"),
    )
    alpha_dir, beta_dir = git_init(root / "alpha"), git_init(root / "beta")
    worktree_dir = root / "worktrees" / "beta-feature"
    worktree_dir.mkdir(parents=True)
    data = root / "kimaki-data"
    data.mkdir(exist_ok=True)
    world = KimakiWorld(
        twin,
        guild,
        alpha,
        beta,
        voice,
        plain,
        worktree,
        synced,
        alpha_dir,
        beta_dir,
        worktree_dir,
        data / "discord-sessions.db",
        datetime.now(UTC).replace(microsecond=0) + timedelta(days=2),
    )
    build_kimaki_db(
        world.db, kimaki_rows(world, before_guild_ids), before_guild_ids=before_guild_ids, wal=wal
    )
    return world


def kimaki_rows(w: KimakiWorld, before_guild_ids: bool = False) -> KimakiRows:
    rows = KimakiRows()
    rows.add(
        "bot_tokens",
        app_id=str(OLD_APP_ID),
        token=make_token(OLD_APP_ID),
        bot_mode="self_hosted",
        created_at="2025-01-02 10:00:00",
        last_used_at=iso("2025-02-01T10:00:00"),
    )
    rows.add(
        "bot_tokens",
        app_id=str(APP_ID),
        token=TOKEN,
        bot_mode="self_hosted",
        created_at="2025-03-01 10:00:00",
        last_used_at=iso("2025-06-01T10:00:00"),
    )
    rows.add("bot_api_keys", app_id=str(APP_ID), gemini_api_key=GEMINI_KEY, openai_api_key="sk-unused")
    rows.add("bot_api_keys", app_id=str(OLD_APP_ID), gemini_api_key="AIzaOldBotKey")
    guild = {} if before_guild_ids else {"guild_id": str(w.guild.id)}
    for channel, directory, kind in (
        (w.alpha, w.alpha_dir, "text"),
        (w.beta, w.beta_dir, "text"),
        (w.voice, w.alpha_dir, "voice"),
    ):
        rows.add(
            "channel_directories",
            channel_id=str(channel.id),
            directory=str(directory),
            channel_type=kind,
            **guild,
        )
    rows.add(
        "channel_models", channel_id=str(w.alpha.id), model_id="anthropic/claude-sonnet-4", variant="high"
    )
    rows.add("channel_agents", channel_id=str(w.beta.id), agent_name="plan")
    _threads(rows, w, before_guild_ids)
    rows.add("session_models", session_id="ses_plain", model_id="openai/gpt-5", variant="high")
    rows.add("session_agents", session_id="ses_worktree", agent_name="build")
    _tasks(rows, w)
    return rows


def _threads(rows: KimakiRows, w: KimakiWorld, before_guild_ids: bool) -> None:
    later = {} if before_guild_ids else {"updated_at": iso("2025-06-01T09:00:00")}
    rows.add("thread_sessions", thread_id=str(w.plain.id), session_id="ses_plain", **later)
    rows.add("thread_sessions", thread_id=str(w.worktree.id), session_id="ses_worktree", **later)
    rows.add("thread_sessions", thread_id=str(w.synced.id), session_id="ses_external", source="external_poll")
    rows.add("thread_sessions", thread_id=GONE_THREAD, session_id="ses_gone")
    rows.add(
        "thread_workspaces",
        thread_id=str(w.worktree.id),
        workspace_type="worktree",
        status="ready",
        project_directory=str(w.beta_dir),
        workspace_directory=str(w.worktree_dir),
        workspace_name="beta-feature",
    )
    rows.add("part_messages", part_id="prt_1", message_id="1", thread_id=str(w.plain.id))


def _tasks(rows: KimakiRows, w: KimakiWorld) -> None:
    alpha, plain = str(w.alpha.id), str(w.plain.id)
    cron = task_payload(
        "channel",
        alpha,
        "weekly review of open PRs",
        name="Weekly review",
        model="anthropic/claude-sonnet-4",
        userId="42",
    )
    rows.add(
        "scheduled_tasks",
        status="planned",
        schedule_kind="cron",
        cron_expr="0 9 * * 1",
        timezone="Europe/Paris",
        next_run_at=iso("2025-06-02T07:00:00"),
        payload_json=cron,
        prompt_preview="weekly review of open PRs",
        channel_id=alpha,
    )
    once = task_payload("thread", plain, "check the deploy", agent="build")
    moment = iso(w.run_at.strftime("%Y-%m-%dT%H:%M:%S"))
    rows.add(
        "scheduled_tasks",
        status="planned",
        schedule_kind="at",
        run_at=moment,
        next_run_at=moment,
        payload_json=once,
        prompt_preview="check the deploy",
        thread_id=plain,
    )
    done = task_payload("channel", alpha, "already ran")
    rows.add(
        "scheduled_tasks",
        status="completed",
        schedule_kind="at",
        run_at=iso("2025-01-01T00:00:00"),
        next_run_at=iso("2025-01-01T00:00:00"),
        payload_json=done,
        prompt_preview="already ran",
    )
    restricted = task_payload(
        "channel",
        alpha,
        "restricted",
        permissions=["bash:deny", "edit:src/*:ask"],
        preRunCommand="git fetch -q",
        allowConcurrency=True,
        parentSessionId="ses_parent",
    )
    guarded = task_payload("channel", alpha, "guarded", injectionGuardPatterns=["bash:*"])
    for payload, preview in ((restricted, "restricted"), (guarded, "guarded")):
        rows.add(
            "scheduled_tasks",
            status="planned",
            schedule_kind="cron",
            cron_expr="0 * * * *",
            timezone="UTC",
            next_run_at=iso("2025-06-01T10:00:00"),
            payload_json=payload,
            prompt_preview=preview,
        )


def fingerprint(path: Path) -> tuple[str, int] | None:
    """A file's content hash and modification time (None when absent)."""
    if not path.exists():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def kimaki_files(db: Path) -> dict[str, tuple[str, int] | None]:
    """kimaki's database file and its write-ahead log, fingerprinted."""
    return {suffix: fingerprint(db.with_name(db.name + suffix)) for suffix in ("", "-wal")}
