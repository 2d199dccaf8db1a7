"""What a one-shot command needs without a running kimaki, built the same way the run builds it:
the run's one SecretStore (every place that reads or writes a secret gets it from here), and the
core's database services (`OfflineCore`) for the settings' data dir."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kimaki_tui.core.offline import OfflineCore
    from kimaki_tui.secrets import SecretStore
    from kimaki_tui.settings import Settings


def open_secrets(settings: Settings, env: Mapping[str, str] | None = None) -> SecretStore:
    """The secrets of `settings.data_dir`: the secret variables of `env` (the process environment),
    then the keyring, then — with the `secrets_file` setting — the plain-text file."""
    from kimaki_tui.secrets import SecretStore

    environ = os.environ if env is None else env
    return SecretStore(settings.data_dir, environ, allow_file=settings.secrets_file)


def open_core(settings: Settings) -> OfflineCore:
    """The core's database services for the settings' database (a context manager: closed when
    done); raises the store's errors for a database that cannot be used."""
    from kimaki_tui.core.offline import OfflineCore

    return OfflineCore.open(settings.db_path)
