"""SecretStore through the real keyring API: in-memory backend, env overrides, the no-keyring case
with and without the opt-in file, masking, and one round trip through a real Secret Service."""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import fail

from kimaki_tui.logs import SecretFilter
from kimaki_tui.root.offline import open_secrets
from kimaki_tui.secrets import BOT_TOKEN, SecretStore, SecretsUnavailable, mask
from kimaki_tui.settings import load_settings
from tests.keyring_backend import LockedKeyring, MemoryKeyring, use_keyring

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"
OTHER = "OTg3NjU0MzIxMDk4NzY1NDMy.GzYxWv.ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210ab"


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    with use_keyring(MemoryKeyring()) as backend:
        yield backend


@pytest.fixture
def no_keyring() -> Iterator[None]:
    """What keyring picks on a headless server: every call raises NoKeyringError."""
    with use_keyring(fail.Keyring()):  # type: ignore[no-untyped-call]  # keyring is untyped
        yield


def test_token_round_trip_in_the_keyring_per_data_dir(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    one = SecretStore(tmp_path / "one", env={})
    two = SecretStore(tmp_path / "two", env={})
    assert one.get_bot_token() is None and one.source_of(BOT_TOKEN) is None
    assert one.set_bot_token(f"  {TOKEN}\n") == "keyring"
    assert one.get_bot_token() == TOKEN
    assert one.source_of(BOT_TOKEN) == "keyring"
    assert two.get_bot_token() is None, "another data dir has its own secrets"
    assert memory_keyring.values == {(f"kimaki:{tmp_path / 'one'}", "bot-token"): TOKEN}
    assert not (tmp_path / "one" / "secrets.json").exists(), "nothing on disk when the keyring works"
    one.set_gemini_key("gemini-key-123456")
    assert one.get_gemini_key() == "gemini-key-123456"
    one.delete_bot_token()
    assert one.get_bot_token() is None
    one.delete_bot_token()  # deleting twice is fine
    assert one.backend_status() == (True, "tests.keyring_backend.MemoryKeyring")


def test_env_overrides_the_keyring(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    store = SecretStore(tmp_path, env={"KIMAKI_BOT_TOKEN": OTHER, "GEMINI_API_KEY": " g-env-key "})
    store.set_bot_token(TOKEN)
    assert store.get_bot_token() == OTHER
    assert store.source_of(BOT_TOKEN) == "env"
    assert store.get_gemini_key() == "g-env-key"
    assert SecretStore(tmp_path, env={}).get_bot_token() == TOKEN, "the stored value is still there"


def test_no_keyring_refuses_to_store_and_explains(tmp_path: Path, no_keyring: None) -> None:
    store = SecretStore(tmp_path, env={})
    ok, detail = store.backend_status()
    assert not ok and "fail.Keyring" in detail
    with pytest.raises(SecretsUnavailable) as caught:
        store.set_bot_token(TOKEN)
    message = str(caught.value)
    assert "No working OS keyring" in message
    for hint in ("KIMAKI_BOT_TOKEN", "EnvironmentFile", "--secrets-file", "KIMAKI_SECRETS_FILE=1"):
        assert hint in message
    assert TOKEN not in message
    assert not (tmp_path / "secrets.json").exists()
    assert store.get_bot_token() is None
    assert store.warning is None


@pytest.mark.parametrize("opt_in", ["flag", "env"])
def test_opt_in_file_fallback_is_private(
    tmp_path: Path, no_keyring: None, opt_in: str, caplog: pytest.LogCaptureFixture
) -> None:
    env = {"KIMAKI_SECRETS_FILE": "1"} if opt_in == "env" else {}
    flags = {"secrets_file": True} if opt_in == "flag" else {}
    settings = load_settings({"data_dir": str(tmp_path), **flags}, env)  # the root's way to the store
    with caplog.at_level(logging.WARNING, logger="kimaki_tui.secrets"):
        store = open_secrets(settings, env={})
    assert any("plain text" in r.getMessage() for r in caplog.records), "warned at start"
    assert store.warning is not None and str(tmp_path / "secrets.json") in store.warning
    assert store.set_bot_token(TOKEN) == "file"
    path = tmp_path / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.source_of(BOT_TOKEN) == "file"
    assert open_secrets(settings, env={}).get_bot_token() == TOKEN
    assert SecretStore(tmp_path, env={}).get_bot_token() is None, "without the opt-in the file is ignored"
    store.delete_bot_token()
    assert store.get_bot_token() is None


def test_a_locked_keyring_is_reported_and_never_crashes(tmp_path: Path) -> None:
    with use_keyring(LockedKeyring()):
        store = SecretStore(tmp_path, env={})
        ok, detail = store.backend_status()
        assert not ok and "InitError" in detail
        assert store.get_bot_token() is None
        with pytest.raises(SecretsUnavailable, match="KIMAKI_SECRETS_FILE=1"):
            store.set_bot_token(TOKEN)
        fallback = SecretStore(tmp_path, env={}, allow_file=True)
        assert fallback.set_bot_token(TOKEN) == "file"
        assert fallback.get_bot_token() == TOKEN


def test_a_loosened_secrets_file_is_made_private_again(tmp_path: Path, no_keyring: None) -> None:
    store = SecretStore(tmp_path, env={}, allow_file=True)
    store.set_bot_token(TOKEN)
    os.chmod(tmp_path / "secrets.json", 0o644)
    assert store.get_bot_token() == TOKEN
    assert stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode) == 0o600


def test_mask_shows_only_the_ends() -> None:
    assert mask(TOKEN) == "MTIz…89AB"
    assert TOKEN[5:-5] not in mask(TOKEN)
    assert mask("short") == "…"
    assert mask(None) == ""


def test_read_secrets_are_masked_in_logs(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    key = "AIzaSyNotARealKeyButLongEnough"
    SecretStore(tmp_path, env={}).set_gemini_key(key)
    SecretStore(tmp_path, env={}).get_gemini_key()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "key is %s", (key,), None)
    SecretFilter().filter(record)
    assert key not in record.getMessage()


def test_real_secret_service_round_trip(tmp_path: Path) -> None:
    """gnome-keyring under a private D-Bus session: one process stores, another reads it back."""
    missing = [tool for tool in ("dbus-run-session", "gnome-keyring-daemon") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (scripts/setup.sh --dev installs them)")
    data_dir = tmp_path / "data"
    snippet = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from kimaki_tui.secrets import SecretStore
        store = SecretStore(Path(sys.argv[2]), env={})
        ok, backend = store.backend_status()
        if sys.argv[1] == "store":
            print(ok, backend, store.set_bot_token(sys.argv[3]))
        else:
            print(store.get_bot_token() == sys.argv[3], store.source_of("bot-token"))
        """
    )
    home = tmp_path / "home"
    run_dir = tmp_path / "run"
    for folder in (home, run_dir):
        folder.mkdir(mode=0o700)
    python = f"{sys.executable} -c {_quote(snippet)}"
    script = (
        f"export HOME={home} XDG_DATA_HOME={home}/.local/share XDG_RUNTIME_DIR={run_dir}; "
        'eval "$(printf pw | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null; '
        f"{python} store {data_dir} {TOKEN} && {python} read {data_dir} {TOKEN}"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("KIMAKI_BOT_TOKEN", "DBUS_SESSION_BUS_ADDRESS")}
    result = subprocess.run(
        ["dbus-run-session", "--", "bash", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    stored, read = result.stdout.strip().splitlines()[-2:]
    assert stored == "True keyring.backends.SecretService.Keyring keyring"
    assert read == "True keyring"
    assert TOKEN not in result.stderr


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
