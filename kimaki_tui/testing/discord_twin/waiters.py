"""Event-driven waiting: every state change wakes the waiters, who re-check their condition."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Changes:
    """A broadcast 'something changed' signal; `wait_for` re-checks a condition after each change."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.version = 0
        self._listeners: list[Callable[[], None]] = []

    def notify(self) -> None:
        self.version += 1
        self._event.set()
        # A fresh event, so waiters who wake up and re-wait block until the next change.
        self._event = asyncio.Event()
        for listener in list(self._listeners):
            listener()

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener()` after every change (keep it cheap); returns the unsubscribe function."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    async def wait_for(
        self,
        check: Callable[[], T | None],
        timeout: float,
        what: str = "condition",
        poll: float | None = None,
    ) -> T:
        """Return the first truthy `check()`; raise TimeoutError naming `what` after `timeout` seconds.

        `poll` also re-checks every so often, for conditions on state the twin is not told about
        (the bot's own cache, say); twin-side conditions wake on the change itself.
        """

        async def loop() -> T:
            while True:
                event = self._event
                result = check()
                if result:
                    return result
                if poll is None:
                    await event.wait()
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(event.wait(), poll)

        try:
            return await asyncio.wait_for(loop(), timeout)
        except TimeoutError:
            raise TimeoutError(f"Discord twin: timed out after {timeout}s waiting for {what}") from None
