"""Which Discord servers kimaki serves: the rule, and the service every front end asks.

A Discord application is public by default: anyone with its invite link or id can add the bot
to a server of their own, where they are the owner and pass every access check. So a server is
served only when allowed:
- automatically, when its owner is the application's owner or an accepted member of the
  application's team (the "operators", from Discord's application info);
- explicitly, when the operator allowed it (`kimaki guild allow`, the control center).
An explicit deny wins over ownership. Anything else is "pending": no commands are registered
there, nothing from it is answered, and its members are told once that the operator must allow it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from kimaki_tui.core.bus import EventBus
from kimaki_tui.core.events import GuildAccessChanged
from kimaki_tui.errors import KimakiError
from kimaki_tui.store.records import GuildDecision, GuildRecord, GuildStatus
from kimaki_tui.store.repo import Store

log = logging.getLogger(__name__)

_SNOWFLAKE = re.compile(r"^[0-9]{15,21}$")

PENDING_NOTICE = (
    "👋 **kimaki is not active in this server yet.** Its operator (the person running kimaki on "
    "their machine) has to allow this server first: on that machine, `kimaki guild allow {guild_id}` "
    "or the Servers list of the kimaki control center. Until then no commands are registered here "
    "and messages are ignored."
)


def evaluate(decision: GuildDecision | None, owner_id: str | None, operators: Iterable[str]) -> GuildStatus:
    """The rule: an explicit decision first, then ownership by an operator, else pending."""
    if decision is not None:
        return decision
    if owner_id is not None and owner_id in set(operators):
        return "allowed"
    return "pending"


def reason(record: GuildRecord) -> str:
    """Why a server has its status, in a few words (for lists)."""
    if record.decision is not None:
        by = f" by {record.decided_by}" if record.decided_by else ""
        return f"{record.decision}{by}"
    if record.status == "allowed":
        return "owned by the application's owner or team"
    return "waiting for the operator"


class InvalidGuildId(KimakiError, ValueError):
    """Not a Discord server id (a snowflake: 15 to 21 digits)."""


def check_guild_id(text: str) -> str:
    guild_id = text.strip()
    if not _SNOWFLAKE.match(guild_id):
        raise InvalidGuildId(
            f"{text!r} is not a Discord server id (15 to 21 digits; see `kimaki guild list`)"
        )
    return guild_id


class GuildAccess:
    """The servers' statuses, kept in memory for the bot's per-event check and in the store.

    Every change of a server's status is published as GuildAccessChanged, whoever made it (the
    bot seeing a server, the control center, `reload()` after `kimaki guild allow`).
    """

    def __init__(self, store: Store, bus: EventBus | None = None) -> None:
        self._store = store
        self._bus = bus
        self.operators: frozenset[str] = frozenset()
        self._statuses: dict[str, GuildStatus] = {}

    def set_operators(self, user_ids: Iterable[str]) -> None:
        """The application's owner and team members, as Discord reports them at login."""
        self.operators = frozenset(user_ids)

    def allowed(self, guild_id: str | int | None) -> bool:
        return guild_id is not None and self._statuses.get(str(guild_id)) == "allowed"

    def status(self, guild_id: str | int) -> GuildStatus | None:
        return self._statuses.get(str(guild_id))

    def records(self) -> list[GuildRecord]:
        return self._store.list_guilds()

    def pending(self) -> list[GuildRecord]:
        return [record for record in self.records() if record.status == "pending"]

    def seen(self, guild_id: str, name: str, owner_id: str | None) -> GuildRecord:
        """Discord told us about a server (at start, on join, on an update): evaluate and record it."""
        previous = self._store.get_guild(guild_id)
        status = evaluate(previous.decision if previous else None, owner_id, self.operators)
        record = self._store.save_guild_seen(guild_id, name, owner_id, status)
        if status == "pending" and (previous is None or previous.status != "pending"):
            log.warning(
                "server %s (%s, owner %s) is waiting for approval: run `kimaki guild allow %s`",
                name, guild_id, owner_id, guild_id,
            )  # fmt: skip
        self._remember(record)
        return record

    def allow(self, guild_id: str, *, by: str) -> GuildRecord:
        return self._decide(guild_id, "allowed", by)

    def deny(self, guild_id: str, *, by: str) -> GuildRecord:
        return self._decide(guild_id, "denied", by)

    def claim_notice(self, guild_id: str) -> bool:
        """True once per server: whoever gets True posts the "waiting for approval" notice."""
        return self._store.claim_guild_notice(guild_id)

    def release_notice(self, guild_id: str) -> None:
        self._store.release_guild_notice(guild_id)

    def reload(self) -> list[GuildRecord]:
        """Re-read every decision (another process, e.g. `kimaki guild allow`, changed them)."""
        records = self.records()
        decided = [record for record in records if record.decision is not None]
        for record in decided:
            self._remember(record)
        log.info("re-read %d server decision(s)", len(decided))
        return records

    def _decide(self, guild_id: str, decision: GuildDecision, by: str) -> GuildRecord:
        guild_id = check_guild_id(guild_id)
        record = self._store.save_guild_decision(guild_id, decision, decision, by)
        log.info("server %s (%s) %s by %s", record.name or "?", guild_id, decision, by)
        self._remember(record)
        return record

    def _remember(self, record: GuildRecord) -> None:
        before = self._statuses.get(record.guild_id)
        self._statuses[record.guild_id] = record.status
        if before != record.status and self._bus is not None:
            self._bus.publish(GuildAccessChanged(record.guild_id, record.status, record.name))
