"""Where the bot token and API keys live: the OS keyring per data dir, env vars first, an opt-in file last.

Lookup order for each secret: its environment variable (`KIMAKI_BOT_TOKEN`, `GEMINI_API_KEY`),
then the OS keyring (service `kimaki:<data-dir>`), then — only when the user opted in with
`--secrets-file` or `KIMAKI_SECRETS_FILE=1` (the `secrets_file` setting, given here as
`allow_file`) — `<data-dir>/secrets.json` (mode 0600, plain text). The composition root builds the
run's one SecretStore and passes it down.
keyrings.alt is deliberately not used: it is picked silently once installed and is plain text too.

Secret values are registered with the log masker as soon as they are read or written, and no
exception raised here carries a secret in its message.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from kimaki_tui.errors import KimakiError
from kimaki_tui.logs import register_secret
from kimaki_tui.private_files import open_private, private_dir

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

BOT_TOKEN = "bot-token"
GEMINI_API_KEY = "gemini-api-key"
ENV_VARS = {BOT_TOKEN: "KIMAKI_BOT_TOKEN", GEMINI_API_KEY: "GEMINI_API_KEY"}
SECRETS_FILE = "secrets.json"
Source = Literal["env", "keyring", "file"]

NO_KEYRING_HELP = (
    "No working OS keyring ({detail}). Secrets cannot be stored safely on this machine.\n"
    "Either:\n"
    "  • set KIMAKI_BOT_TOKEN (and GEMINI_API_KEY for voice messages) in the environment — for a\n"
    "    systemd service, put them in an EnvironmentFile= readable only by the service user; or\n"
    "  • opt in to a plain-text file: run with --secrets-file or set KIMAKI_SECRETS_FILE=1; the\n"
    "    secrets then go to {path} (mode 0600, not encrypted)."
)
FILE_WARNING = (
    "Secrets are stored in plain text in {path} (opted in with --secrets-file / KIMAKI_SECRETS_FILE). "
    "Anyone who can read that file as you can use your bot; prefer an OS keyring or env vars."
)


class SecretsUnavailable(KimakiError):
    """No place to store a secret: no keyring and no opt-in file. The message says what to do."""


def mask(secret: str | None) -> str:
    """What a screen may show of a secret: its first 4 and last 4 characters, or nothing if short."""
    if not secret:
        return ""
    if len(secret) < 12:
        return "…"
    return f"{secret[:4]}…{secret[-4:]}"


def app_id_from_token(token: str) -> str | None:
    """A bot token's first segment is the application id in base64; None if it is not a token."""
    import base64

    head = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded if decoded.isdigit() and 15 <= len(decoded) <= 21 else None


