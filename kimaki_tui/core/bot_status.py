"""The bot's chosen Discord status (`kimaki bot status set|clear`), kept in <data-dir>/bot-status.json
so it survives restarts; the running bot shows it when it connects and when told it changed.

Kept in a file of its own rather than the database: it is one small value, written by a command
that may run while kimaki holds the database, and read once per connection.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, get_args

ActivityKind = Literal["custom", "playing", "watching", "listening", "competing"]
OnlineStatus = Literal["online", "idle", "dnd", "invisible"]
ACTIVITY_KINDS: tuple[str, ...] = get_args(ActivityKind)
ONLINE_STATUSES: tuple[str, ...] = get_args(OnlineStatus)
TEXT_MAX = 128  # Discord's limit for an activity's name / custom status

FILE_NAME = "bot-status.json"


@dataclass(frozen=True, slots=True)
class BotStatus:
    text: str
    kind: ActivityKind = "custom"
    status: OnlineStatus = "online"


def status_path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def read_bot_status(data_dir: Path) -> BotStatus | None:
    """The chosen status, or None (none chosen, or the file is unreadable: Discord's default then)."""
    try:
        raw = json.loads(status_path(data_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict):
        return None
    text, kind, status = raw.get("text"), raw.get("kind"), raw.get("status")
    if not isinstance(text, str) or kind not in ACTIVITY_KINDS or status not in ONLINE_STATUSES:
        return None
    return BotStatus(text, kind, status)


def write_bot_status(data_dir: Path, chosen: BotStatus | None) -> None:
    """Keep `chosen` (None forgets it)."""
    path = status_path(data_dir)
    if chosen is None:
        path.unlink(missing_ok=True)
        return
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(chosen)), encoding="utf-8")
    temporary.replace(path)
