"""Pure formatting for the control center: ages, token counts, status badges, inline markdown.

Everything here returns plain strings or Rich `Text`, never markup strings, so a project path or
a session title containing `[` is shown as typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePath

from rich.text import Text


@dataclass(frozen=True, slots=True)
class Palette:
    """The colours status badges use (taken from the app's theme, see `palette_from_theme`)."""

    busy: str = "#ffa62b"
    waiting: str = "#d17bf0"
    idle: str = "#4ebf71"
    error: str = "#ba3c5b"
    muted: str = "#7a7f8c"
    accent: str = "#0178d4"


def palette_from_theme(theme: object) -> Palette:
    """Busy, idle, error and accent from a Textual `Theme`; "waiting" stays magenta to stand out."""
    default = Palette()
    return Palette(
        busy=getattr(theme, "warning", None) or default.busy,
        idle=getattr(theme, "success", None) or default.idle,
        error=getattr(theme, "error", None) or default.error,
        muted=default.muted,
        accent=getattr(theme, "primary", None) or default.accent,
    )


STATE_LABELS = {
    "busy": ("●", "busy"),
    "retry": ("●", "retrying"),
    "waiting": ("◆", "waiting for approval"),
    "idle": ("○", "idle"),
    "error": ("✗", "error"),
}


def status_text(state: str, palette: Palette) -> Text:
    """`● busy`, `◆ waiting for approval`, `○ idle`, `✗ error`, coloured."""
    glyph, label = STATE_LABELS.get(state, ("?", state))
    colour = {
        "busy": palette.busy,
        "retry": palette.busy,
        "waiting": palette.waiting,
        "idle": palette.idle,
        "error": palette.error,
    }.get(state, palette.muted)
    style = f"bold {colour}" if state in ("waiting", "error") else colour
    return Text(f"{glyph} {label}", style=style)


def elapsed(seconds: float) -> str:
    """How long a turn has run: `12s`, `3m05s`, `1h02m`."""
    whole = int(max(0.0, seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def age(seconds: float) -> str:
    """A compact age: `now`, `42s`, `5m`, `3h`, `2d`."""
    seconds = max(0.0, seconds)
    if seconds < 5:
        return "now"
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def tokens(count: int) -> str:
    """`—`, `950`, `12.3k`, `1.2M`."""
    if count <= 0:
        return "—"
    if count < 1000:
        return str(count)
    if count < 1_000_000:
        return f"{count / 1000:.1f}k"
    return f"{count / 1_000_000:.1f}M"


def megabytes(size: int | None) -> str:
    return "—" if size is None else f"{size / (1024 * 1024):.0f} MB"


def project_name(directory: str) -> str:
    """The folder name that identifies a project (the full path is in the projects screen)."""
    return PurePath(directory).name or directory


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- the renderer's Discord markdown, as terminal text ------------------------------------------
_INLINE = re.compile(r"``\s?(.+?)\s?``|`([^`]+)`|\*\*(.+?)\*\*|\*(.+?)\*|\\([\\*_~`|])")


def inline_markdown(source: str, *, code_style: str = "bold", base_style: str = "") -> Text:
    """Render the inline markdown `kimaki_tui.presentation.render` produces (code, bold, italic, escapes)."""
    text = Text(style=base_style)
    position = 0
    for match in _INLINE.finditer(source):
        text.append(source[position : match.start()])
        code = match.group(1) or match.group(2)
        if code is not None:
            text.append(code, style=code_style)
        elif match.group(3) is not None:
            text.append_text(inline_markdown(match.group(3), code_style=code_style, base_style="bold"))
        elif match.group(4) is not None:
            text.append_text(inline_markdown(match.group(4), code_style=code_style, base_style="italic"))
        else:
            text.append(match.group(5))
        position = match.end()
    text.append(source[position:])
    return text


def home_relative(directory: str) -> str:
    """`~/…` for a folder under the home directory."""
    home = str(Path.home())
    return (
        "~" + directory[len(home) :] if directory == home or directory.startswith(home + "/") else directory
    )
