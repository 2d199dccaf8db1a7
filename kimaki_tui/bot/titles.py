"""Thread names follow the session's title: when OpenCode titles a session, its thread is renamed
(keeping the ⬦ worktree mark), within Discord's rename budget (core.renames): titles that come
faster wait, and only the newest is applied. Only threads named automatically (from their first
message or prompt: a channel message, /session, a nameless `kimaki send`) follow; a name someone
chose (`kimaki send --name`, a task's name) stays, and so does a `btw:` thread's."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord

from kimaki_tui.bot.commands.worktrees import WORKTREE_MARK
from kimaki_tui.bot.threads import thread_name
from kimaki_tui.core.renames import RenameBudget

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)


class ThreadTitles:
    def __init__(self, bot: KimakiBot, budget: RenameBudget | None = None) -> None:
        self.bot = bot
        self.budget = budget or RenameBudget()
        self.pending: dict[str, str] = {}  # thread id → the newest title not applied yet
        self.following: set[str] = set()  # threads named from their first message
        self._workers: dict[str, asyncio.Task[None]] = {}

    def follow(self, thread_id: str) -> None:
        """Let the thread take its session's titles (it was named from its first message)."""
        self.following.add(thread_id)

    def changed(self, thread_id: str, title: str) -> None:
        if thread_id not in self.following or not title.strip():
            return
        self.pending[thread_id] = title
        if thread_id not in self._workers:
            task = asyncio.create_task(self._run(thread_id), name=f"kimaki-title-{thread_id}")
            self._workers[thread_id] = task
            task.add_done_callback(lambda _: self._workers.pop(thread_id, None))

    async def _run(self, thread_id: str) -> None:
        while thread_id in self.pending:
            await asyncio.sleep(self.budget.delay(thread_id))
            title = self.pending.pop(thread_id, None)
            if title is not None:
                await self._rename(thread_id, title)

    async def _rename(self, thread_id: str, title: str) -> None:
        # OpenCode may title the session while Discord still creates its thread (bot/opening.py).
        if not await self.bot.opening_threads.wait(thread_id):
            return
        try:
            thread = self.bot.get_channel(int(thread_id)) or await self.bot.fetch_channel(int(thread_id))
            if not isinstance(thread, discord.Thread):
                return
            mark = WORKTREE_MARK if thread.name.startswith(WORKTREE_MARK) else ""
            name = thread_name(mark + title)
            if name == thread.name:
                return
            self.budget.spend(thread_id)
            await thread.edit(name=name)
        except discord.HTTPException as exc:
            log.warning("could not rename thread %s to the session title: %s", thread_id, exc)

    async def close(self) -> None:
        for task in list(self._workers.values()):
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        self._workers.clear()
