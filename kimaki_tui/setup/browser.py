"""Whether a link can be opened in a graphical browser from here.

Python's webbrowser falls back to console browsers (lynx, w3m) when there is no display; one of
those would take over the terminal under the TUI, so "open in browser" is offered only when a
graphical session is present.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping


def can_open_browser(env: Mapping[str, str] = os.environ) -> bool:
    if sys.platform in ("darwin", "win32"):
        return not env.get("SSH_CONNECTION")
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")) and not env.get("SSH_CONNECTION")


def open_in_browser(url: str) -> bool:
    """Open `url` in the graphical browser; False when there is none."""
    if not can_open_browser():
        return False
    import webbrowser

    return webbrowser.open(url, new=2)
