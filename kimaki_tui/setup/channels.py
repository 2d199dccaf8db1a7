"""Project channels over Discord REST, for the wizard and `kimaki project add` (no gateway needed).

Carries out `channel_plan` (one text channel per directory under the "Kimaki" category, with the
`<kimaki>` topic); the channel ↔ directory link is recorded through an injected `link` callable
(the store or the core).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from kimaki_tui.discord_rest import GUILD_CATEGORY, GUILD_TEXT, JSON, DiscordRest
from kimaki_tui.setup.channel_plan import (
    CATEGORY_NAME,
    CATEGORY_REASON,
    ChannelPlan,
    ExistingChannel,
    plan_project_channel,
)
from kimaki_tui.setup.models import CreatedChannel

log = logging.getLogger(__name__)

# (channel_id, guild_id, directory, app_id): core.projects.link (which also starts the channel's watermark).
LinkChannel = Callable[[str, str, str, str | None], object]


def existing_channels(channels: Sequence[JSON]) -> list[ExistingChannel]:
    """A guild's channels (Discord JSON) as the plan reads them."""
    return [
        ExistingChannel(str(c["id"]), str(c.get("name", "")), is_category=c.get("type") == GUILD_CATEGORY)
        for c in channels
    ]


async def create_channels_over_rest(
    rest: DiscordRest,
    guild_id: str,
    directories: Sequence[str],
    *,
    app_id: str | None,
    link: LinkChannel | None = None,
) -> list[CreatedChannel]:
    """Create (under the "Kimaki" category, made when missing) one text channel per directory."""
    existing = existing_channels(await rest.guild_channels(guild_id))
    created: list[CreatedChannel] = []
    for directory in directories:
        plan = plan_project_channel(existing, directory, app_id)
        category_id = plan.category_id or await _create_category(rest, guild_id, existing)
        channel = await rest.create_channel(guild_id, _channel_body(plan, category_id), reason=plan.reason)
        channel_id = str(channel["id"])
        if link is not None:
            link(channel_id, guild_id, directory, app_id)
        log.info("created #%s (%s) for %s", channel.get("name"), channel_id, directory)
        created.append(CreatedChannel(directory, guild_id, channel_id, str(channel.get("name", ""))))
    return created


def _channel_body(plan: ChannelPlan, category_id: str) -> JSON:
    body: JSON = {"name": plan.name, "type": GUILD_TEXT, "parent_id": category_id}
    if plan.topic is not None:
        body["topic"] = plan.topic
    return body


async def _create_category(rest: DiscordRest, guild_id: str, existing: list[ExistingChannel]) -> str:
    """Make the Kimaki category and add it to `existing`, so the next plan finds it."""
    body: JSON = {"name": CATEGORY_NAME, "type": GUILD_CATEGORY}
    category = await rest.create_channel(guild_id, body, reason=CATEGORY_REASON)
    existing.append(ExistingChannel(str(category["id"]), CATEGORY_NAME, is_category=True))
    return str(category["id"])
