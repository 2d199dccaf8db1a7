"""Runs the Discord bot as a supervised worker inside kimaki's own asyncio loop.

A wrong token or a missing intent is reported once as a failed `ChatStatus` (with what to do)
and the worker ends; network trouble is retried with backoff. The connection state is published
on the core's bus so the control center and `/readyz` can show it. Never `Client.run()`.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord

from kimaki_tui.bot.client import KimakiBot
from kimaki_tui.bot.discord_env import apply_discord_overrides
from kimaki_tui.core.api import CoreApi
from kimaki_tui.core.events import ChatStatus
from kimaki_tui.secrets import SecretStore, app_id_from_token
from kimaki_tui.settings import Settings

log = logging.getLogger(__name__)

BAD_TOKEN = (
    "Discord rejected the bot token. Copy a fresh one from the Developer Portal (Bot → Reset Token) "
    "and set KIMAKI_BOT_TOKEN, or run `kimaki setup`."
)
NO_INTENT = (
    "The Message Content intent is off. Enable it in the Developer Portal (Bot → Privileged Gateway "
    "Intents → Message Content Intent), then restart kimaki."
)


class BotWorker:
    """Owns the current KimakiBot; `run()` until cancelled or a fatal configuration error."""

    def __init__(
        self, core: CoreApi, token: str, settings: Settings, secrets: SecretStore, *, retry_max: float = 60.0
    ) -> None:
        self.core = core
        self.settings = settings
        self.secrets = secrets
        self.bot: KimakiBot | None = None
        self.status = ChatStatus("stopped")
        self._token = token
        self._retry_max = retry_max

    def _publish(self, status: ChatStatus) -> None:
        self.status = status
        self.core.publish(status)

    def _connected(self, bot: KimakiBot) -> None:
        latency = bot.latency * 1000 if bot.latency == bot.latency else None  # NaN before a heartbeat
        user = str(bot.user) if bot.user else ""
        public = bot.application.bot_public if bot.application is not None else None
        self._publish(ChatStatus("connected", len(bot.guilds), latency, user=user, public_bot=public))

    def _watch(self, bot: KimakiBot) -> None:
        async def on_ready() -> None:
            self._connected(bot)

        async def on_resumed() -> None:
            self._connected(bot)

        async def on_disconnect() -> None:
            self._publish(ChatStatus("disconnected", len(bot.guilds), detail="gateway connection lost"))

        async def on_guild_join(guild: discord.Guild) -> None:
            self._connected(bot)

        for listener in (on_ready, on_resumed, on_disconnect, on_guild_join):
            bot.add_listener(listener)

    async def run(self) -> None:
        restore = apply_discord_overrides(self.settings.discord.api_url, self.settings.discord.gateway_url)
        delay = 1.0
        try:
            while True:
                app_id = app_id_from_token(self._token)
                bot = KimakiBot(self.core, settings=self.settings, secrets=self.secrets, app_id=app_id)
                self.bot = bot
                self._watch(bot)
                self._publish(ChatStatus("connecting"))
                try:
                    async with bot:
                        await bot.start(self._token)
                    return
                except discord.LoginFailure:
                    log.error("Discord login failed: the token was rejected")
                    self._publish(ChatStatus("failed", detail=BAD_TOKEN))
                    return
                except discord.PrivilegedIntentsRequired:
                    log.error("Discord refused the Message Content intent")
                    self._publish(ChatStatus("failed", detail=NO_INTENT))
                    return
                except (OSError, aiohttp.ClientError, discord.DiscordException) as exc:
                    log.warning("Discord connection failed (%s); retrying in %.0f s", exc, delay)
                    self._publish(ChatStatus("disconnected", detail=f"{exc} — retrying in {delay:.0f} s"))
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_max)
        finally:
            self.bot = None
            restore()
            if self.status.state != "failed":
                self._publish(ChatStatus("stopped"))
