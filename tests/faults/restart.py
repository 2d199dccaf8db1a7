"""kimaki ending without cleaning up, then starting again on the same database and Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.settings import SessionSettings
from tests.bot.rig import BotRig
from tests.core_rig import CoreRig


async def nothing() -> None:
    """Nothing happens while kimaki is down (besides what the test does in Discord)."""


@asynccontextmanager
async def after_a_crash(
    bot_rig: BotRig,
    client: OpenCodeClient,
    while_down: Callable[[], Awaitable[object]] = nothing,
    *,
    options: SessionSettings | None = None,
    before_the_bot: Callable[[CoreRig], Awaitable[object]] = lambda core: nothing(),
) -> AsyncIterator[CoreRig]:
    """kimaki ends without cleaning up (its bot and core just stop), `while_down` runs (what
    OpenCode dying with it did, what users posted meanwhile), then kimaki starts again on the same
    database and Discord: a new core and bot, for the block. As in kimaki, the core starts first
    (its event stream, its resync) and the bot follows: `before_the_bot` runs in between."""
    await bot_rig.stop_bot()
    old = bot_rig.core_rig
    await old.__aexit__(None, None, None)
    await while_down()
    async with CoreRig(client, old.store.path, options=options, chat_expected=True) as fresh:
        bot_rig.core_rig = fresh
        try:
            await before_the_bot(fresh)
            await bot_rig.start_bot()
            yield fresh
        finally:
            await bot_rig.stop_bot()
            bot_rig.core_rig = old