class SecretStore:
    """The secrets of one data dir. Cheap to build; the keyring is only touched when asked. `env` is
    where the secret variables are read (the process environment, for the root)."""

    def __init__(
        self, data_dir: Path, env: Mapping[str, str] = os.environ, *, allow_file: bool = False
    ) -> None:
        self.data_dir = Path(data_dir)
        self.env = env
        self.service = f"kimaki:{self.data_dir}"
        self.file_path = self.data_dir / SECRETS_FILE
        self.allow_file = allow_file
        if self.allow_file:
            log.warning(FILE_WARNING.format(path=self.file_path))

    # -- the public API ---------------------------------------------------------------------------

    @property
    def warning(self) -> str | None:
        """A notice to show at every start when the plain-text file fallback is enabled."""
        return FILE_WARNING.format(path=self.file_path) if self.allow_file else None

    def allow_plain_file(self) -> None:
        """Opt in to the plain-text file from now on (the wizard's choice on a machine without a
        keyring); the caller records the choice for later runs."""
        if not self.allow_file:
            self.allow_file = True
            log.warning(FILE_WARNING.format(path=self.file_path))

    def get_bot_token(self) -> str | None:
        return self.get(BOT_TOKEN)

    def set_bot_token(self, token: str) -> Source:
        return self.set(BOT_TOKEN, token)

    def delete_bot_token(self) -> None:
        self.delete(BOT_TOKEN)

    def get_gemini_key(self) -> str | None:
        return self.get(GEMINI_API_KEY)

    def set_gemini_key(self, key: str) -> Source:
        return self.set(GEMINI_API_KEY, key)

    def delete_gemini_key(self) -> None:
        self.delete(GEMINI_API_KEY)

    def backend_status(self) -> tuple[bool, str]:
        """(True, backend name) when the OS keyring can be used, else (False, why not)."""
        backend = _keyring()
        name = _backend_name(backend)
        if not _usable(backend):
            return False, f"{name}: no Secret Service, macOS Keychain or Windows Credential Locker found"
        from keyring.errors import KeyringError

        try:  # reading is the cheapest probe that also reveals a locked or dismissed keyring
            backend.get_password(self.service, BOT_TOKEN)
        except (KeyringError, RuntimeError) as exc:
            return False, f"{name}: {type(exc).__name__}: {exc}"
        return True, name

    def unavailable_help(self) -> str:
        """The explanation shown when secrets cannot be stored (no keyring, no opt-in file)."""
        return NO_KEYRING_HELP.format(detail=self.backend_status()[1], path=self.file_path)

    def source_of(self, name: str) -> Source | None:
        """Where `name` would be read from now, or None when it is not set anywhere."""
        if self._from_env(name):
            return "env"
        if self._from_keyring(name):
            return "keyring"
        if self.allow_file and self._read_file().get(name):
            return "file"
        return None

    def get(self, name: str) -> str | None:
        value = self._from_env(name) or self._from_keyring(name)
        if value is None and self.allow_file:
            value = self._read_file().get(name) or None
        register_secret(value)
        return value

    def set(self, name: str, value: str) -> Source:
        """Store `value` in the keyring, else in the opt-in file; raises SecretsUnavailable."""
        value = value.strip()
        if not value:
            raise ValueError(f"an empty {name} cannot be stored")
        register_secret(value)
        if self._from_env(name):
            log.info("%s is set in the environment, which overrides the stored value", ENV_VARS[name])
        ok, detail = self.backend_status()
        if ok:
            from keyring.errors import KeyringError

            try:
                _keyring().set_password(self.service, name, value)
                return "keyring"
            except (KeyringError, RuntimeError) as exc:
                detail = f"{type(exc).__name__}: {exc}"
        if not self.allow_file:
            raise SecretsUnavailable(NO_KEYRING_HELP.format(detail=detail, path=self.file_path))
        self._write_file({**self._read_file(), name: value})
        log.warning(FILE_WARNING.format(path=self.file_path))
        return "file"

    def delete(self, name: str) -> None:
        """Forget a stored secret (keyring and file); an env var is left alone."""
        backend = _keyring()
        if _usable(backend):
            from keyring.errors import KeyringError

            try:
                backend.delete_password(self.service, name)
            except (KeyringError, RuntimeError):  # PasswordDeleteError when it was not there
                pass
        stored = self._read_file()
        if name in stored:
            del stored[name]
            self._write_file(stored)

    # -- the three places -------------------------------------------------------------------------

    def _from_env(self, name: str) -> str | None:
        return self.env.get(ENV_VARS.get(name, ""), "").strip() or None

    def _from_keyring(self, name: str) -> str | None:
        backend = _keyring()
        if not _usable(backend):
            return None
        from keyring.errors import KeyringError

        try:
            return backend.get_password(self.service, name) or None
        except (KeyringError, RuntimeError) as exc:
            log.warning("cannot read %s from the keyring (%s): %s", name, _backend_name(backend), exc)
            return None

    def _read_file(self) -> dict[str, str]:
        try:
            info = self.file_path.lstat()
        except FileNotFoundError:
            return {}
        if not stat.S_ISREG(info.st_mode):
            log.error("%s is not a regular file; ignoring it", self.file_path)
            return {}
        if info.st_mode & 0o077:
            log.warning("%s was readable by others; restricting it to mode 0600", self.file_path)
            os.chmod(self.file_path, 0o600)
        try:
            data = json.loads(self.file_path.read_text(encoding="utf-8"))
        except ValueError:
            log.error("%s is not valid JSON; ignoring it", self.file_path)
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _write_file(self, values: dict[str, str]) -> None:
        private_dir(self.data_dir)
        temp = self.file_path.with_name(f".{SECRETS_FILE}.{os.getpid()}.tmp")
        # Created 0600 from the first byte (never chmod after writing), then renamed over the old one.
        with os.fdopen(open_private(temp), "w", encoding="utf-8") as handle:
            json.dump(values, handle)
        os.replace(temp, self.file_path)


def _keyring() -> KeyringBackend:
    import keyring

    return keyring.get_keyring()


def _backend_name(backend: KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def _usable(backend: KeyringBackend) -> bool:
    """False for the backends that cannot keep a secret (fail raises, null silently drops)."""
    from keyring.backends import chainer, fail, null

    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    if isinstance(backend, chainer.ChainerBackend):
        return any(_usable(b) for b in backend.backends)
    return True
