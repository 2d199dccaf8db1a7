"""Escaping text (a user's name, a title) so Discord-style markdown shows it literally.

The same rule as discord.py's `utils.escape_markdown` (links are left alone), without importing
discord.py, so every layer that writes chat text can use it.
"""

from __future__ import annotations

import re

_URL = r"(?P<url><[^: >]+:\/[^ >]+>|(?:https?|steam):\/\/[^\s<]+[^<.,:;\"\'\]\s])"
_MARKDOWN = r"(?P<markdown>[_\\~|\*`]|^>(?:>>)?\s|\[.+\]\(.+\)|^#{1,3}|^\s*-)"
_ESCAPABLE = re.compile(f"(?:{_URL}|{_MARKDOWN})", re.MULTILINE)


def _replace(match: re.Match[str]) -> str:
    url = match.group("url")
    return url if url else "\\" + match.group("markdown")


def escape_markdown(text: str) -> str:
    return _ESCAPABLE.sub(_replace, text)
