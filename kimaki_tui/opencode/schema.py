"""Value types of the OpenCode API: model references, session info, prompt parts.

Plain frozen dataclasses and dict builders with no I/O, shared by the client and its callers.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JSON = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ModelRef:
    provider_id: str
    model_id: str

    @classmethod
    def parse(cls, value: str) -> ModelRef:
        """Parse "provider/model"; the model id may itself contain slashes."""
        provider, sep, model = value.partition("/")
        if not sep or not provider or not model:
            raise ValueError(f"expected 'provider/model', got {value!r}")
        return cls(provider, model)

    def __str__(self) -> str:
        return f"{self.provider_id}/{self.model_id}"

    def to_json(self) -> dict[str, str]:
        return {"providerID": self.provider_id, "modelID": self.model_id}


@dataclass(frozen=True, slots=True)
class Revert:
    """Where a session is reverted to: messages from `message_id` on are undone (but still listed)."""

    message_id: str
    part_id: str | None = None
    snapshot: str = ""
    diff: str = ""  # the unified diff the revert undid

    @classmethod
    def from_json(cls, data: object) -> Revert | None:
        if not isinstance(data, Mapping) or not isinstance(data.get("messageID"), str):
            return None
        part = data.get("partID")
        return cls(
            message_id=data["messageID"],
            part_id=part if isinstance(part, str) else None,
            snapshot=str(data.get("snapshot") or ""),
            diff=str(data.get("diff") or ""),
        )


@dataclass(frozen=True, slots=True)
class SessionInfo:
    id: str
    title: str
    directory: str
    parent_id: str | None
    share_url: str | None
    revert: Revert | None
    created: int
    updated: int

    @classmethod
    def from_json(cls, data: JSON) -> SessionInfo:
        time = data.get("time") or {}
        share = data.get("share") or {}
        return cls(
            id=str(data.get("id", "")),
            title=str(data.get("title", "")),
            directory=str(data.get("directory", "")),
            parent_id=data.get("parentID"),
            share_url=share.get("url") if isinstance(share, Mapping) else None,
            revert=Revert.from_json(data.get("revert")),
            created=int(time.get("created") or 0),
            updated=int(time.get("updated") or 0),
        )


def text_part(text: str, synthetic: bool = False) -> dict[str, Any]:
    part: dict[str, Any] = {"type": "text", "text": text}
    if synthetic:
        part["synthetic"] = True
    return part


def file_part(source: str | Path | bytes, mime: str, filename: str | None = None) -> dict[str, Any]:
    """A file part: bytes become a data: URL, paths a file:// URL, URLs pass through."""
    name = filename
    if isinstance(source, bytes):
        url = f"data:{mime};base64,{base64.b64encode(source).decode('ascii')}"
    elif isinstance(source, str) and source.startswith(("file://", "data:", "http://", "https://")):
        url = source
    else:
        path = Path(source).expanduser().resolve()
        url, name = path.as_uri(), filename or path.name
    part: dict[str, Any] = {"type": "file", "mime": mime, "url": url}
    if name:
        part["filename"] = name
    return part
