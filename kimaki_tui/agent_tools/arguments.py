"""Checks the agent's arguments for each tool and turns them into typed values, with JSON schemas
that advertise the same limits. A bad argument raises ToolArgumentError saying what to change.

OpenCode does not hold the model to a tool's schema, so every limit is checked here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kimaki_tui.agent_tools.ports import ToolRefused

MAX_BUTTONS = 5
MAX_LABEL = 80  # Discord's button label limit
MAX_FILES = 10
DEFAULT_FILES = 5
MAX_PROMPT = 1500  # shown above buttons or an upload button: one Discord message with room to spare
MAX_REASON = 500
MAX_SEND_PROMPT = 16000

JSONSchema = dict[str, Any]


class ToolArgumentError(ToolRefused):
    """The agent's arguments break a rule; the message says which and how to fix it."""


@dataclass(frozen=True, slots=True)
class FileUploadArgs:
    prompt: str
    max_files: int = DEFAULT_FILES


@dataclass(frozen=True, slots=True)
class ButtonsArgs:
    labels: tuple[str, ...]
    prompt: str = ""


@dataclass(frozen=True, slots=True)
class SendFileArgs:
    path: str
    caption: str = ""


@dataclass(frozen=True, slots=True)
class SleepArgs:
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class SendArgs:
    target: str
    prompt: str


