"""The container image's files, checked where no container engine runs (CI has none): the
Dockerfile's environment means what it says to kimaki's settings, its health check asks the lock
port it sets, it pins the OpenCode the suite tests, runs unprivileged and holds no secret; the
compose example mounts what the image declares."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from kimaki_tui.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = (ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    lines = [line.strip() for line in joined.splitlines()]
    rows = [line for line in lines if line and not line.startswith("#")]
    return [(row.split(None, 1)[0].upper(), row.split(None, 1)[1]) for row in rows]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for name, args in instructions():
        if name == "ENV":
            for pair in shlex.split(args):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def test_the_image_environment_is_what_kimaki_reads(tmp_path: Path) -> None:
    env = image_env()
    assert env["KIMAKI_DATA_DIR"] == "/data"
    settings = load_settings(env={**env, "KIMAKI_DATA_DIR": str(tmp_path / "data")})
    assert settings.no_tui is True
    assert settings.lock_port == int(env["KIMAKI_LOCK_PORT"])
    assert not [key for key in env if re.search(r"TOKEN|KEY|SECRET|PASSWORD", key)]


def test_the_health_check_asks_readyz_on_the_lock_port() -> None:
    check = next(args for name, args in instructions() if name == "HEALTHCHECK")
    assert f"http://127.0.0.1:{image_env()['KIMAKI_LOCK_PORT']}/readyz" in check


def test_it_runs_kimaki_headless_as_a_user_with_the_tested_opencode() -> None:
    rows = instructions()
    assert rows[0] == ("FROM", "python:3.11-slim-bookworm")
    assert ("CMD", '["kimaki", "--no-tui"]') in rows
    users = [args for name, args in rows if name == "USER"]
    assert users and users[-1] != "root"
    pinned = re.search(r"^OPENCODE_VERSION=(\S+)$", (ROOT / "scripts" / "setup.sh").read_text(), re.M)
    assert pinned and ("ARG", f"OPENCODE_VERSION={pinned.group(1)}") in rows
    assert any(name == "RUN" and '"opencode-ai@${OPENCODE_VERSION}"' in args for name, args in rows)


def test_the_compose_example_mounts_the_image_volumes() -> None:
    volumes = next(args for name, args in instructions() if name == "VOLUME")
    for path in re.findall(r'"(/[^"]+)"', volumes):
        assert f":{path}" in COMPOSE, f"{path} is not mounted in deploy/compose.yaml"
    assert "env_file: .env" in COMPOSE and "KIMAKI_BOT_TOKEN" in COMPOSE
