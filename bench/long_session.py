"""One long session: does the cost of an event grow with the session, and is posting linear?

The session: one turn of 500 agent steps (each an assistant message with step-start, a short
streamed text, one bash call and step-finish: 2,000 parts), then a 200,000-character markdown
answer (headings, tables, code) streamed in 40-character deltas, in OpenCode 1.18's event shapes.

- Reducer, and renderer (Discord `render_event` + the control center's transcript: the book fed
  by the bridge's coalesced batches and each changed entry rendered by rich, as the session
  screen does), µs per event around the 100th part and around the 2,000th. Goal: ratio ≤ 1.5.
- Streaming the long answer: µs per delta over its first and its last 10,000 characters.
- Posting: the same events through the real core and the real bot (discord.py) into a Discord
  twin thread; ms per posted message over the first 100 messages and the last 100 (the long
  answer's chunks). Goal: linear, i.e. ratio ≤ 1.5. OpenCode is not involved: the events are fed
  to the core as the event stream would.
- The long answer (thousands of lines with tables and code) as Discord messages: the gap between
  consecutive chunks, median and p99 — the bot's overhead per message plus the twin's handling.
  Goal ≤ 50 ms.
- These posting figures are kimaki's own cost, so the twin enforces no Discord limits and the
  bot's pace under Discord's global limit (bot/global_pace.py, 48 requests a second) is set out
  of the way; a second run with the real pace reports its posting time against the least the
  limit allows.

Each timing is the best window mean over several runs (the machine is shared). `--steps` and
`--answer` shrink the session for a quick look.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _common import bot_settings, discord_place, posted_ms, result, running_bot
from _synth import SessionEvents, markdown_answer, parsed
from rich.console import Console

from kimaki_tui.core.events import DomainEvent
from kimaki_tui.core.reducer import initial_state, reduce
from kimaki_tui.opencode.events import Event
from kimaki_tui.presentation.render import render_event
from kimaki_tui.screens.bridge import coalesce
from kimaki_tui.screens.format import Palette
from kimaki_tui.screens.transcript import TranscriptBook
from kimaki_tui.screens.widgets.transcript_view import render_entry

PARTS_PER_STEP = 4
BATCH = 10  # events per bridge batch (the bridge posts one batch per 50 ms)
WINDOW = 60  # parts measured around each mark
RUNS = 5


@dataclass
class Session:
    sid: str
    events: list[Event]
    part_marks: dict[int, int]  # parts so far -> index of the first event after them
    answer_start: int
    answer_deltas: int
    answer_lines: int


def build_session(steps: int, answer_chars: int) -> Session:
    s = SessionEvents("ses_longsession0000bench")
    user = list(s.user_message("Please fix every failing test, then explain what you changed."))
    parent = user[0]["properties"]["info"]["id"]
    events = parsed(iter([*user, s.status("busy")]))
    marks = {0: len(events)}
    for n in range(steps):
        events += parsed(s.tool_step(parent, n))
        marks[(n + 1) * PARTS_PER_STEP] = len(events)
    answer_start = len(events) + 3  # message.updated, step-start, the empty text part
    text = markdown_answer(answer_chars)
    events += parsed(s.answer_step(parent, text, 40))
    events += parsed(s.turn_end())
    return Session(s.sid, events, marks, answer_start, -(-len(text) // 40), text.count("\n") + 1)


class TuiRenderer:
    """What the session screen does per batch: the transcript book, then each changed entry
    rendered (rich, 100 columns) like TranscriptView.show."""

    def __init__(self) -> None:
        self.book = TranscriptBook()
        self.console = Console(width=100, file=open("/dev/null", "w"), color_system="truecolor")  # noqa: SIM115
        self.palette = Palette()
        self.shown: dict[str, tuple[str, str, bool, str]] = {}

    def batch(self, session_id: str, events: list[DomainEvent]) -> None:
        for event in coalesce(events):
            self.book.apply(event)
        for entry in self.book.entries(session_id):
            signature = (entry.kind, entry.text, entry.done, entry.meta)
            if self.shown.get(entry.key) != signature:
                self.shown[entry.key] = signature
                self.console.render_lines(render_entry(entry, self.palette), self.console.options)


def timed_run(session: Session) -> tuple[list[float], list[float]]:
    """Seconds per event: the reducer's, and the renderers' (charged to the events of a batch)."""
    state = initial_state(session.sid)
    tui = TuiRenderer()
    reducer_times: list[float] = []
    render_times: list[float] = []
    pending: list[DomainEvent] = []
    batch_start = 0
    gc.collect()
    for index, event in enumerate(session.events):
        start = time.perf_counter()
        state, outputs = reduce(state, event)
        reduced = time.perf_counter()
        for output in outputs:
            render_event(output)
        pending.extend(outputs)
        render_times.append(time.perf_counter() - reduced)
        reducer_times.append(reduced - start)
        if (index + 1) % BATCH == 0 or index == len(session.events) - 1:
            start = time.perf_counter()
            tui.batch(session.sid, pending)
            share = (time.perf_counter() - start) / (index + 1 - batch_start)
            for i in range(batch_start, index + 1):
                render_times[i] += share
            pending, batch_start = [], index + 1
    return reducer_times, render_times


def window_us(times: list[list[float]], start: int, end: int) -> float:
    """The best (least disturbed) run's mean over events [start, end), in µs."""
    return min(statistics.fmean(run[start:end]) for run in times) * 1e6