def _known_keys(raw: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        names, takes = ", ".join(unknown), ", ".join(allowed)
        raise ToolArgumentError(f"unknown argument(s) {names}; this tool takes {takes}.")


def _text(
    raw: Mapping[str, Any], key: str, *, limit: int, required: bool = True, single_line: bool = False
) -> str:
    value = raw.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ToolArgumentError(f"`{key}` must be a string.")
    value = value.strip()
    if not value and required:
        raise ToolArgumentError(f"`{key}` must not be empty.")
    if len(value) > limit:
        raise ToolArgumentError(f"`{key}` is {len(value)} characters long; the limit is {limit}.")
    if single_line and "\n" in value:
        raise ToolArgumentError(f"`{key}` must be a single line.")
    return value


def _integer(raw: Mapping[str, Any], key: str, *, default: int, low: int, high: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ToolArgumentError(f"`{key}` must be a whole number from {low} to {high}.")
    if not low <= value <= high:
        raise ToolArgumentError(f"`{key}` is {value}; it must be from {low} to {high}.")
    return value


def file_upload_args(raw: Mapping[str, Any]) -> FileUploadArgs:
    _known_keys(raw, ("prompt", "max_files"))
    prompt = _text(raw, "prompt", limit=MAX_PROMPT)
    return FileUploadArgs(prompt, _integer(raw, "max_files", default=DEFAULT_FILES, low=1, high=MAX_FILES))


def buttons_args(raw: Mapping[str, Any]) -> ButtonsArgs:
    _known_keys(raw, ("buttons", "prompt"))
    buttons = raw.get("buttons")
    if not isinstance(buttons, list) or not all(isinstance(b, str) for b in buttons):
        raise ToolArgumentError("`buttons` must be a list of button labels (strings).")
    if not 1 <= len(buttons) <= MAX_BUTTONS:
        raise ToolArgumentError(f"`buttons` has {len(buttons)} labels; give 1 to {MAX_BUTTONS}.")
    labels = tuple(b.strip() for b in buttons)
    for label in labels:
        if not label:
            raise ToolArgumentError("a button label is empty.")
        if len(label) > MAX_LABEL:
            raise ToolArgumentError(
                f"the label {label[:20]!r}… is {len(label)} characters; the limit is {MAX_LABEL}."
            )
        if "\n" in label:
            raise ToolArgumentError(f"the label {label!r} must be a single line.")
    if len(set(labels)) != len(labels):
        raise ToolArgumentError("two buttons have the same label; each click must say which one it was.")
    return ButtonsArgs(labels, _text(raw, "prompt", limit=MAX_PROMPT, required=False))


def send_file_args(raw: Mapping[str, Any]) -> SendFileArgs:
    _known_keys(raw, ("path", "caption"))
    path = _text(raw, "path", limit=4096, single_line=True)
    if "\0" in path:
        raise ToolArgumentError("`path` contains a NUL character.")
    return SendFileArgs(path, _text(raw, "caption", limit=MAX_PROMPT, required=False))


_DURATION = re.compile(r"(\d+)\s*([smhdw])", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """ "30s", "10m", "2h", "1d", "1h30m" → a timedelta; anything else raises ToolArgumentError."""
    compact = text.strip().replace(" ", "")
    pieces = _DURATION.findall(compact)
    if not compact or "".join(n + u for n, u in pieces).lower() != compact.lower():
        raise ToolArgumentError(f"`duration` {text!r} is not like 30s, 10m, 2h, 1d or 1h30m.")
    return timedelta(seconds=sum(int(n) * _UNIT_SECONDS[u.lower()] for n, u in pieces))


def _parse_until(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        example = "2030-01-31T09:00:00Z"
        raise ToolArgumentError(f"`until` {text!r} is not an ISO 8601 time like {example}.") from None
    if moment.tzinfo is None:
        raise ToolArgumentError(f"`until` {text!r} has no time zone; end it with Z for UTC.")
    return moment.astimezone(UTC)


def sleep_args(raw: Mapping[str, Any], *, now: datetime, longest: timedelta) -> SleepArgs:
    _known_keys(raw, ("duration", "until", "reason"))
    reason = _text(raw, "reason", limit=MAX_REASON)
    has_duration, has_until = raw.get("duration") is not None, raw.get("until") is not None
    if has_duration == has_until:
        raise ToolArgumentError("give exactly one of `duration` (like 30m) or `until` (an ISO time in UTC).")
    if has_duration:
        at = now + parse_duration(_text(raw, "duration", limit=40))
    else:
        at = _parse_until(_text(raw, "until", limit=64))
    if at <= now:
        raise ToolArgumentError(f"the wake time {at:%Y-%m-%d %H:%M:%S} UTC is not in the future.")
    if at - now > longest:
        raise ToolArgumentError(f"the longest sleep is {longest.days} days.")
    return SleepArgs(at, reason)


def send_args(raw: Mapping[str, Any]) -> SendArgs:
    _known_keys(raw, ("channel", "prompt"))
    target = _text(raw, "channel", limit=200, single_line=True)
    return SendArgs(target, _text(raw, "prompt", limit=MAX_SEND_PROMPT))


def _string(limit: int, description: str) -> JSONSchema:
    return {"type": "string", "minLength": 1, "maxLength": limit, "description": description}


def _object(properties: JSONSchema, required: list[str]) -> JSONSchema:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


SCHEMAS: dict[str, JSONSchema] = {
    "file_upload": _object(
        {
            "prompt": _string(MAX_PROMPT, "What to ask the user for, shown above the upload button."),
            "max_files": {"type": "integer", "minimum": 1, "maximum": MAX_FILES, "default": DEFAULT_FILES},
        },
        ["prompt"],
    ),
    "action_buttons": _object(
        {
            "buttons": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_BUTTONS,
                "items": _string(MAX_LABEL, "A button label."),
                "description": f"1 to {MAX_BUTTONS} distinct labels; the one clicked is the result.",
            },
            "prompt": _string(MAX_PROMPT, "Optional text shown above the buttons."),
        },
        ["buttons"],
    ),
    "send_file": _object(
        {
            "path": _string(4096, "The file, relative to the project directory (or absolute inside it)."),
            "caption": _string(MAX_PROMPT, "Optional text posted with the file."),
        },
        ["path"],
    ),
    "sleep": _object(
        {
            "duration": _string(40, "How long to sleep: 30s, 10m, 2h, 1d, 1h30m. Give this or `until`."),
            "until": _string(64, "When to wake, ISO 8601 in UTC (2030-01-31T09:00:00Z). Or `duration`."),
            "reason": _string(MAX_REASON, "What you are waiting for; it is repeated when you wake."),
        },
        ["reason"],
    ),
    "send": _object(
        {
            "channel": _string(200, "The project channel: its id, its name or the project's name."),
            "prompt": _string(MAX_SEND_PROMPT, "The first message of the new session."),
        },
        ["channel", "prompt"],
    ),
}
