"""ArrivalOrder: a thread's messages are handled one at a time in arrival order; nothing is kept
for a thread once its messages are done."""

from __future__ import annotations

import asyncio

from kimaki_tui.bot.arrival import ArrivalOrder


async def test_a_thread_handles_its_messages_in_arrival_order_and_forgets_it_after() -> None:
    order = ArrivalOrder()
    done: list[str] = []
    release_first = asyncio.Event()

    async def handle(thread: str, name: str, wait: asyncio.Event | None = None) -> None:
        async with order.turn(thread):
            if wait is not None:
                await wait.wait()  # a slow first message (opening the thread, reading a file)
            done.append(name)

    tasks = [asyncio.create_task(handle("t1", "first", release_first))]
    await asyncio.sleep(0)
    tasks += [asyncio.create_task(handle("t1", name)) for name in ("second", "third")]
    tasks.append(asyncio.create_task(handle("t2", "other thread")))
    await asyncio.wait_for(asyncio.gather(tasks[-1]), 5)
    assert done == ["other thread"]  # another thread does not wait
    assert len(order) == 1
    release_first.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert done == ["other thread", "first", "second", "third"]
    assert len(order) == 0


async def test_a_failing_message_does_not_block_the_next() -> None:
    order = ArrivalOrder()

    async def fail() -> None:
        async with order.turn("t1"):
            raise RuntimeError("boom")

    results = await asyncio.gather(fail(), fail(), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results) and len(order) == 0
