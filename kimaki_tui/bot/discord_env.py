"""Point discord.py at another Discord (a local twin) when the settings say so (`discord.api_url`,
`discord.gateway_url`), so the real entry point can be tested end to end."""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


def apply_discord_overrides(api_url: str | None, gateway_url: str | None) -> Callable[[], None]:
    """Set discord.py's REST base and gateway URL (when given); returns a function restoring them."""
    import discord.gateway
    import discord.http
    import yarl

    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    if api_url:
        log.warning("Discord REST API overridden: %s", api_url)
        discord.http.Route.BASE = api_url.rstrip("/")
    if gateway_url:
        log.warning("Discord gateway overridden: %s", gateway_url)
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)

    def restore() -> None:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    return restore
