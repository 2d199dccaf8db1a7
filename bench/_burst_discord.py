"""The Discord side of `bench/concurrent_threads.py`, in a process of its own: the twin with
Discord's rate limits, and the person who sends the burst.

Discord is another machine: its work must not run on the event loop whose delays the bench
measures, and its memory is not kimaki's. The bench starts this script, reads one JSON line with
the twin's addresses, then sends one JSON command per line on stdin and reads one JSON answer per
line on stdout: `warm_up`, `burst` (send every message, wait until all are answered) and `report`
(what Discord saw). Times are `time.monotonic()`, the same clock in both processes.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from typing import Any

from _common import DiscordPlace, discord_place, posted_ms

from kimaki_tui.testing.discord_twin import Channel, DiscordTwin
from kimaki_tui.testing.discord_twin.rate_limits import RateLimits
from kimaki_tui.testing.discord_twin.rest_app import API

ANSWER_CHARS = 1200


def prompt_text(thread: int, n: int) -> str:
    return f"RUN_BASH: echo t{thread}-m{n}\nANSWER:{ANSWER_CHARS}"


class BurstDiscord:
    def __init__(self, twin: DiscordTwin, limits: RateLimits) -> None:
        self.twin, self.limits = twin, limits
        self.place: DiscordPlace = discord_place(twin)
        self.opened: dict[int, Channel] = {}
        self.first_request = 0
        self.began = 0.0

    def hello(self) -> dict[str, Any]:
        return {
            "api_url": self.twin.api_url,
            "gateway_url": self.twin.gateway_url,
            "token": self.twin.bot_token,
            "guild": self.place.guild.id,
            "channel": self.place.channel.id,
        }

    async def warm_up(self) -> dict[str, Any]:
        """The first turn in a project pays OpenCode's project set-up: not part of the figures."""
        place = self.place
        await place.owner.send(place.channel, "REPLY: warm")
        thread = await place.twin.wait_for_thread(place.channel, 60)
        await place.twin.wait_for_message(
            thread, lambda m: "warm" in m.content and m.author.id == place.bot_id, 60
        )
        return {}

    async def burst(self, threads: int, messages: int, timeout: float) -> dict[str, Any]:
        """Every thread's first message in the channel, the rest into each thread as soon as the
        bot has opened it; then wait until every message is answered."""
        twin, owner = self.twin, self.place.owner
        self.first_request, self.began = len(twin.requests), time.monotonic()
        sent: list[tuple[int, int, float]] = []

        async def fill(t: int, first: int) -> None:
            # A thread started from a message has its id: an O(1) check, woken by the twin's changes.
            found = lambda: twin.world.channels.get(first)  # noqa: E731
            self.opened[t] = thread = await twin.world.changes.wait_for(found, 600, f"thread {t}")
            for n in range(1, messages):
                sent.append((t, n, time.monotonic()))
                await owner.send(thread, prompt_text(t, n))

        start_ms = time.time() * 1000
        fillers = []
        for t in range(threads):
            sent.append((t, 0, time.monotonic()))
            first = await owner.send(self.place.channel, prompt_text(t, 0))
            fillers.append(asyncio.create_task(fill(t, first.id)))
        await asyncio.gather(*fillers)
        await self._wait_answered(messages, timeout)
        opened = {t: thread.id for t, thread in self.opened.items()}
        return {"opened": opened, "sent": sent, "start_ms": start_ms}

    def answers(self, t: int) -> list[int]:
        """The message numbers the bot's answers in thread `t` quote, in posting order."""
        found = []
        for message in self.twin.messages(self.opened[t]):
            said = re.search(rf"Tool said: t{t}-m(\d+)\b", message.content)
            if message.author.id == self.place.bot_id and said:
                found.append(int(said.group(1)))
        return found

    async def _wait_answered(self, messages: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not all(len(self.answers(t)) >= messages for t in self.opened):
            if time.monotonic() > deadline:
                late = next(t for t in self.opened if len(self.answers(t)) < messages)
                transcript = self.twin.transcript(self.opened[late])
                raise TimeoutError(f"not every message was answered; thread {late}:\n{transcript}")
            await asyncio.sleep(0.5)

    async def report(self) -> dict[str, Any]:
        """Each thread's answers, the bot's posts since the burst began (for Discord's floor), when
        the last one was accepted, and the 429s the twin answered."""
        accepted = [
            r
            for r in self.twin.requests[self.first_request :]
            if r.status < 400 and r.method == "POST" and not r.path.endswith("/typing")
        ]
        posts = [(r.method, r.path[len(API) :]) for r in accepted]
        # When Discord accepted each thread's creation and the thread's last post (s after the burst).
        at = {id(r): r.answered_at - self.began for r in accepted}
        created = {r.path.split("/")[-2]: at[id(r)] for r in accepted if r.path.endswith("/threads")}
        last_post = {t: max(at[id(r)] for r in accepted if f"/channels/{t}/" in r.path) for t in created}
        last = max(posted_ms(m.id) for thread in self.opened.values() for m in self.twin.messages(thread))
        answers = {t: self.answers(t) for t in self.opened}
        return {
            "answers": answers,
            "posts": posts,
            "thread_created_s": created,
            "thread_last_post_s": last_post,
            "last_posted_ms": last,
            "refused": list(self.limits.refused),
        }


async def serve() -> None:
    limits = RateLimits()
    async with DiscordTwin(bot_token="bench-threads-token", discord_limits=limits) as twin:
        side = BurstDiscord(twin, limits)
        print(json.dumps(side.hello()), flush=True)
        reader = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():
            command = json.loads(line)
            op = command.pop("op")
            if op not in ("warm_up", "burst", "report"):
                break
            try:
                answer = await getattr(side, op)(**command)
            except Exception as exc:  # the bench shows it and stops
                answer = {"error": f"{type(exc).__name__}: {exc}"}
            print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    asyncio.run(serve())
