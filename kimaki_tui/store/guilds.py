"""The Store's guild slice: the Discord servers the bot is in and whether kimaki serves them.

The store only keeps what the core's rule (kimaki_tui.core.guilds) decided, and the operator's
explicit decisions; it decides nothing itself.
"""

from __future__ import annotations

from kimaki_tui.store import records
from kimaki_tui.store.base import StoreBase, utc_now
from kimaki_tui.store.records import GUILD_DECISIONS, GuildDecision, GuildRecord, GuildStatus


class GuildMixin(StoreBase):
    def get_guild(self, guild_id: str) -> GuildRecord | None:
        with self._read() as t:
            row = t.guilds.get_or_none(t.guilds.guild_id == guild_id)
            return None if row is None else records.guild(row)

    def list_guilds(self) -> list[GuildRecord]:
        with self._read() as t:
            query = t.guilds.select().order_by(t.guilds.first_seen_at, t.guilds.guild_id)
            return [records.guild(row) for row in query]

    def save_guild_seen(
        self, guild_id: str, name: str, owner_id: str | None, status: GuildStatus
    ) -> GuildRecord:
        """Record what Discord says about a server and its evaluated status (decisions are kept)."""
        with self._write() as t:
            now = utc_now()
            t.guilds.insert(
                guild_id=guild_id, name=name, owner_id=owner_id, status=status,
                first_seen_at=now, updated_at=now,
            ).on_conflict(
                conflict_target=[t.guilds.guild_id],
                update={
                    t.guilds.name: name,
                    t.guilds.owner_id: owner_id,
                    t.guilds.status: status,
                    t.guilds.updated_at: now,
                },
            ).execute()  # fmt: skip
            return records.guild(t.guilds.get(t.guilds.guild_id == guild_id))

    def save_guild_decision(
        self, guild_id: str, decision: GuildDecision, status: GuildStatus, by: str
    ) -> GuildRecord:
        """The operator's allow/deny (a server not seen yet is recorded ahead of the bot joining)."""
        if decision not in GUILD_DECISIONS:
            raise ValueError(f"a guild decision is one of {sorted(GUILD_DECISIONS)}, not {decision!r}")
        with self._write() as t:
            now = utc_now()
            t.guilds.insert(
                guild_id=guild_id, name="", status=status, decision=decision, decided_by=by,
                decided_at=now, first_seen_at=now, updated_at=now,
            ).on_conflict(
                conflict_target=[t.guilds.guild_id],
                update={
                    t.guilds.status: status,
                    t.guilds.decision: decision,
                    t.guilds.decided_by: by,
                    t.guilds.decided_at: now,
                    t.guilds.updated_at: now,
                },
            ).execute()  # fmt: skip
            return records.guild(t.guilds.get(t.guilds.guild_id == guild_id))

    def claim_guild_notice(self, guild_id: str) -> bool:
        """Mark the server's "waiting for approval" notice as sent; True only the first time."""
        with self._write() as t:
            changed = (
                t.guilds.update(notice_sent_at=utc_now())
                .where((t.guilds.guild_id == guild_id) & t.guilds.notice_sent_at.is_null())
                .execute()
            )
            return bool(changed)

    def release_guild_notice(self, guild_id: str) -> None:
        """The notice could not be posted after all: let a later start try again."""
        with self._write() as t:
            t.guilds.update(notice_sent_at=None).where(t.guilds.guild_id == guild_id).execute()
