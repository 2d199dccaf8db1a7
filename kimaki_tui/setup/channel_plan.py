"""The one rule for a project's Discord channel, as a pure function over plain data.

A project gets one text channel, named after its folder, under the guild's "Kimaki" category
(any category of that name, in any case; made when missing), with kimaki's `<kimaki>` XML topic.
The wizard and the CLI carry the plan out over REST (setup.channels), the bot through discord.py
(bot.channels); neither decides anything itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from xml.sax.saxutils import escape

from kimaki_tui.core.names import strip_invisible

CATEGORY_NAME: Final = "Kimaki"
CATEGORY_REASON: Final = "Kimaki project channels"
CHANNEL_NAME_MAX = 100
TOPIC_MAX = 1024


@dataclass(frozen=True, slots=True)
class ExistingChannel:
    """A channel the guild already has, as far as the plan cares."""

    id: str
    name: str
    is_category: bool


@dataclass(frozen=True, slots=True)
class ChannelPlan:
    """What to create: a text channel `name` with `topic` under the category `category_id` (None:
    create a category named CATEGORY_NAME first). `reason` goes to the guild's audit log."""

    category_id: str | None
    name: str
    topic: str | None
    reason: str


def sanitize_channel_name(folder: str) -> str:
    """A Discord channel name for a folder: lowercase ASCII, digits and single dashes, ≤ 100 chars."""
    # ASCII only, so invisible and bidi control characters cannot survive (stripped first anyway).
    ascii_name = unicodedata.normalize("NFKD", strip_invisible(folder)).encode("ascii", "ignore").decode()
    name = re.sub(r"[^a-z0-9-]+", "-", ascii_name.lower())
    name = re.sub(r"-{2,}", "-", name).strip("-")
    name = name[:CHANNEL_NAME_MAX].rstrip("-")
    return name or "project"


def channel_topic(directory: str, app_id: str | int | None) -> str | None:
    """The `<kimaki>` topic, or None when the path is too long for Discord's 1024-char topic."""
    app = f"<app>{escape(str(app_id))}</app>" if app_id else ""
    topic = f"<kimaki><directory>{escape(directory)}</directory>{app}</kimaki>"
    return topic if len(topic) <= TOPIC_MAX else None


def kimaki_category(existing: Iterable[ExistingChannel]) -> str | None:
    """The id of the guild's Kimaki category, or None when it has none."""
    wanted = CATEGORY_NAME.lower()
    return next((c.id for c in existing if c.is_category and c.name.lower() == wanted), None)


def plan_project_channel(
    existing: Iterable[ExistingChannel], directory: str, app_id: str | int | None
) -> ChannelPlan:
    """The channel to create for `directory` (an absolute path) in a guild with `existing` channels."""
    return ChannelPlan(
        category_id=kimaki_category(existing),
        name=sanitize_channel_name(Path(directory).name),
        topic=channel_topic(directory, app_id),
        reason=f"Kimaki project {directory}",
    )
