"""The `kimaki` entry point, `kimaki events render`, the data directory and logging set-up."""

from __future__ import annotations

import logging
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from kimaki_tui import logs, settings
from kimaki_tui.cli import events_cmd
from kimaki_tui.presentation.render import VERBOSITIES
from tests.harness import FIXTURES

SAMPLE = FIXTURES / "events-sample-1.18.33.jsonl"
TOKEN = "MTA5ODc2NTQzMjEwOTg3NjU0Mw.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"


def kimaki(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "kimaki_tui", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def test_render_the_recorded_stream() -> None:
    done = kimaki("events", "render", str(SAMPLE))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "┣ bash `echo hi > out.txt`" in out
    assert "⚠️ **Permission needed** — bash: `echo hi > out.txt`" in out
    assert "⬥ TOOL_RESULT_SEEN: (no output)" in out
    assert "*demo · <1s · fake-model*" in out
    assert "✗ opencode error: APIError: Cannot connect to API" in out
    # Each message comes after its own header, numbered in posting order.
    headers = [line for line in out.splitlines() if line.startswith("─── message ")]
    assert [h.split()[2] for h in headers] == [str(n) for n in range(1, len(headers) + 1)]
    assert out.index("TOOL_RESULT_SEEN") < out.index("*demo · <1s")
    assert "warning" not in done.stderr


def test_text_only_drops_tool_lines() -> None:
    done = kimaki("events", "render", "--verbosity", "text_only", str(SAMPLE))
    assert done.returncode == 0
    assert "┣ bash" not in done.stdout and "TOOL_RESULT_SEEN" in done.stdout


def test_malformed_lines_are_reported_and_skipped(tmp_path: Path) -> None:
    lines = SAMPLE.read_text().splitlines()
    broken = tmp_path / "broken.jsonl"
    bad = ["{not json"], ['["a list"]', '{"no": "type"}']
    broken.write_text("\n".join([lines[0], *bad[0], *lines[1:40], *bad[1], *lines[40:]]))
    done = kimaki("events", "render", str(broken))
    assert done.returncode == 0
    assert "warning: line 2:" in done.stderr
    assert "warning: line 42:" in done.stderr and "warning: line 43:" in done.stderr
    assert "┣ bash `echo hi > out.txt`" in done.stdout and "*demo · <1s · fake-model*" in done.stdout


def test_missing_file_fails_cleanly(tmp_path: Path) -> None:
    done = kimaki("events", "render", str(tmp_path / "nope.jsonl"))
    assert done.returncode == 1
    assert "cannot read" in done.stderr and "Traceback" not in done.stderr


def test_help_and_version() -> None:
    done = kimaki("--help")
    assert done.returncode == 0
    assert "--data-dir" in done.stdout and "--no-tui" in done.stdout and "events" in done.stdout
    assert kimaki("events", "render", "--help").returncode == 0
    version = kimaki("--version")
    assert version.returncode == 0 and version.stdout.startswith("kimaki ")


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys; from kimaki_tui.cli.main import build_parser; build_parser();"
        "print(sorted(m for m in ('httpx', 'discord', 'textual', 'peewee') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]"


def test_cli_verbosity_choices_match_the_renderer() -> None:
    assert events_cmd.VERBOSITIES == VERBOSITIES


# ---- data directory -----------------------------------------------------------------------------
def test_data_dir_resolution(tmp_path: Path) -> None:
    explicit = settings.resolve_data_dir(tmp_path / "a" / "b", env={})
    assert explicit == (tmp_path / "a" / "b").resolve() and explicit.is_dir()
    from_env = settings.resolve_data_dir(None, env={settings.DATA_DIR_ENV: str(tmp_path / "env")})
    assert from_env == (tmp_path / "env").resolve() and from_env.is_dir()
    default = settings.resolve_data_dir(None, env={}, create=False)
    assert default == Path("~/.kimaki").expanduser().resolve()
    loaded = settings.load_settings({"data_dir": str(tmp_path / "d"), "no_tui": True}, env={})
    assert loaded.db_path == loaded.data_dir / "discord-sessions.db"
    assert loaded.log_path == loaded.data_dir / "kimaki.log"
    assert loaded.no_tui is True


# ---- logging ------------------------------------------------------------------------------------
@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    chatty = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
    for name, old in chatty.items():
        logging.getLogger(name).setLevel(old)
    logging.captureWarnings(False)


@pytest.mark.usefixtures("restore_logging")
def test_log_file_is_truncated_with_a_header_and_secrets_are_masked(tmp_path: Path) -> None:
    log_path = tmp_path / "kimaki.log"
    log_path.write_text("old run\n")
    terminal = logging.StreamHandler(sys.stderr)
    logging.getLogger().addHandler(terminal)
    ring = logs.setup_logging(log_path, logging.DEBUG)
    assert terminal not in logging.getLogger().handlers  # never a stdout/stderr handler

    logs.register_secret("hunter2-api-key")
    log = logging.getLogger("kimaki_tui.test")
    log.info("login with %s and key=%s", TOKEN, "hunter2-api-key")
    try:
        raise RuntimeError(f"bad token {TOKEN}")
    except RuntimeError:
        log.exception("failed")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("careful", UserWarning, stacklevel=1)
    for handler in logging.getLogger().handlers:
        handler.flush()

    content = log_path.read_text()
    assert "old run" not in content
    assert content.startswith("--- kimaki log started at ")
    assert "login with [redacted] and key=[redacted]" in content
    assert "bad token [redacted]" in content and TOKEN not in content and "hunter2" not in content
    assert "careful" in content
    lines = ring.lines()
    assert any("login with [redacted]" in line for line in lines)
    assert logs.ring_handler() is ring


@pytest.mark.usefixtures("restore_logging")
def test_ring_keeps_the_last_lines_and_notifies(tmp_path: Path) -> None:
    ring = logs.setup_logging(tmp_path / "kimaki.log", ring_capacity=3)
    seen: list[str] = []
    unsubscribe = ring.subscribe(seen.append)
    log = logging.getLogger("kimaki_tui.test")
    for n in range(5):
        log.warning("line %d", n)
    unsubscribe()
    log.warning("after")
    assert [line.rsplit(" ", 1)[-1] for line in ring.lines()] == ["3", "4", "after"]
    assert len(seen) == 5
    # A second set-up replaces the first one's handlers instead of doubling every line.
    logs.setup_logging(tmp_path / "kimaki.log")
    assert ring not in logging.getLogger().handlers


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_third_party_routine_is_debug(tmp_path: Path, level: str) -> None:
    ring = logs.setup_logging(tmp_path / "kimaki.log", level)
    logging.getLogger("apscheduler.executors.default").info('Running job "send" (scheduled at now)')
    logging.getLogger("discord.client").warning("PyNaCl is not installed, voice will NOT be supported")
    logging.getLogger("apscheduler.scheduler").warning("Run time of job was missed")
    logging.getLogger("kimaki_tui.bot").info("logged in")
    for handler in logging.getLogger().handlers:
        handler.flush()
    for text in (ring.lines(), (tmp_path / "kimaki.log").read_text().splitlines()):
        joined = "\n".join(text)
        assert "INFO    kimaki_tui.bot: logged in" in joined
        assert "WARNING apscheduler.scheduler: Run time of job was missed" in joined
        routine = [line for line in text if "Running job" in line or "PyNaCl" in line]
        if level == "INFO":
            assert routine == []
        else:
            assert len(routine) == 2 and all(" DEBUG   " in line for line in routine)


def test_a_subcommand_option_is_never_read_as_a_setting_prefix() -> None:
    from kimaki_tui.cli.main import build_parser

    args = build_parser().parse_args(["task", "list", "--all"])
    assert args.all is True and getattr(args, "discord.allow_all_users") is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--allow-all", "task", "list"])  # no abbreviation of --allow-all-users
