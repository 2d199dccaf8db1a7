"""Gives a Discord thread to each session started outside kimaki that the core finds running in a
linked project (core.external decides which): "Sync: <title>" in the project's channel, a first
message saying where it comes from and what was asked, then the session's output as it comes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import discord

from kimaki_tui.bot.threads import thread_name
from kimaki_tui.core.events import ExternalSessionFound
from kimaki_tui.presentation.markdown import escape_markdown

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

QUIET = discord.AllowedMentions.none()
PROMPT_SHOWN = 1500  # characters of the external prompt quoted in the first message


def intro_text(found: ExternalSessionFound) -> str:
    text = (
        f"🔗 **External session** `{found.session_id}` — started outside kimaki (e.g. `opencode` in a "
        "terminal). Its output follows here; send a message to continue it from Discord."
    )
    prompt = found.prompt.strip()
    if prompt:
        shown = prompt if len(prompt) <= PROMPT_SHOWN else prompt[: PROMPT_SHOWN - 1] + "…"
        text += "\n" + "\n".join(f"> {line}" for line in escape_markdown(shown).splitlines())
    return text


class ExternalSync:
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot
        self._unsubscribe: Callable[[], None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._unsubscribe = self.bot.core.subscribe(self._on_event)

    def _on_event(self, event: object) -> None:
        if isinstance(event, ExternalSessionFound):
            task = asyncio.get_running_loop().create_task(self._open_thread(event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _open_thread(self, found: ExternalSessionFound) -> None:
        channel = self.bot.get_channel(int(found.channel_id))
        if not isinstance(channel, discord.TextChannel) or self.bot.core.resume.bound_thread(
            found.session_id
        ):
            return
        try:
            thread = await channel.create_thread(
                name=thread_name(f"Sync: {found.title or found.session_id}"),
                type=discord.ChannelType.public_thread,
                auto_archive_duration=1440,
            )
            await thread.send(intro_text(found), allowed_mentions=QUIET, suppress_embeds=True)
            await self.bot.core.external.attach(str(thread.id), found)
        except (discord.HTTPException, OSError) as exc:
            log.warning("external session %s: no thread made (%s)", found.session_id, exc)

    async def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
