"""Running without the control center: wait for OpenCode, say "ready" on stderr once Discord is
connected too (with who can reach the bot), then wait for the run to stop."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kimaki_tui.core.events import ChatStatus
from kimaki_tui.errors import describe
from kimaki_tui.opencode.errors import OpenCodeError
from kimaki_tui.root.build import Services
from kimaki_tui.root.run import tell

log = logging.getLogger(__name__)


async def run_headless(services: Services) -> int:
    """0 after a clean stop; 1 when OpenCode could not start or Discord refused the bot."""
    try:
        await services.wait_ready(timeout=None)
    except OpenCodeError as exc:
        log.error("OpenCode could not start: %s", exc)
        message, hint = describe(exc)  # the message may hold OpenCode's last output lines
        tell(f"kimaki: {message}" + (f"\n{hint}" if hint and hint not in message else ""))
        return 1
    log.info("OpenCode ready on port %s", services.supervisor.port)
    worker, bot_task = services.worker, services.bot_task
    assert worker is not None and bot_task is not None
    stopper = asyncio.create_task(services.stop.wait())
    try:
        await _announce_ready(services, {stopper, bot_task})
        await asyncio.wait({stopper, bot_task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if worker.status.state == "failed":
        tell(f"kimaki: {worker.status.detail}")
        return 1
    log.info("stopping")
    return 0


async def _announce_ready(services: Services, stoppers: set[asyncio.Task[Any]]) -> None:
    """Say "ready" once Discord is connected too (the headless user's sign that all is up)."""
    changed = asyncio.Event()

    def watch(event: object) -> None:
        if isinstance(event, ChatStatus) and event.state in ("connected", "failed"):
            changed.set()

    unsubscribe = services.bus.add_callback(watch)
    try:
        if services.discord_status.state != "connected":
            waiter = asyncio.create_task(changed.wait())
            await asyncio.wait({waiter, *stoppers}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
    finally:
        unsubscribe()
    status = services.discord_status
    if status.state == "connected":
        port = services.supervisor.port
        log.info("ready: Discord connected as %s in %d server(s)", status.user, status.guilds)
        tell(f"kimaki: ready — Discord: {status.user} in {status.guilds} server(s); OpenCode on port {port}")
        _warn_access(services, status)


def _warn_access(services: Services, status: ChatStatus) -> None:
    """Start-up warnings about who can reach the bot (the control center shows them in its status
    bar and as notices; the bot logs them)."""
    from kimaki_tui.setup.guide import PUBLIC_BOT

    if status.public_bot:  # the bot logged it at login
        tell(f"kimaki: warning: {PUBLIC_BOT}")
    pending = services.core.guilds.pending()
    if pending:
        names = ", ".join(f"{g.name} ({g.guild_id})" for g in pending)
        tell(f"kimaki: {len(pending)} server(s) waiting for your approval: {names} (kimaki guild allow ID)")
