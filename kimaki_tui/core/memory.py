"""MEMORY.md: the project's long-lived notes, given to the agent as context and kept up to date.

A session's first prompt carries the file (or, when it is long, its outline of headings) as a
synthetic reminder part; after an idle gap the next prompt asks the agent to save what matters
from the earlier work before starting on the new request. The clock is injected so tests can
fake the gap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kimaki_tui.opencode.schema import text_part

log = logging.getLogger(__name__)

MEMORY_FILE = "MEMORY.md"
IDLE_GAP = 600.0
FULL_MAX = 4000  # longer files are given as an outline of their headings
OUTLINE_MAX = 3000


def read_memory(directory: str | Path) -> str | None:
    """The text of `<directory>/MEMORY.md`, or None when missing, unreadable or blank."""
    path = Path(directory) / MEMORY_FILE
    try:
        text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    except OSError as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None
    return text if text.strip() else None


def outline(text: str, limit: int = OUTLINE_MAX) -> str:
    """`N: # heading` lines for the markdown headings (N = line number), `...` where text was left out."""
    lines: list[str] = []
    skipped = False
    in_fence = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        if not in_fence and line.startswith("#"):
            lines.append(f"{number}: {line.strip()}")
            skipped = False
        elif line.strip() and not skipped:
            lines.append("...")
            skipped = True
    result = "\n".join(lines)
    return result if len(result) <= limit else result[: limit - 4].rstrip() + "\n..."


def intro_text(directory: str | Path, memory: str) -> str:
    path = Path(directory) / MEMORY_FILE
    if len(memory) <= FULL_MAX:
        shown, what = memory.strip(), "Its content"
    else:
        shown, what = outline(memory), "Its outline (line numbers and headings; read the file for the rest)"
    return (
        "<system-reminder>\n"
        f"This project keeps long-lived notes in {path}. {what} when this session started:\n"
        f"<memory>\n{shown}\n</memory>\n"
        "Use them as context. When you learn something worth keeping across sessions (decisions, "
        "conventions, gotchas), add it to MEMORY.md: short, under fitting headings.\n"
        "</system-reminder>"
    )


def reminder_text(idle_seconds: float) -> str:
    minutes = max(int(idle_seconds // 60), 1)
    return (
        "<system-reminder>\n"
        f"About {minutes} minutes passed since the last activity in this session. Before starting "
        "on the new request, save what matters from the earlier work (decisions, open questions, "
        "gotchas) to MEMORY.md, briefly. Then go on with the request.\n"
        "</system-reminder>"
    )


class MemoryNotes:
    """Per session runtime: which MEMORY.md parts the next prompt needs."""

    def __init__(self, clock: Callable[[], float], idle_gap: float = IDLE_GAP) -> None:
        self._clock = clock
        self._idle_gap = idle_gap
        self._intro_due = False
        self._last: float | None = None

    def session_created(self) -> None:
        """A new session starts empty: its first prompt gets the notes."""
        self._intro_due = True
        self._last = None

    def touch(self) -> None:
        """Something happened in the session (a turn ended): the idle gap counts from now."""
        self._last = self._clock()

    def prompt_parts(self, directory: str | Path) -> list[dict[str, Any]]:
        """Synthetic parts to put before the next prompt's text (none without MEMORY.md).

        Nothing changes until `sent()`, so a prompt that failed to go out gets them again."""
        now = self._clock()
        idle = self._last is not None and now - self._last >= self._idle_gap
        if not self._intro_due and not idle:
            return []
        memory = read_memory(directory)
        if memory is None:
            return []
        if self._intro_due:
            return [text_part(intro_text(directory, memory), synthetic=True)]
        return [text_part(reminder_text(now - (self._last or now)), synthetic=True)]

    def sent(self) -> None:
        """The prompt went out: the intro is done and the idle gap restarts."""
        self._intro_due = False
        self._last = self._clock()
