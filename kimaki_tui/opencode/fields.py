"""Tolerant field readers for OpenCode JSON: a missing or mistyped field reads as its default.

OpenCode adds, drops and renames optional fields between releases (1.2.x lacks several that
1.18 sends), so the typed models read every field through these instead of indexing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JSON = Mapping[str, Any]


def as_json(value: object) -> JSON:
    """`value` if it is a JSON object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def obj(data: JSON, key: str) -> JSON:
    return as_json(data.get(key))


def text(data: JSON, key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def number(data: JSON, key: str) -> float:
    value = data.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def integer(data: JSON, key: str) -> int:
    return int(number(data, key))


def optional_int(data: JSON, key: str) -> int | None:
    value = data.get(key)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def flag(data: JSON, key: str) -> bool:
    return bool(data.get(key))


def objects(data: JSON, key: str) -> tuple[JSON, ...]:
    """The JSON objects of a list field (other items are skipped)."""
    value = data.get(key)
    if not isinstance(value, list | tuple):
        return ()
    return tuple(item for item in value if isinstance(item, Mapping))


def strings(data: JSON, key: str) -> tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list | tuple):
        return ()
    return tuple(str(item) for item in value)