def bench_pure(session: Session, steps: int, repeat: int) -> None:
    runs = [timed_run(session) for _ in range(repeat)]
    reducer, renderer = [r[0] for r in runs], [r[1] for r in runs]

    def mark(parts: int) -> int:
        return session.part_marks[parts - parts % PARTS_PER_STEP]

    low = (mark(100 - WINDOW // 2), mark(100 + WINDOW // 2))
    top = steps * PARTS_PER_STEP
    high = (mark(top - WINDOW), mark(top))
    for name, times in (("reducer", reducer), ("renderer", renderer)):
        at_low, at_high = window_us(times, *low), window_us(times, *high)
        result(f"{name}_us_per_event_at_100_parts", at_low, "us", "report")
        result(f"{name}_us_per_event_at_{top}_parts", at_high, "us", "report")
        result(f"{name}_cost_ratio_{top}_vs_100_parts", at_high / at_low, "x", "<=1.5")
    start, deltas = session.answer_start, session.answer_deltas
    # 250 deltas of 40 characters; the batches that open and end the part are left out.
    first = (start + BATCH, start + BATCH + 250)
    last = (start + deltas - BATCH - 250, start + deltas - BATCH)
    both = [[a + b for a, b in zip(r, d, strict=True)] for r, d in zip(reducer, renderer, strict=True)]
    at_first, at_last = window_us(both, *first), window_us(both, *last)
    result("stream_us_per_delta_first_10k_chars", at_first, "us", "report")
    result("stream_us_per_delta_last_10k_chars", at_last, "us", "report")
    result("stream_cost_ratio_end_vs_start_of_answer", at_last / at_first, "x", "<=1.5")
    final = [run[-4] + run[-3] + run[-2] + run[-1] for run in renderer]
    result("answer_end_render_ms", min(final) * 1000, "ms", "report")


async def bench_posting(session: Session, tmp: Path, *, paced: bool) -> list[int]:
    """The events through the real core and bot; when each message reached the twin (ms)."""
    from kimaki_tui.bot.global_pace import GlobalPace
    from kimaki_tui.core.bus import EventBus
    from kimaki_tui.core.service import Core
    from kimaki_tui.opencode.client import OpenCodeClient
    from kimaki_tui.store.repo import Store
    from kimaki_tui.testing.discord_twin import DiscordTwin
    from kimaki_tui.testing.discord_twin.model import ChannelType
    from kimaki_tui.testing.discord_twin.threads import start_thread

    async def no_stream() -> None:
        return None

    store = Store.open(tmp / "db.sqlite")
    core = Core(
        client=OpenCodeClient("http://127.0.0.1:9"), store=store, bus=EventBus(), wait_stream=no_stream
    )
    core.start()
    async with DiscordTwin(bot_token="bench-token") as twin:
        place = discord_place(twin)
        owner = twin.world.users[place.owner.id]
        thread = start_thread(
            twin.world, place.channel, owner, {"name": "long session"}, kind=ChannelType.PUBLIC_THREAD
        )
        core.sessions.open(str(thread.id), str(place.channel.id), "/home/user/demo", session.sid)
        unbound = None if paced else GlobalPace(per_second=1_000_000)
        async with running_bot(core, twin, bot_settings(tmp), pace=unbound) as bot:
            for event in session.events:
                core.handle_event(event)
            assert bot.output is not None
            await bot.output.drain(timeout=600)
            messages = [m for m in twin.messages(thread) if m.author.id == place.bot_id]
    await core.close()
    store.close()
    return [posted_ms(m.id) for m in messages]


def report_paced(times: list[int]) -> None:
    """With the real pace: the posting time against the least its limit allows (the first
    PER_SECOND requests go at once, then PER_SECOND a second; typing and edits share the slots)."""
    from kimaki_tui.bot.global_pace import PER_SECOND

    took = (times[-1] - times[0]) / 1000
    floor = (len(times) - PER_SECOND) / PER_SECOND
    print(f"with the real pace: {len(times)} messages in {took:.2f} s (its limit allows {floor:.2f} s)")
    result("paced_posting", took, "s", "report")
    result("paced_posting_vs_pace_floor", took / floor, "x", "report")


def report_posting(times: list[int], steps: int) -> None:
    """ms per message over two windows of the same kind of message (the steps' short posts),
    early and late in the session; then the long answer's chunks."""

    def per_message(start: int, end: int) -> float:
        return (times[end - 1] - times[start - 1]) / (end - start)

    short = steps * 2  # each step posts its short text and its tool line
    window = min(100, short // 4)
    early, late = per_message(window, 2 * window), per_message(short - window, short)
    chunks = len(times) - short - 1  # the answer's messages, then the footer
    print(f"posted {len(times)} messages in {(times[-1] - times[0]) / 1000:.2f} s")
    result("posted_messages", len(times), "count", "report")
    result(f"posting_ms_per_message_at_message_{window}", early, "ms", "report")
    result(f"posting_ms_per_message_at_message_{short - window}", late, "ms", "report")
    result("posting_cost_ratio_late_vs_early", late / early, "x", "<=1.5")
    if chunks > 1:
        result("posting_ms_per_answer_chunk", per_message(short + 1, short + chunks), "ms", "report")
        # Issue 16's figure: the long markdown answer (tables, code) as Discord messages. A chunk's
        # gap after the previous one is what the bot spends on it plus the twin's own handling: an
        # upper bound of the bot's overhead per message.
        gaps = sorted(times[i] - times[i - 1] for i in range(short + 1, short + chunks))
        result("markdown_answer_overhead_median", statistics.median(gaps), "ms", "<=50")
        result("markdown_answer_overhead_p99", gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))], "ms", "<=50")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500, help="agent steps (4 parts each)")
    parser.add_argument("--answer", type=int, default=200_000, help="characters of the final answer")
    parser.add_argument("--runs", type=int, default=RUNS, help="timed runs (the best window counts)")
    parser.add_argument("--no-posting", action="store_true", help="skip the bot and twin part")
    args = parser.parse_args()
    session = build_session(args.steps, args.answer)
    print(
        f"session: {len(session.events)} events, {args.steps * PARTS_PER_STEP} parts, "
        f"an answer of {args.answer:,} chars in {session.answer_lines:,} lines"
    )
    bench_pure(session, args.steps, args.runs)
    if not args.no_posting:
        with tempfile.TemporaryDirectory(prefix="kimaki-bench-") as tmp:
            report_posting(asyncio.run(bench_posting(session, Path(tmp), paced=False)), args.steps)
        with tempfile.TemporaryDirectory(prefix="kimaki-bench-") as tmp:
            report_paced(asyncio.run(bench_posting(session, Path(tmp), paced=True)))


if __name__ == "__main__":
    main()
