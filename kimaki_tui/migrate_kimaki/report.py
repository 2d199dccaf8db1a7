"""What an import did, per kimaki table: rows imported, rows already there, rows skipped and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# kimaki's tables in the order the import reads them, with what each holds.
TABLES = {
    "bot_tokens": "bot token",
    "bot_api_keys": "API keys",
    "channel_directories": "channel ↔ directory links",
    "thread_sessions": "thread ↔ session map",
    "channel_models": "channel models",
    "channel_agents": "channel agents",
    "session_models": "session models",
    "session_agents": "session agents",
    "scheduled_tasks": "scheduled tasks",
}


@dataclass(frozen=True, slots=True)
class Skip:
    table: str
    key: str  # the row's id in kimaki (channel id, thread id, task id...)
    reason: str


@dataclass(slots=True)
class TableCount:
    imported: int = 0
    present: int = 0  # already in kimaki-tui with the same value
    skipped: int = 0


@dataclass(slots=True)
class ImportReport:
    source: Path
    target: Path
    dry_run: bool = False
    counts: dict[str, TableCount] = field(default_factory=lambda: {t: TableCount() for t in TABLES})
    skips: list[Skip] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def imported(self, table: str) -> None:
        self.counts[table].imported += 1

    def present(self, table: str) -> None:
        self.counts[table].present += 1

    def skip(self, table: str, key: str, reason: str) -> None:
        self.counts[table].skipped += 1
        self.skips.append(Skip(table, key, reason))

    @property
    def total_imported(self) -> int:
        return sum(count.imported for count in self.counts.values())

    def text(self) -> str:
        """The report as printed by `kimaki import-kimaki` and shown by the wizard."""
        verb = "would import" if self.dry_run else "imported"
        lines = [f"From kimaki's {self.source}", f"into kimaki-tui's {self.target}:"]
        width = max(len(label) for label in TABLES.values())
        for table, label in TABLES.items():
            count = self.counts[table]
            parts = [f"{count.imported} {verb}"]
            if count.present:
                parts.append(f"{count.present} already there")
            if count.skipped:
                parts.append(f"{count.skipped} skipped")
            lines.append(f"  {label.ljust(width)}  {', '.join(parts)}  ({table})")
        if self.skips:
            lines.append("Skipped:")
            lines += [f"  {s.table} {s.key}: {s.reason}" for s in self.skips]
        lines += self.notes
        if self.dry_run:
            lines.append("Dry run: nothing was written.")
        lines.append("kimaki's database was only read; kimaki can still use it.")
        return "\n".join(lines)
