"""Whether a chat front end is listening to turn events: queued prompts of chat threads wait for it.

A queued prompt that ran while no front end listened would be answered where nobody sees it (the
bus does not keep events). At start the composition root says a chat front end is expected
(`expect`), so the queues a previous run left wait until its output router subscribes
(`listening`); without one expected (no Discord token, tests of the core alone) nothing waits.
"""

from __future__ import annotations

import asyncio


class ChatDelivery:
    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._open.set()

    @property
    def is_open(self) -> bool:
        return self._open.is_set()

    def expect(self) -> None:
        """A chat front end will start: hold chat threads' queues until it listens."""
        self._open.clear()

    def listening(self) -> None:
        """The front end posts what turns produce from now on."""
        self._open.set()

    def stopped(self) -> None:
        """The front end stopped listening (it is being replaced or kimaki is closing)."""
        self._open.clear()

    async def wait(self) -> None:
        await self._open.wait()
