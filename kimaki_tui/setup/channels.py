"""Project channels over Discord REST, for the wizard (no gateway connection needed yet).

One text channel per directory under a "Kimaki" category, with kimaki's `<kimaki>` XML topic; the
channel ↔ directory link is recorded through an injected `link` callable (the store or the core).
The naming rules here are discord-free so any front end can use them.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from kimaki_tui.core.names import strip_invisible
from kimaki_tui.setup.discord_api import JSON, DiscordSetupApi
from kimaki_tui.setup.models import CreatedChannel

log = logging.getLogger(__name__)

CATEGORY_NAME = "Kimaki"
CHANNEL_NAME_MAX = 100
TOPIC_MAX = 1024
GUILD_TEXT, GUILD_CATEGORY = 0, 4

# (channel_id, guild_id, directory, app_id): e.g. Store.link_channel or Core.link_channel.
LinkChannel = Callable[[str, str, str, str | None], object]


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


async def create_channels_over_rest(
    api: DiscordSetupApi,
    token: str,
    guild_id: str,
    directories: Sequence[str],
    *,
    app_id: str | None,
    link: LinkChannel | None = None,
) -> list[CreatedChannel]:
    """Create (under the "Kimaki" category, made when missing) one text channel per directory."""
    existing = await api.guild_channels(token, guild_id)
    category_id = await _ensure_category(api, token, guild_id, existing)
    created: list[CreatedChannel] = []
    for directory in directories:
        body: JSON = {
            "name": sanitize_channel_name(Path(directory).name),
            "type": GUILD_TEXT,
            "parent_id": category_id,
        }
        topic = channel_topic(directory, app_id)
        if topic is not None:
            body["topic"] = topic
        channel = await api.create_channel(token, guild_id, body, reason=f"Kimaki project {directory}")
        channel_id = str(channel["id"])
        if link is not None:
            link(channel_id, guild_id, directory, app_id)
        log.info("created #%s (%s) for %s", channel.get("name"), channel_id, directory)
        created.append(CreatedChannel(directory, guild_id, channel_id, str(channel.get("name", ""))))
    return created


async def _ensure_category(api: DiscordSetupApi, token: str, guild_id: str, channels: list[JSON]) -> str:
    for channel in channels:
        if channel.get("type") == GUILD_CATEGORY and str(channel.get("name", "")).lower() == "kimaki":
            return str(channel["id"])
    body: JSON = {"name": CATEGORY_NAME, "type": GUILD_CATEGORY}
    category = await api.create_channel(token, guild_id, body, reason="Kimaki project channels")
    return str(category["id"])
