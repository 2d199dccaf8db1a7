"""Uptime: 2,000 messages over 20 threads, with gateway reconnects and OpenCode restarts.

The run is kimaki's own composition root (`root.build.Services`: store, supervisor, core, event
stream, scheduler, the Discord bot worker) on a real `opencode serve` with the scripted model,
against a Discord twin. Twenty threads talk at once, each sending its next message when the last
is answered. Along the way the gateway drops (the bot resumes) or asks the bot to reconnect
every 150 answers, and OpenCode is restarted every 500 answers at a quiet moment. The run stops
sending after `--minutes` (10) even if not all messages went out.

Reported: RSS of this process at start, after 100 answers (60 with `--quick`), after 500 and at
the end. Goal: growth after the warm-up ≤ 10 MB, the warm-up being the issue's first checkpoint,
500 answers; the growth from the 100th answer is reported beside it (CPython's small-object
arenas are still filling then: live objects grow ~1 MB over the run, the arenas ~9). Open file
descriptors and asyncio tasks at the end against the first checkpoint (goal: back to it), both
read once the threads have been quiet for longer than the bot keeps a quiet thread's workers;
every message answered once and in order. The twin runs in this process too: the answers and
gateway history it keeps are checked and then dropped at each quiet moment, so its memory does
not count; the scripted model runs in a process of its own. `--quick` runs ~300 messages.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from _common import DiscordPlace, ModelProcess, discord_place, opencode_binary, result

from kimaki_tui.bot.output import OutputRouter
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.root.build import Services
from kimaki_tui.root.offline import open_secrets
from kimaki_tui.settings import DiscordSettings, Settings
from kimaki_tui.testing.discord_twin import Channel, DiscordTwin
from tests.harness import git_init, make_opencode_env

RELEASE_AFTER = 5.0  # the bot's idle-thread release, shortened so the run can wait it out
# aiohttp closes an idle connection to OpenCode on a timer, 5-10 s after its last use: a sample
# taken sooner counts the last burst's open connections as descriptors kept.
IDLE_CONNECTIONS_CLOSED_AFTER = 10.0


@dataclass
class Plan:
    total: int
    threads: int
    warm_up: int
    gateway_every: int
    restart_every: int
    checkpoints: tuple[int, ...]
    deadline: float


@dataclass
class Soak:
    place: DiscordPlace
    services: Services
    plan: Plan
    sent: int = 0
    answered: int = 0
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    parked: set[int] = field(default_factory=set)
    threads: dict[int, Channel] = field(default_factory=dict)
    checked: dict[int, int] = field(default_factory=dict)  # answers verified (and dropped) so far
    faults: list[str] = field(default_factory=list)
    infra_ports: set[int] = field(default_factory=set)  # the twin's server

    def more(self) -> bool:
        return self.sent < self.plan.total and time.monotonic() < self.plan.deadline

    async def thread_loop(self, t: int) -> None:
        twin, owner, n = self.place.twin, self.place.owner, 0
        while self.more():
            self.parked.add(t)
            await self.gate.wait()
            self.parked.discard(t)
            if not self.more():
                break
            self.sent += 1
            marker = f"s{t}-{n}"
            if n == 0:
                await owner.send(self.place.channel, f"REPLY: {marker}")
                self.threads[t] = await twin.wait_for_thread(
                    self.place.channel, 120, predicate=lambda th, m=marker: m in th.name
                )
            else:
                await owner.send(self.threads[t], f"REPLY: {marker}")
            # The answer itself: the bot also echoes a prompt sent after an interrupt ("» owner: …").
            answer = f"⬥ {marker}"
            await twin.wait_for_message(
                self.threads[t], lambda m, a=answer: m.content == a and m.author.id == self.place.bot_id, 300
            )
            self.answered += 1
            n += 1
        self.parked.add(t)

    async def quiet(self) -> None:
        """Hold every thread before its next message, and let the bot finish posting."""
        self.gate.clear()
        await self.place.twin.wait_until(lambda: len(self.parked) == self.plan.threads, 600, "all threads")
        await self.place.twin.wait_until(
            lambda: not any(v.busy for v in self.services.core.conversations.all()), 120
        )
        bot = self.services.worker.bot if self.services.worker is not None else None
        if bot is not None and bot.output is not None:
            await bot.output.drain(timeout=120)
        self.forget_checked()

    def forget_checked(self) -> None:
        """Check each thread's new answers (once each, in order), then let the
        twin forget what it kept, so only kimaki's memory is measured."""
        world = self.place.twin.world
        for t, thread in self.threads.items():
            log = world.channel_log(thread.id)
            numbers = [
                int(found.group(1))
                for message in log
                if message.author.id == self.place.bot_id
                and (found := re.fullmatch(rf"⬥ s{t}-(\d+)", message.content))
            ]
            start = self.checked.get(t, 0)
            if numbers != list(range(start, start + len(numbers))):
                said = "\n".join(f"{m.author.id}: {m.content!r}" for m in log)
                raise AssertionError(f"thread {t}: answers {numbers} after {start}; the thread:\n{said}")
            self.checked[t] = start + len(numbers)
            for message in log:
                world.messages.pop(message.id, None)
            log.clear()
        self.place.twin.forget_history()


