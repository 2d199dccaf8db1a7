"""Point discord.py at another Discord (a local twin) when KIMAKI_DISCORD_API_URL /
KIMAKI_DISCORD_GATEWAY_URL are set, so the real entry point can be tested end to end."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

API_URL_VAR = "KIMAKI_DISCORD_API_URL"
GATEWAY_URL_VAR = "KIMAKI_DISCORD_GATEWAY_URL"


def apply_discord_overrides(env: Mapping[str, str] = os.environ) -> Callable[[], None]:
    """Set discord.py's REST base and gateway URL from `env`; returns a function restoring them."""
    import discord.gateway
    import discord.http
    import yarl

    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    api_url = env.get(API_URL_VAR, "").strip()
    gateway_url = env.get(GATEWAY_URL_VAR, "").strip()
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
