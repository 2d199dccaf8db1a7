"""What `kimaki send` asks for: a prompt for a channel (new thread) or a thread, and its options.

The same value is posted at once by the CLI (as a marked starter message) or stored as a scheduled
task's payload (JSON) and handed to the running bot when the task fires.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

Target = Literal["channel", "thread"]


@dataclass(frozen=True, slots=True)
class SendRequest:
    target: Target
    target_id: str
    prompt: str
    name: str | None = None
    agent: str | None = None
    model: str | None = None
    worktree: str | None = None
    user_id: str | None = None
    notify_only: bool = False
    # A subfolder of the project to run the new session in (absolute).
    cwd: str | None = None
    # `--permission` rules as typed (tool:action or tool:pattern:action), for the new session.
    permissions: tuple[str, ...] = ()
    parent_session: str | None = None
    # `--injection-guard` patterns as typed (tool:glob): matching tool output is untrusted.
    injection_guard: tuple[str, ...] = ()
    # Scheduled sends only: a shell command run first (its output is appended to the prompt,
    # a failure skips the run), and whether a run may start while the previous one is busy.
    pre_run: str | None = None
    allow_concurrency: bool = False

    def to_json(self) -> dict[str, Any]:
        data = {key: value for key, value in asdict(self).items() if value not in (None, False, ())}
        for key in _LISTS:
            if getattr(self, key):
                data[key] = list(getattr(self, key))
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SendRequest:
        target = data.get("target")
        if target not in ("channel", "thread"):
            raise ValueError(f"unknown send target {target!r}")
        if not data.get("target_id"):
            raise ValueError("the send request names no channel or thread (target_id)")
        text = {k: (str(data[k]) if data.get(k) is not None else None) for k in _OPTIONAL}
        return cls(
            target=target,
            target_id=str(data["target_id"]),
            prompt=str(data.get("prompt", "")),
            notify_only=bool(data.get("notify_only", False)),
            allow_concurrency=bool(data.get("allow_concurrency", False)),
            permissions=_strings(data, "permissions"),
            injection_guard=_strings(data, "injection_guard"),
            **text,
        )


_OPTIONAL = ("name", "agent", "model", "worktree", "user_id", "cwd", "parent_session", "pre_run")
_LISTS = ("permissions", "injection_guard")


def _strings(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    values = data.get(key) or ()
    if not isinstance(values, list | tuple):
        raise ValueError(f"the send request's {key.replace('_', ' ')} are not a list")
    return tuple(str(value) for value in values)


@dataclass(frozen=True, slots=True)
class PostedStarter:
    """Where a starter message went: its id, and the thread its prompt lives in (for a channel
    send, the thread started from the message has the message's id)."""

    channel_id: str
    message_id: str
    thread_id: str
    guild_id: str | None = None