def _infra(task: asyncio.Task[object]) -> bool:
    """Tasks of the twin and this bench (they share the loop with kimaki)."""
    coro = task.get_coro()
    code = getattr(coro, "cr_code", None)
    path = code.co_filename if code is not None else ""
    name = getattr(coro, "__qualname__", "")
    return "/testing/" in path or "/bench/" in path or name.startswith("RequestHandler.")


def sample(infra_ports: set[int]) -> tuple[float, int, int]:
    """RSS (MB), kimaki's file descriptors (all but the twin's accepted
    connections) and kimaki's asyncio tasks."""
    gc.collect()
    process = psutil.Process()
    served = sum(1 for c in process.net_connections() if c.laddr and c.laddr.port in infra_ports)
    tasks = [t for t in asyncio.all_tasks() if not _infra(t)]
    return process.memory_info().rss / 2**20, process.num_fds() - served, len(tasks)


async def settle_and_sample(soak: Soak) -> tuple[float, int, int]:
    """Quiet, then wait past the bot's idle-thread release and the idle connections' close, then
    read RSS, fds and tasks."""
    await soak.quiet()
    await asyncio.sleep(max(RELEASE_AFTER, IDLE_CONNECTIONS_CLOSED_AFTER) + 1.0)
    return sample(soak.infra_ports)


async def drive(soak: Soak) -> dict[str, tuple[float, int, int]]:
    plan, twin = soak.plan, soak.place.twin
    samples = {"start": sample(soak.infra_ports)}
    loops = [asyncio.create_task(soak.thread_loop(t)) for t in range(plan.threads)]
    soak.gate.set()
    next_gateway, next_restart = plan.gateway_every, plan.restart_every
    checkpoints = [plan.warm_up, *plan.checkpoints]
    while not all(loop.done() for loop in loops):
        await asyncio.sleep(0.2)
        if soak.answered >= next_gateway:
            next_gateway += plan.gateway_every
            if len(soak.faults) % 2:
                twin.request_reconnect()
                soak.faults.append("gateway reconnect request (op 7)")
            else:
                await twin.drop_gateway(resumable=True)
                soak.faults.append("gateway dropped (resume)")
        if soak.answered >= next_restart and soak.more():
            next_restart += plan.restart_every
            await soak.quiet()
            await soak.services.supervisor.restart()
            await soak.services.wait_ready(120)
            soak.faults.append("OpenCode restarted")
            soak.gate.set()
        if checkpoints and soak.answered >= checkpoints[0]:
            mark = checkpoints.pop(0)
            samples[f"after {mark}"] = await settle_and_sample(soak)
            soak.gate.set()
    await asyncio.gather(*loops)
    samples["end"] = await settle_and_sample(soak)
    return samples


