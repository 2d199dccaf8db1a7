"""Sends a thread's outbox to Discord: one row at a time, in order, retried with backoff across
connection errors, 5xx and 429s until Discord takes it (or refuses it for good). Each message
carries the row's nonce with `enforce_nonce`, so a retry after an answer lost on the way back
returns the message already posted instead of posting it twice."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import aiohttp
import discord

from kimaki_tui.bot.views import permission_view, question_view
from kimaki_tui.core.api import DatabaseBusy, Delivery, until_stored, until_stored_async

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

QUIET = discord.AllowedMentions.none()
# Worth another try: the request may not have reached Discord, or Discord asked us to wait.
TRANSIENT = (aiohttp.ClientError, OSError, TimeoutError, discord.DiscordServerError, discord.RateLimited)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, discord.HTTPException) and not isinstance(exc, discord.DiscordServerError):
        return exc.status == 429 or exc.status >= 500 or exc.status == 408
    return isinstance(exc, TRANSIENT)


class ThreadSender:
    """The worker delivering one thread's outbox; `wake()` after queuing, `idle()` to wait."""

    def __init__(
        self, bot: KimakiBot, thread_id: str, channel: discord.PartialMessageable, on_sent: Callable[[], None]
    ) -> None:
        self.bot = bot
        self.thread_id = thread_id
        self.channel = channel
        self._on_sent = on_sent
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task = asyncio.create_task(self._run(), name=f"kimaki-delivery-{thread_id}")

    def wake(self) -> None:
        self._idle.clear()
        self._wake.set()

    async def idle(self) -> None:
        await self._idle.wait()

    @property
    def _what(self) -> str:
        return f"the outbox of thread {self.thread_id}"

    @property
    def is_idle(self) -> bool:
        return self._idle.is_set() and not self._wake.is_set()

    async def close(self) -> None:
        """Stop sending; what is left stays in the outbox for the next start."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                created = await self.bot.opening_threads.wait(self.thread_id)
                await until_stored_async(functools.partial(self._deliver_waiting, created), self._what)
            except Exception:  # the store failed: keep the rows, try again on the next wake
                log.exception("could not deliver the outbox of thread %s", self.thread_id)
            if not self._wake.is_set():
                self._idle.set()

    async def _deliver_waiting(self, created: bool) -> None:
        outbox = self.bot.core.outbox
        for delivery in outbox.waiting(self.thread_id):
            if created:
                await self._deliver(delivery)
            else:
                outbox.undeliverable(delivery, "the thread could not be created")

    async def _deliver(self, delivery: Delivery) -> None:
        outbox = self.bot.core.outbox
        attempt = 0
        while True:
            try:
                message_id = await self._attempt(delivery)
            except DatabaseBusy:
                raise  # not Discord's refusal: the whole step is tried again (_run)
            except Exception as exc:
                if not is_transient(exc):
                    log.warning("Discord refused a post in thread %s for good: %s", self.thread_id, exc)
                    reason = str(exc)[:500]
                    await until_stored(functools.partial(outbox.undeliverable, delivery, reason), self._what)
                    return
                attempt += 1
                count = functools.partial(outbox.failed_attempt, delivery, attempt)
                delay = await until_stored(count, self._what)
                level = logging.WARNING if attempt == 1 else logging.DEBUG
                log.log(level, "post in thread %s failed (%r), retrying in %.2fs", self.thread_id, exc, delay)
                await asyncio.sleep(delay)
                continue
            if attempt:
                log.info("post in thread %s delivered after %d retries", self.thread_id, attempt)
            # Recorded before anything else: a post sent but not marked would be sent again.
            await until_stored(functools.partial(outbox.delivered, delivery, message_id), self._what)
            self._on_sent()
            return

    async def _attempt(self, delivery: Delivery) -> str | None:
        if delivery.action == "edit_prompt":
            return await self._edit_prompt(delivery)
        if delivery.action == "edit_notice":
            shown = self.bot.core.outbox.notice_message_id(self.thread_id, delivery.request_id or "")
            if shown is not None:
                message = self.channel.get_partial_message(int(shown))
                await message.edit(content=delivery.content, allowed_mentions=QUIET)
                return shown
            # Never shown (refused for good): the new text is posted instead.
        view = self._view(delivery)
        silent = not delivery.notify
        if view is None:
            message = await self.channel.send(
                delivery.content, allowed_mentions=QUIET, suppress_embeds=True,
                silent=silent, nonce=delivery.nonce,
            )
        else:
            message = await self.channel.send(
                delivery.content, view=view, allowed_mentions=QUIET, suppress_embeds=True,
                silent=silent, nonce=delivery.nonce,
            )
        return str(message.id)

    def _view(self, delivery: Delivery) -> discord.ui.View | None:
        if delivery.request_id is None:
            return None
        if delivery.view == "permission":
            return permission_view(delivery.request_id)
        if delivery.view == "question":
            request = self.bot.core.approvals.question(delivery.request_id)
            # Answered (or expired) before it could be shown: its outcome follows as an edit.
            return None if request is None else question_view(request)
        return None

    async def _edit_prompt(self, delivery: Delivery) -> str | None:
        shown = self.bot.core.outbox.prompt_message_id(delivery.request_id or "")
        if shown is None:
            return None  # never shown: nothing carries its buttons
        message = self.channel.get_partial_message(int(shown))
        await message.edit(content=delivery.content, view=None, allowed_mentions=QUIET)
        return shown
