"""How a new session is set up beyond its folder: permission rules of its own, a parent session
and injection-guard patterns.

`kimaki send --permission tool:action` (or `tool:pattern:action`), `--parent-session ID` and
`--injection-guard tool:glob` end up here; the runtime hands the first two to OpenCode when it
creates the session (POST /session takes `permission` rules and `parentID`) and writes the
patterns for the guard plugin (opencode/injection_guard.py). Parsing lives here so the CLI and
the bot agree on it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kimaki_tui.errors import KimakiError

ACTIONS = ("allow", "ask", "deny")
_TOOL = re.compile(r"^[A-Za-z_][\w.-]*$")
_SESSION_ID = re.compile(r"^ses_[A-Za-z0-9]+$")
_GUARD_TOOL = re.compile(r"^[A-Za-z_*?][\w.*?-]*$")


class SetupError(KimakiError, ValueError):
    """A permission rule or parent session id that cannot be used; the message says which."""


@dataclass(frozen=True, slots=True)
class PermissionRule:
    tool: str
    pattern: str
    action: str

    def to_opencode(self) -> dict[str, Any]:
        return {"permission": self.tool, "pattern": self.pattern, "action": self.action}


def parse_permission(text: str) -> PermissionRule:
    """`tool:action` (every pattern) or `tool:pattern:action` (the pattern may hold colons)."""
    parts = text.strip().split(":")
    if len(parts) < 2:
        raise SetupError(f"--permission {text!r}: write tool:action or tool:pattern:action, e.g. bash:deny")
    tool, action = parts[0], parts[-1]
    pattern = ":".join(parts[1:-1]) or "*"
    if not _TOOL.match(tool):
        raise SetupError(f"--permission {text!r}: {tool!r} is not a tool name (e.g. bash, edit, webfetch)")
    if action not in ACTIONS:
        raise SetupError(
            f"--permission {text!r}: the action must be one of {', '.join(ACTIONS)}, not {action!r}"
        )
    return PermissionRule(tool, pattern, action)


def parse_guard(text: str) -> str:
    """`tool:glob` (the tool may be a glob too, the glob may hold colons), as the plugin reads it."""
    tool, colon, glob = text.strip().partition(":")
    if not colon or not glob:
        raise SetupError(
            f"--injection-guard {text!r}: write tool:glob, e.g. webfetch:* or 'bash:curl *'"
        )
    if not _GUARD_TOOL.match(tool):
        raise SetupError(f"--injection-guard {text!r}: {tool!r} is not a tool name (e.g. bash, webfetch)")
    return f"{tool}:{glob}"


def check_session_id(value: str, flag: str = "--parent-session") -> str:
    if not _SESSION_ID.match(value):
        raise SetupError(f"{flag} {value!r} is not an OpenCode session id (they look like ses_…)")
    return value


@dataclass(frozen=True, slots=True)
class SessionSetup:
    """What a new session gets besides its folder; empty by default."""

    permissions: tuple[PermissionRule, ...] = ()
    parent_session_id: str | None = None
    injection_guard: tuple[str, ...] = ()  # tool:glob patterns whose outputs are untrusted

    @classmethod
    def parse(
        cls,
        permissions: Sequence[str] = (),
        parent_session_id: str | None = None,
        injection_guard: Sequence[str] = (),
    ) -> SessionSetup:
        rules = tuple(parse_permission(text) for text in permissions)
        parent = check_session_id(parent_session_id) if parent_session_id else None
        guard = tuple(dict.fromkeys(parse_guard(text) for text in injection_guard))
        return cls(rules, parent, guard)

    def rules(self) -> list[dict[str, Any]] | None:
        return [rule.to_opencode() for rule in self.permissions] or None
