"""`kimaki import-kimaki`: bring a kimaki user's bot, channels, threads, tasks and preferences over.

kimaki's database (by default the `discord-sessions.db` kimaki keeps in the same data dir) is
only read; everything lands in kimaki-tui's own database and the keyring (kimaki_tui.migrate_kimaki).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kimaki_tui.cli.local import CliError, add_data_dir, out, run, settings_of

if TYPE_CHECKING:
    from kimaki_tui.settings import Settings


def register(subparsers: Any) -> None:
    command = subparsers.add_parser(
        "import-kimaki",
        help="import kimaki's bot token, channels, threads, scheduled tasks and preferences",
        description="Read kimaki's database (left untouched, so kimaki keeps working) and copy its bot "
        "token and Gemini key to the keyring, and its channel links, thread ↔ session map, scheduled "
        "tasks and model/agent preferences into kimaki-tui's database. Running it again imports "
        "nothing twice.",
    )
    add_data_dir(command)
    command.add_argument(
        "--from",
        dest="source",
        metavar="PATH",
        help="kimaki's database file (default: <data-dir>/discord-sessions.db when it is kimaki's)",
    )
    command.add_argument("--dry-run", action="store_true", help="say what would be imported; write nothing")
    command.add_argument(
        "--secrets-file",
        action="store_const",
        const=True,
        default=argparse.SUPPRESS,  # the `secrets_file` setting: the environment or config.toml may say
        help="when no OS keyring works, store the token in <data-dir>/secrets.json (mode 0600, plain text)",
    )
    command.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace) -> int:
    async def main() -> int:
        from kimaki_tui.migrate_kimaki import KimakiSourceError, import_into
        from kimaki_tui.root.offline import open_secrets

        settings = settings_of(args)
        source = _source(args.source, settings.data_dir)
        target = settings.db_path
        if target.exists() and target.resolve() == source.resolve():
            raise CliError(f"--from {source} is kimaki-tui's own database", 2)
        secrets = open_secrets(settings)
        try:
            report = await import_into(
                source, target, secrets, dry_run=args.dry_run, api_url=settings.discord.api_url
            )
        except KimakiSourceError as exc:
            raise CliError(f"--from: {exc}", 2) from None
        out(report.text())
        if not args.dry_run and report.total_imported:
            await _tell_running(settings)
        return 0

    return run(main)


def _source(given: str | None, data_dir: Path) -> Path:
    from kimaki_tui.database_file import KIMAKI_DB_NAME, find_kimaki_database

    if given:
        path = Path(given).expanduser().resolve()
        if not path.is_file():
            raise CliError(f"--from: no such file: {path}", 2)
        return path
    found = find_kimaki_database(data_dir)
    if found is None:
        raise CliError(
            f"no kimaki database in {data_dir} (kimaki keeps it in {KIMAKI_DB_NAME}): pass its path "
            "with --from, or kimaki's data dir with --data-dir",
            2,
        )
    return found


async def _tell_running(settings: Settings) -> None:
    """A kimaki-tui running for this data dir picks up the imported tasks at once."""
    from kimaki_tui.cli.local import running_control
    from kimaki_tui.control_api import ControlError

    control = await running_control(settings)
    if control is None:
        return
    try:
        await control.tasks_changed()
    except ControlError:
        pass  # it re-reads its tasks every few seconds anyway
