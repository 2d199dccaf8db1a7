"""Where kimaki keeps its files, and the settings one run starts with.

The data directory is `--data-dir`, else `$KIMAKI_DATA_DIR`, else `~/.kimaki` (kimaki's default).
It holds the SQLite database (kimaki_tui.database_file says which file) and the log; secrets
never go there (they live in the keyring).
The directory is kept at mode 0700 and its files at 0600 (kimaki_tui.private_files).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = "~/.kimaki"
DATA_DIR_ENV = "KIMAKI_DATA_DIR"


@dataclass(frozen=True, slots=True)
class Settings:
    """One run's settings. Paths derive from `data_dir`; add fields here as options appear."""

    data_dir: Path
    no_tui: bool = False

    @property
    def db_path(self) -> Path:
        """`discord-sessions.db`, or `kimaki-tui.db` beside kimaki's own database (database_file)."""
        from kimaki_tui.database_file import choose_database

        return choose_database(self.data_dir).path

    @property
    def log_path(self) -> Path:
        return self.data_dir / "kimaki.log"

    @property
    def projects_dir(self) -> Path:
        """Where `/create-new-project` creates folders."""
        return self.data_dir / "projects"


def app_id_from_token(token: str) -> str | None:
    """A bot token's first segment is the application id in base64; None if it is not a token."""
    import base64

    head = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded if decoded.isdigit() and 15 <= len(decoded) <= 21 else None


def resolve_data_dir(
    explicit: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    create: bool = True,
) -> Path:
    """The absolute data directory (created if missing and made 0700, unless `create` is False)."""
    from kimaki_tui.private_files import private_dir

    environ = os.environ if env is None else env
    raw = os.fspath(explicit) if explicit else environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR
    path = Path(raw).expanduser().resolve()
    if create:
        private_dir(path)
    return path


def load_settings(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    no_tui: bool = False,
    env: Mapping[str, str] | None = None,
) -> Settings:
    return Settings(data_dir=resolve_data_dir(data_dir, env=env), no_tui=no_tui)
