"""Discord threads for sessions: the name a new thread gets, and the typing pulse shown while a
session works (Discord hides "typing…" after ~10 s or when the bot posts, so it is re-sent)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable

import aiohttp
import discord

from kimaki_tui.core.names import strip_invisible

log = logging.getLogger(__name__)

THREAD_NAME_LIMIT = 80  # kimaki's choice; Discord allows 100
DEFAULT_THREAD_NAME = "kimaki thread"
POKE_DEBOUNCE = 0.5
_MENTION = re.compile(r"<(?:@[!&]?|#)\d+>")


def thread_name(text: str, fallback: str = DEFAULT_THREAD_NAME) -> str:
    """Mentions and invisible or bidi control characters stripped, whitespace collapsed, at most
    THREAD_NAME_LIMIT characters."""
    name = " ".join(_MENTION.sub(" ", strip_invisible(text)).split())
    if len(name) > THREAD_NAME_LIMIT:
        name = name[: THREAD_NAME_LIMIT - 1].rstrip() + "…"
    return name or fallback


class TypingPulse:
    """Shows "typing…" in a channel until stopped: re-sent every `interval` seconds, and soon after
    each bot message (`poke`), since posting hides the indicator."""

    def __init__(
        self,
        channel: discord.abc.Messageable,
        interval: float,
        exists: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self._channel = channel
        self._interval = interval
        self._exists = exists  # a thread Discord still creates: typing there would be a 404
        self._task: asyncio.Task[None] | None = None
        self._poke = asyncio.Event()

    @property
    def active(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.active:
            self._task = asyncio.create_task(self._run(), name="kimaki-typing")

    def poke(self) -> None:
        if self.active:
            self._poke.set()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        if self._exists is not None and not await self._exists():
            return
        while True:
            self._poke.clear()
            try:
                await self._channel.typing()
            except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
                # Only a hint for the user: Discord unreachable or refusing must not end the pulse.
                log.debug("typing indicator failed: %r", exc)
            # Not asyncio.wait_for: on 3.11 it can swallow a cancel that races the poke, and then
            # `stop()` would wait for this loop forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._poke.wait()
                    # A burst of posts (a long answer) earns one re-pulse, not one each.
                    await asyncio.sleep(POKE_DEBOUNCE)
