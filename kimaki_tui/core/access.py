"""Who may use the bot: the pure access policy (no Discord types; the bot adapts members to `Subject`).

Kimaki's rule: the server owner, Administrator, Manage Server or a role named "Kimaki" (any case,
not a managed integration role) may use it; a role named "no-kimaki" blocks anyone, the owner
included; other bots only with the Kimaki role; the bot's own messages are never handled.
`allow_all_users` lets everyone in except no-kimaki. On top of that the operator may narrow where
kimaki listens (`Scope`: a channel allow-list, one category) and require a role by id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

ACCESS_ROLE = "kimaki"
BLOCK_ROLE = "no-kimaki"

Verdict = Literal["allowed", "ignored", "blocked", "needs_role", "needs_required_role"]

NEEDS_ROLE_TEXT = "You need the **Kimaki** role to use this bot — ask a server admin."
BLOCKED_TEXT = "Your **no-kimaki** role blocks kimaki."


@dataclass(frozen=True, slots=True)
class RoleInfo:
    name: str
    managed: bool = False


@dataclass(frozen=True, slots=True)
class Subject:
    """Who acts, as far as the policy cares."""

    is_self: bool = False
    is_bot: bool = False
    is_owner: bool = False
    administrator: bool = False
    manage_guild: bool = False
    roles: tuple[RoleInfo, ...] = ()
    role_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    required_role: str | None = None

    @property
    def allowed(self) -> bool:
        return self.verdict == "allowed"

    @property
    def reply(self) -> str | None:
        """What to tell the person refused; None means stay silent."""
        if self.verdict == "blocked":
            return BLOCKED_TEXT
        if self.verdict == "needs_role":
            return NEEDS_ROLE_TEXT
        if self.verdict == "needs_required_role":
            return f"You need the <@&{self.required_role}> role to use kimaki here — ask a server admin."
        return None


def has_role(roles: Iterable[RoleInfo], name: str) -> bool:
    """A role with this name (any case); managed roles (the bot's own "Kimaki" role) don't count."""
    wanted = name.lower()
    return any(role.name.strip().lower() == wanted and not role.managed for role in roles)


def decide(
    subject: Subject, *, allow_all_users: bool = False, required_role: str | None = None
) -> Decision:
    decision = _kimaki_rules(subject, allow_all_users)
    if decision.allowed and required_role and required_role not in subject.role_ids:
        return Decision("ignored" if subject.is_bot else "needs_required_role", required_role)
    return decision


def _kimaki_rules(subject: Subject, allow_all_users: bool) -> Decision:
    if subject.is_self:
        return Decision("ignored")
    if has_role(subject.roles, BLOCK_ROLE):
        # Other bots are not told why: a refusal could start a loop between two bots.
        return Decision("ignored" if subject.is_bot else "blocked")
    if subject.is_bot:
        return Decision("allowed" if has_role(subject.roles, ACCESS_ROLE) else "ignored")
    if allow_all_users:
        return Decision("allowed")
    privileged = subject.is_owner or subject.administrator or subject.manage_guild
    if privileged or has_role(subject.roles, ACCESS_ROLE):
        return Decision("allowed")
    return Decision("needs_role")


@dataclass(frozen=True, slots=True)
class Scope:
    """Where kimaki listens: only these channels (empty: all) and only this category (None: any)."""

    channels: frozenset[str] = frozenset()
    category: str | None = None

    @classmethod
    def parse(cls, channels: str, category: str | None) -> Scope:
        ids = frozenset(part.strip() for part in channels.split(",") if part.strip())
        return cls(ids, category or None)

    def covers(self, channel_id: str, parent_id: str | None, category_id: str | None) -> bool:
        """A channel (or a thread: `parent_id` is its channel) with the category it sits in."""
        if self.channels and channel_id not in self.channels and parent_id not in self.channels:
            return False
        return self.category is None or category_id == self.category
