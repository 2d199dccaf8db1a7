"""Run kimaki: one asyncio loop owning the runtime until SIGINT/SIGTERM asks it to stop.

`run(settings)` is what the root `kimaki` command calls after logging is set up. Start-up
errors the user can fix (OpenCode missing, never healthy) become one clear message and exit
code 1, never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from kimaki_tui.config import Settings

log = logging.getLogger(__name__)


def run(settings: Settings) -> int:
    try:
        return asyncio.run(_main(settings))
    except KeyboardInterrupt:
        return 130


async def _main(settings: Settings) -> int:
    from kimaki_tui.opencode.errors import OpenCodeError
    from kimaki_tui.runtime import Runtime

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Runtime(settings) as runtime:
        try:
            await runtime.wait_ready(timeout=None)
        except OpenCodeError as exc:
            log.error("OpenCode could not start: %s", exc)
            _tell(f"kimaki: {exc}" + (f"\n{exc.hint}" if exc.hint else ""))
            return 1
        log.info("kimaki is ready (OpenCode on port %s)", runtime.supervisor.port)
        _tell(f"kimaki: ready — OpenCode on port {runtime.supervisor.port}; logs in {settings.log_path}")
        await stop.wait()
        log.info("stopping")
    return 0


def _tell(message: str) -> None:
    """Headless status for the person at the terminal (the TUI, when present, owns the screen)."""
    print(message, file=sys.stderr, flush=True)
