"""Point the real discord.py client at a twin: the two class attributes discord.py reads for its URLs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def point_discord_at(api_url: str, gateway_url: str) -> Iterator[None]:
    """Set `Route.BASE` and `DiscordWebSocket.DEFAULT_GATEWAY` for the block, then restore them.

    Keep the block open until the client is closed: every request builds its URL from Route.BASE.
    """
    import discord.gateway
    import discord.http
    import yarl

    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = api_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway
