"""A busy team server: 100 threads, 5 messages each, all sent at once.

Real parts: the scripted model, a real `opencode serve` (bash allowed, so each turn runs one
bash call), the real core and KimakiBot (discord.py) against a Discord twin that answers with
Discord's rate limits (per-channel buckets of 5 per 5 s, 50 requests a second in all). The busy
policy is "queue": a message sent while its thread works waits for its turn (the default,
"interrupt", would cut the running turn, which is not what a burst of questions wants).

Each message is `RUN_BASH: echo t<thread>-m<n>` + `ANSWER:1200`: one bash call, then an answer
of ~1,250 characters, a tool line and a footer. The first message of a thread is sent in the
project channel (the bot opens the thread); the other four go into the thread as soon as it
exists, all threads at once.

Reported: every message answered exactly once and in order per thread; bot overhead per message
(from the moment the message could be sent on — its MESSAGE_CREATE reached the bot, and the
thread's previous turn was over — to the prompt leaving for OpenCode, less OpenCode's own time
creating a new thread's session, reported apart) median and p99; wall time against the Discord
floor (the least time Discord's limits allow for the posts the bot made, a thread's posts no
earlier than its creation could be accepted) and against OpenCode alone
doing the same 500 turns (the real bound on 2 cores); the twin's 429s; peak RSS of this process
(kimaki's core and bot, plus the twin; the scripted model runs in a process of its own).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psutil
from _common import (
    DiscordPlace,
    OpenCodeParts,
    bot_settings,
    discord_place,
    median,
    opencode_parts,
    percentile,
    posted_ms,
    result,
    running_bot,
)

from kimaki_tui.core.events import TurnFinished
from kimaki_tui.settings import SessionSettings
from kimaki_tui.testing.discord_twin import Channel, DiscordTwin
from kimaki_tui.testing.discord_twin.rate_limits import RateLimits, floor_seconds
from kimaki_tui.testing.discord_twin.rest_app import API
from tests.core_rig import CoreRig

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

ANSWER_CHARS = 1200
MARK = re.compile(r"t(\d+)-m(\d+)")


def prompt_text(thread: int, n: int) -> str:
    return f"RUN_BASH: echo t{thread}-m{n}\nANSWER:{ANSWER_CHARS}"


@dataclass
class Clock:
    """When each message was sent and reached the bot, when each prompt left for OpenCode, how long
    OpenCode took to create each session, and when each turn finished."""

    sent: dict[tuple[int, int], float] = field(default_factory=dict)
    delivered: dict[tuple[int, int], float] = field(default_factory=dict)
    prompted: dict[tuple[int, int], float] = field(default_factory=dict)
    prompt_session: dict[tuple[int, int], str] = field(default_factory=dict)
    session_created_in: dict[str, float] = field(default_factory=dict)
    finished: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    _creating: dict[int, float] = field(default_factory=dict)

    async def on_request(self, request: httpx.Request) -> None:
        if request.method == "POST" and request.url.path == "/session":
            self._creating[id(request)] = time.perf_counter()
        elif request.url.path.endswith("/prompt_async"):
            found = MARK.search(json.dumps(json.loads(request.content)["parts"]))
            if found:
                key = (int(found.group(1)), int(found.group(2)))
                self.prompted.setdefault(key, time.perf_counter())
                self.prompt_session.setdefault(key, request.url.path.split("/")[2])

    async def on_response(self, response: httpx.Response) -> None:
        started = self._creating.pop(id(response.request), None)
        if started is not None and response.status_code == 200:
            took = time.perf_counter() - started
            await response.aread()
            self.session_created_in[str(response.json()["id"])] = took

    def watch_arrivals(self, bot: KimakiBot) -> None:
        """Note when each MESSAGE_CREATE reaches the bot: discord.py's parser, before any handler."""
        parsers = bot._connection.parsers
        parse = parsers["MESSAGE_CREATE"]

        def noted(data: dict[str, Any]) -> None:
            found = MARK.search(str(data.get("content", "")))
            if found:
                self.delivered.setdefault((int(found.group(1)), int(found.group(2))), time.perf_counter())
            parse(data)

        parsers["MESSAGE_CREATE"] = noted

    def on_event(self, event: object) -> None:
        if isinstance(event, TurnFinished) and event.thread_id:
            self.finished[event.thread_id].append(time.perf_counter())


class RssSampler:
    def __init__(self) -> None:
        self.peak = 0.0
        self._process = psutil.Process()

    def sample(self) -> float:
        rss = self._process.memory_info().rss / 2**20
        self.peak = max(self.peak, rss)
        return rss

    @contextlib.asynccontextmanager
    async def running(self, interval: float = 0.25) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                self.sample()
                await asyncio.sleep(interval)

        task = asyncio.create_task(loop())
        try:
            yield
        finally:
            task.cancel()


async def open_and_fill(place: DiscordPlace, threads: int, messages: int, clock: Clock) -> dict[int, Channel]:
    """Send every thread's first message in the channel, and the rest into each thread as soon
    as the bot has opened it."""
    twin, owner = place.twin, place.owner
    opened: dict[int, Channel] = {}

    async def fill(t: int, first: int) -> None:
        # A thread started from a message has its id: an O(1) check, woken by the twin's changes
        # only (a poll of every thread by 100 waiters would load the loop the bot runs on).
        found = lambda: twin.world.channels.get(first)  # noqa: E731
        thread = await twin.world.changes.wait_for(found, 600, f"thread {t}")
        opened[t] = thread
        for n in range(1, messages):
            clock.sent[(t, n)] = time.perf_counter()
            await owner.send(thread, prompt_text(t, n))

    fillers = []
    for t in range(threads):
        clock.sent[(t, 0)] = time.perf_counter()
        first = await owner.send(place.channel, prompt_text(t, 0))
        fillers.append(asyncio.create_task(fill(t, first.id)))
    await asyncio.gather(*fillers)
    return opened


def answers(place: DiscordPlace, thread: Channel, t: int) -> list[int]:
    """The message numbers the bot's answers in the thread quote, in posting order."""
    found = []
    for message in place.twin.messages(thread):
        said = re.search(rf"Tool said: t{t}-m(\d+)\b", message.content)
        if message.author.id == place.bot_id and said:
            found.append(int(said.group(1)))
    return found


async def wait_answered(
    place: DiscordPlace, opened: dict[int, Channel], messages: int, timeout: float
) -> None:
    deadline = time.perf_counter() + timeout
    while not all(len(answers(place, th, t)) >= messages for t, th in opened.items()):
        if time.perf_counter() > deadline:
            late = next(t for t, th in opened.items() if len(answers(place, th, t)) < messages)
            transcript = place.twin.transcript(opened[late])
            raise TimeoutError(f"not every message was answered; thread {late}:\n{transcript}")
        await asyncio.sleep(0.5)


def overheads(
    clock: Clock, opened: dict[int, Channel], messages: int, since: dict[tuple[int, int], float]
) -> dict[int, list[float]]:
    """ms from when each message could go (it was sent, or reached the bot: `since`, and the
    previous turn was over) to its prompt leaving for OpenCode, by message number (0 opens the
    thread); OpenCode's own time creating the session is not the bot's and is left out."""
    found: dict[int, list[float]] = defaultdict(list)
    for t, thread in opened.items():
        ends = clock.finished[str(thread.id)]
        for n in range(messages):
            ready = since[(t, n)]
            if n and n - 1 < len(ends):
                ready = max(ready, ends[n - 1])
            if (t, n) in clock.prompted:
                opencode = clock.session_created_in.get(clock.prompt_session[(t, n)], 0.0) if n == 0 else 0.0
                found[n].append((clock.prompted[(t, n)] - ready - opencode) * 1000)
    return found


def check_order(place: DiscordPlace, opened: dict[int, Channel], messages: int) -> tuple[int, int]:
    """(threads answered exactly once each, in order; duplicate answers)."""
    good, duplicates = 0, 0
    for t, thread in opened.items():
        got = answers(place, thread, t)
        duplicates += len(got) - len(set(got))
        if got == list(range(messages)):
            good += 1
        else:
            print(f"thread {t}: answers {got}")
    return good, duplicates


async def run_bot(tmp: Path, oc: OpenCodeParts, threads: int, messages: int, timeout: float) -> float:
    """The whole burst through the bot; returns the wall time in seconds."""
    limits = RateLimits()
    clock = Clock()
    hooks = oc.supervisor.client._http.event_hooks
    hooks["request"].append(clock.on_request)
    hooks["response"].append(clock.on_response)
    sampler = RssSampler()
    async with DiscordTwin(bot_token="bench-threads-token", discord_limits=limits) as twin:
        place = discord_place(twin)
        options = SessionSettings(busy_policy="queue")
        async with CoreRig(oc.supervisor.client, tmp / "db.sqlite", options=options) as rig:
            rig.events.clear()
            rig.bus.add_callback(clock.on_event)
            rig.core.projects.link(str(place.channel.id), str(place.guild.id), str(oc.project))
            before_kimaki = sampler.sample()
            async with running_bot(rig.core, twin, bot_settings(tmp)) as bot, sampler.running():
                clock.watch_arrivals(bot)
                await warm_up(place)
                first_request = len(twin.requests)
                start = time.perf_counter()
                start_ms = time.time() * 1000
                opened = await open_and_fill(place, threads, messages, clock)
                await wait_answered(place, opened, messages, timeout=timeout)
                assert bot.output is not None
                await bot.output.drain(timeout=300)
                last = max(posted_ms(m.id) for th in opened.values() for m in twin.messages(th))
                wall = (last - start_ms) / 1000
                drained = time.perf_counter() - start
                print(f"{threads * messages} messages answered in {wall:.1f} s ({drained:.1f} s to drain)")
            report(place, opened, messages, clock, wall, twin, first_request, limits)
            result("rss_before_kimaki", before_kimaki, "MB", "reference")
            result("rss_peak", sampler.peak, "MB", "<=150")
            # This process also holds the twin: kimaki's part is at most this.
            result("rss_peak_above_before_kimaki", sampler.peak - before_kimaki, "MB", "report")
    return wall


