"""Moving from kimaki: read kimaki's database (never writing it) into kimaki-tui's own.

`import_kimaki` does one import into an open Store; `import_into` opens kimaki-tui's database
itself (a dry run against a file that does not exist yet uses a throwaway empty one, so nothing
is created); `KimakiOffer` is what the setup wizard offers when kimaki's database is found.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kimaki_tui.database_file import find_kimaki_database
from kimaki_tui.migrate_kimaki.importer import KimakiImporter, discord_token
from kimaki_tui.migrate_kimaki.report import ImportReport
from kimaki_tui.migrate_kimaki.source import KimakiData, KimakiSourceError, read_kimaki

if TYPE_CHECKING:
    from kimaki_tui.secrets import SecretStore
    from kimaki_tui.store.repo import Store

__all__ = [
    "ImportReport",
    "KimakiData",
    "KimakiOffer",
    "KimakiSourceError",
    "import_into",
    "import_kimaki",
    "read_kimaki",
]

LOOKUP_TIMEOUT = 15.0


async def import_kimaki(
    source: Path,
    store: Store,
    secrets: SecretStore,
    *,
    dry_run: bool = False,
    api_url: str | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Import kimaki's database at `source` into `store` and `secrets`; KimakiSourceError when
    it cannot be read. Discord (for the threads' channels) is reached as the CLI reaches it, at
    `api_url` (the `discord.api_url` setting; None: Discord itself)."""
    from kimaki_tui.discord_rest import DiscordRest

    data = read_kimaki(source)
    token = discord_token(data, secrets)
    rest = DiscordRest(token, base_url=api_url, timeout=LOOKUP_TIMEOUT) if token else None
    try:
        importer = KimakiImporter(data, store, secrets, discord=rest, dry_run=dry_run, now=now)
        return await importer.run()
    finally:
        if rest is not None:
            await rest.aclose()


async def import_into(
    source: Path,
    target: Path,
    secrets: SecretStore,
    *,
    dry_run: bool = False,
    api_url: str | None = None,
) -> ImportReport:
    """Like `import_kimaki`, opening kimaki-tui's database at `target` (and closing it)."""
    read_kimaki(source)  # a wrong --from fails before kimaki-tui's file is created
    with _target_store(target, dry_run=dry_run) as store:
        report = await import_kimaki(source, store, secrets, dry_run=dry_run, api_url=api_url)
    report.target = target
    return report


@contextlib.contextmanager
def _target_store(target: Path, *, dry_run: bool) -> Iterator[Store]:
    """kimaki-tui's store; for a dry run before it exists, a throwaway empty one (nothing created)."""
    from kimaki_tui.store.repo import Store

    if not dry_run or target.exists():
        with Store.open(target) as store:
            yield store
        return
    with (
        tempfile.TemporaryDirectory(prefix="kimaki-import-") as scratch,
        Store.open(Path(scratch) / target.name) as empty,
    ):
        yield empty


class KimakiOffer:
    """The setup wizard's offer: what kimaki's database holds, and the import on acceptance."""

    def __init__(
        self, source: Path, db_path: Path, secrets: SecretStore, api_url: str | None = None
    ) -> None:
        self.source = source
        self._db_path = db_path
        self._secrets = secrets
        self._api_url = api_url

    @classmethod
    def find(
        cls, data_dir: Path, db_path: Path, secrets: SecretStore, api_url: str | None = None
    ) -> KimakiOffer | None:
        """The offer when kimaki's database is in `data_dir`, else None. The import writes into
        kimaki-tui's database at `db_path` through a connection of its own."""
        source = find_kimaki_database(data_dir)
        return None if source is None else cls(source, db_path, secrets, api_url)

    def describe(self) -> str:
        try:
            held = read_kimaki(self.source).summary()
        except KimakiSourceError as exc:
            return f"kimaki's database was found but cannot be read: {exc}"
        return f"kimaki's database {self.source} holds {held}."

    async def run(self) -> str:
        """Import, and return the report as text."""
        from kimaki_tui.store.repo import Store

        with Store.open(self._db_path) as store:
            report = await import_kimaki(self.source, store, self._secrets, api_url=self._api_url)
        return report.text()
