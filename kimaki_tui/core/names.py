"""Text that becomes a name in Discord (threads, channels): invisible and direction-changing
characters are removed, so a name cannot hide text, impersonate another, or reverse what follows.

Removed: zero-width characters (U+200B..U+200F, U+2060..U+2064, U+FEFF, U+180E) and the bidi
controls (U+202A..U+202E, U+2066..U+2069, U+061C).
"""

from __future__ import annotations

import re

_INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u180e\u202a-\u202e\u2066-\u2069\u061c]")


def strip_invisible(text: str) -> str:
    return _INVISIBLE.sub("", text)