async def warm_up(place: DiscordPlace) -> None:
    """The first turn in a project pays OpenCode's project set-up: not part of the figures."""
    await place.owner.send(place.channel, "REPLY: warm")
    thread = await place.twin.wait_for_thread(place.channel, 60)
    await place.twin.wait_for_message(
        thread, lambda m: "warm" in m.content and m.author.id == place.bot_id, 60
    )
    await asyncio.sleep(1.0)


def report(
    place: DiscordPlace,
    opened: dict[int, Channel],
    messages: int,
    clock: Clock,
    wall: float,
    twin: DiscordTwin,
    first_request: int,
    limits: RateLimits,
) -> None:
    good, duplicates = check_order(place, opened, messages)
    result("threads_answered_in_order", good, "count", f"={len(opened)}")
    result("duplicate_answers", duplicates, "count", "0")
    by_number = overheads(clock, opened, messages, clock.delivered)
    waits = [w for values in by_number.values() for w in values]
    follow_ups = [w for n, values in by_number.items() if n for w in values]
    result("bot_overhead_median", median(waits), "ms", "report")
    result("bot_overhead_p99", percentile(waits, 0.99), "ms", "<=50")
    result("bot_overhead_new_thread_median", median(by_number[0]), "ms", "report")
    result("bot_overhead_new_thread_p99", percentile(by_number[0], 0.99), "ms", "report")
    if follow_ups:
        result("bot_overhead_queued_follow_up_p99", percentile(follow_ups, 0.99), "ms", "<=50")
    created = list(clock.session_created_in.values())
    result("opencode_session_create_p99", percentile(created, 0.99) * 1000, "ms", "reference")
    # From the user's send (the twin and the gateway included) and with OpenCode's session creation.
    whole = [
        (clock.prompted[key] - clock.sent[key]) * 1000 for key in clock.prompted if key[1] == 0
    ]
    result("send_to_prompt_new_thread_p99", percentile(whole, 0.99), "ms", "report")
    posts = [
        (r.method, r.path[len(API) :])
        for r in twin.requests[first_request:]
        if r.status < 400 and r.method == "POST" and not r.path.endswith("/typing")
    ]
    floor = floor_seconds(posts)
    print(f"the bot made {len(posts)} posts (messages and threads); Discord's floor for them: {floor:.1f} s")
    result("discord_floor", floor, "s", "reference")
    result("wall", wall, "s", "report")
    result("wall_vs_discord_floor", wall / floor if floor else 0.0, "x", "<=1.2")
    # discord.py learns a bucket's limit from the first answer, so a burst can overrun it once.
    result("discord_429s", len(limits.refused), "count", "report")
    by_route = Counter(refused.split(":", 1)[0].split(" ", 1)[0] for refused in limits.refused)
    print("429s by route:", ", ".join(f"{route} {n}" for route, n in by_route.most_common()))


async def run_direct(oc: OpenCodeParts, threads: int, messages: int) -> float:
    """OpenCode alone: the same turns, one session per thread, each waiting for the last."""
    from kimaki_tui.opencode.events import SessionIdle
    from kimaki_tui.opencode.schema import text_part
    from kimaki_tui.opencode.stream import EventStream

    client, directory = oc.supervisor.client, str(oc.project)
    idle: dict[str, asyncio.Queue[None]] = defaultdict(asyncio.Queue)

    def on_event(event: object) -> None:
        if isinstance(event, SessionIdle) and event.session_id:
            idle[event.session_id].put_nowait(None)

    stream = EventStream(client, on_event)
    task = asyncio.create_task(stream.run())
    await stream.wait_connected(20)

    async def one_thread(t: int) -> None:
        session = await client.create_session(directory)
        for n in range(messages):
            await client.prompt_async(session.id, directory, [text_part(prompt_text(t, n))])
            await idle[session.id].get()

    start = time.perf_counter()
    await asyncio.gather(*(one_thread(t) for t in range(threads)))
    elapsed = time.perf_counter() - start
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return elapsed


async def run(tmp: Path, threads: int, messages: int, direct: bool, timeout: float) -> None:
    async with opencode_parts(tmp, {"permission": {"bash": "allow"}}) as oc:
        wall = await run_bot(tmp, oc, threads, messages, timeout)
        if direct:
            alone = await run_direct(oc, threads, messages)
            print(f"OpenCode alone: {threads * messages} turns in {alone:.1f} s")
            result("opencode_alone_wall", alone, "s", "reference")
            result("wall_vs_opencode_alone", wall / alone, "x", "report")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=100)
    parser.add_argument("--messages", type=int, default=5, help="messages per thread")
    parser.add_argument("--no-direct", action="store_true", help="skip the OpenCode-alone run")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for every answer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kimaki-bench-") as tmp:
        asyncio.run(run(Path(tmp), args.threads, args.messages, not args.no_direct, args.timeout))


if __name__ == "__main__":
    main()
