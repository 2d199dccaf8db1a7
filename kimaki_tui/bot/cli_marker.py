"""Starter messages: what `kimaki send` and a scheduled task post to show the prompt, and how the
CLI marks the one it posts as the bot so the running bot reads it back. No discord import: the
CLI uses it too. (The in-process scheduler posts the same content without the marker.)

A marked message carries one embed whose footer is `kimaki-cli {json}`: whether it starts a
thread (a message in a project channel) or prompts an existing thread, plus agent, model,
worktree, working folder, permission rules, injection-guard patterns, parent session, user, thread
name, notify-only, and
the name of the attachment holding the prompt when it is too long for a message (any other
attachment is a `--file` for the session). Only messages written with the bot's own
token can carry it, since the bot ignores every other author's marker.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from kimaki_tui.scheduling.request import SendRequest

MARKER_PREFIX = "kimaki-cli "
EMBED_COLOR = 0x2B2D31
THREAD_HEADER = "» **kimaki-cli:**\n"
PROMPT_FILE = "prompt.md"
CONTENT_MAX = 2000
PREVIEW_MAX = 1500
FILE_NOTE = f"\n\n📎 *The full prompt is in {PROMPT_FILE}.*"


@dataclass(frozen=True, slots=True)
class Marker:
    start: bool
    agent: str | None = None
    model: str | None = None
    worktree: str | None = None
    user_id: str | None = None
    name: str | None = None
    notify_only: bool = False
    prompt_file: str | None = None
    cwd: str | None = None
    permissions: tuple[str, ...] = ()
    parent_session: str | None = None
    injection_guard: tuple[str, ...] = ()


_LISTS = ("permissions", "injection_guard")


def format_footer(marker: Marker) -> str:
    data = {key: value for key, value in asdict(marker).items() if value not in (None, False, ())}
    data["start"] = marker.start
    return MARKER_PREFIX + json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def parse_footer(text: str) -> Marker | None:
    """The marker in an embed footer, or None when the footer is not one."""
    if not text.startswith(MARKER_PREFIX):
        return None
    try:
        data = json.loads(text[len(MARKER_PREFIX) :])
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("start"), bool):
        return None
    known = {f.name for f in fields(Marker)}
    values = {key: value for key, value in data.items() if key in known}
    for key in _LISTS:
        items = values.get(key, ())
        if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
            return None
        values[key] = tuple(items)
    try:
        return Marker(**values)
    except TypeError:
        return None


def marker_from_embeds(embeds: Sequence[Mapping[str, Any]]) -> Marker | None:
    """The marker among a message's embeds (as Discord JSON), if any."""
    for embed in embeds:
        footer = embed.get("footer") or {}
        marker = parse_footer(str(footer.get("text") or ""))
        if marker is not None:
            return marker
    return None


@dataclass(frozen=True, slots=True)
class StarterMessage:
    """A message to post: content, the marker embed, and files (name, bytes)."""

    content: str
    marker: Marker
    files: tuple[tuple[str, bytes], ...] = ()

    def payload(self) -> dict[str, Any]:
        """The JSON body (or `payload_json`) of `POST /channels/{id}/messages`."""
        body: dict[str, Any] = {
            "content": self.content,
            "embeds": [{"color": EMBED_COLOR, "footer": {"text": format_footer(self.marker)}}],
            # The prompt may contain mentions: nobody is pinged by a CLI message.
            "allowed_mentions": {"parse": []},
        }
        if self.files:
            body["attachments"] = [{"id": i, "filename": name} for i, (name, _data) in enumerate(self.files)]
        return body


def build_starter(request: SendRequest, files: Sequence[tuple[str, bytes]] = ()) -> StarterMessage:
    """The message for a send request: the prompt as content, or in prompt.md when too long;
    `files` (name, bytes) go with it for the session."""
    start = request.target == "channel"
    header = "" if start else THREAD_HEADER
    marker = Marker(
        start=start,
        agent=request.agent,
        model=request.model,
        worktree=request.worktree,
        user_id=request.user_id,
        name=request.name,
        notify_only=request.notify_only,
        cwd=request.cwd,
        permissions=request.permissions,
        parent_session=request.parent_session,
        injection_guard=request.injection_guard,
    )
    if len(header) + len(request.prompt) <= CONTENT_MAX:
        return StarterMessage(header + request.prompt, marker, tuple(files))
    shown = request.prompt[:PREVIEW_MAX].rstrip() + "…"
    marker = Marker(**{**asdict(marker), "prompt_file": PROMPT_FILE})
    prompt_file = (PROMPT_FILE, request.prompt.encode())
    return StarterMessage(header + shown + FILE_NOTE, marker, (prompt_file, *files))


def prompt_is_a_file(request: SendRequest) -> bool:
    """Whether the prompt travels as prompt.md (it then takes one of the message's attachments)."""
    header = "" if request.target == "channel" else THREAD_HEADER
    return len(header) + len(request.prompt) > CONTENT_MAX


def request_from_marker(marker: Marker, target_id: str, prompt: str) -> SendRequest:
    """The send request a marked message carries (`target_id`: where it was posted)."""
    return SendRequest(
        "channel" if marker.start else "thread",
        target_id,
        prompt,
        name=marker.name,
        agent=marker.agent,
        model=marker.model,
        worktree=marker.worktree,
        user_id=marker.user_id,
        notify_only=marker.notify_only,
        cwd=marker.cwd,
        permissions=marker.permissions,
        parent_session=marker.parent_session,
        injection_guard=marker.injection_guard,
    )


def prompt_from_content(content: str, marker: Marker) -> str:
    """The prompt of a marked message without an attached prompt file."""
    if not marker.start and content.startswith(THREAD_HEADER):
        return content[len(THREAD_HEADER) :]
    return content