async def run(tmp: Path, plan: Plan) -> None:
    OutputRouter.release_after = RELEASE_AFTER
    model = ModelProcess()
    await model.start()
    env = make_opencode_env(tmp / "opencode", model.base_url)
    project = git_init(tmp / "project")
    settings = Settings(data_dir=tmp / "data", discord=DiscordSettings(guild_ready_timeout=0.1))
    settings.data_dir.mkdir()
    supervisor = OpenCodeSupervisor(binary=opencode_binary(), env=env, cwd=tmp)
    try:
        async with DiscordTwin(bot_token="bench-soak-token") as twin:
            place = discord_place(twin)
            async with Services(settings, open_secrets(settings, env={}), supervisor) as services:
                await services.wait_ready(120)
                services.core.projects.link(str(place.channel.id), str(place.guild.id), str(project))
                with twin.patch_discord():
                    services.start_bot(twin.bot_token)
                    await twin.wait_until(lambda: services.discord_status.state == "connected", 60, "the bot")
                    soak = Soak(place, services, plan)
                    soak.infra_ports = {int(twin.api_url.split(":")[2].split("/")[0])}
                    started = time.monotonic()
                    samples = await drive(soak)
                    elapsed = time.monotonic() - started
                    await services.stop_bot()
            report(soak, samples, elapsed, plan.warm_up)
    finally:
        await model.stop()


def report(soak: Soak, samples: dict[str, tuple[float, int, int]], elapsed: float, first: int) -> None:
    """`first`: the first checkpoint, the baseline of file descriptors and of the reported growth."""
    for name, (rss, fds, tasks) in samples.items():
        print(f"{name:>12}: RSS {rss:6.1f} MB, {fds} file descriptors, {tasks} asyncio tasks")
    print(
        f"{soak.answered} messages answered in {elapsed:.0f} s over {len(soak.threads)} threads; faults: "
        f"{soak.faults.count('OpenCode restarted')} OpenCode restarts, "
        f"{len(soak.faults) - soak.faults.count('OpenCode restarted')} gateway reconnects"
    )
    base, end = samples[f"after {first}"], samples["end"]
    result("messages_answered", soak.answered, "count", f"={soak.sent} sent")
    result("answers_checked_in_order", sum(soak.checked.values()), "count", f"={soak.answered}")
    result("rss_start", samples["start"][0], "MB", "report")
    for name, (rss, _, _) in samples.items():
        if name.startswith("after "):
            result(f"rss_{name.replace(' ', '_')}", rss, "MB", "report")
    result("rss_end", end[0], "MB", "report")
    result(f"rss_growth_from_{first}_to_end", end[0] - base[0], "MB", "report")
    if "after 500" in samples:  # the checkpoints: start, after 500, after 2,000
        result("rss_growth_after_warm_up_from_500_to_end", end[0] - samples["after 500"][0], "MB", "<=10")
    result(f"fds_after_{first}", base[1], "count", "reference")
    result(f"fds_over_{first}", end[1] - base[1], "count", "<=0")
    result("asyncio_tasks_before_any_thread", samples["start"][2], "count", "reference")
    result("asyncio_tasks_over_start", end[2] - samples["start"][2], "count", "<=0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about 300 messages (1-2 minutes)")
    parser.add_argument("--minutes", type=float, default=10.0, help="stop sending after this long")
    args = parser.parse_args()
    quick, full = Plan(300, 20, 60, 50, 150, (), 0.0), Plan(2000, 20, 100, 150, 500, (500,), 0.0)
    plan = quick if args.quick else full
    plan.deadline = time.monotonic() + args.minutes * 60
    with tempfile.TemporaryDirectory(prefix="kimaki-bench-") as tmp:
        asyncio.run(run(Path(tmp), plan))


if __name__ == "__main__":
    main()
