"""The durable outbox: what it costs per message, and what a Discord outage mid-turn loses.

One run starts the scripted model, a real `opencode serve`, the Discord twin, the core and the real
KimakiBot (discord.py) in this process, then:
- cost: the same short notice posted in one thread, alternately straight through discord.py
  (`channel.send`, what the bot did before the outbox) and through the outbox (persisted, sent by
  the thread's sender, marked delivered); each timed from the call to the message being in the
  twin. The difference of the medians is what the outbox adds per message.
- outage: a turn runs, Discord refuses every REST request for 5 s while it and three follow-ups
  are answered; afterwards every answer must be in the thread once, in order. Prints messages
  lost, duplicates, and the catch-up time (outage end → the last answer visible).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import ROOT, median, result

sys.path.insert(0, str(ROOT))

import discord

from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.root.offline import open_secrets
from kimaki_tui.settings import DiscordSettings, SessionSettings, Settings
from kimaki_tui.testing.discord_twin import DiscordTwin
from kimaki_tui.testing.discord_twin.actors import Actor
from kimaki_tui.testing.discord_twin.model import Channel, Message
from kimaki_tui.testing.scripted_model import ScriptedModel
from tests.bot.rig import TestBot, is_footer
from tests.core_rig import CoreRig
from tests.harness import DEFAULT_OPENCODE, git_init, make_opencode_env

ROUNDS = 100
OUTAGE_S = 5.0
FOLLOW_UPS = 3


async def run(tmp: Path) -> None:
    model = ScriptedModel()
    await model.start()
    env = make_opencode_env(tmp / "opencode", model.base_url)
    project = git_init(tmp / "project")
    supervisor = OpenCodeSupervisor(binary=str(DEFAULT_OPENCODE), env=env, cwd=tmp)
    await supervisor.start()
    try:
        async with DiscordTwin(bot_token="bench-token") as twin:
            await bench_bot(twin, supervisor, project, tmp)
    finally:
        await supervisor.aclose()
        await model.stop()


async def bench_bot(twin: DiscordTwin, supervisor: OpenCodeSupervisor, project: Path, tmp: Path) -> None:
    owner = twin.add_user("owner")
    twin.set_application_owner(owner)
    guild = twin.add_guild("Bench", owner=owner)
    channel = guild.add_text_channel("bench", category=guild.add_category("Kimaki"))
    settings = Settings(data_dir=tmp / "data", discord=DiscordSettings(guild_ready_timeout=0.1))
    options = SessionSettings(busy_policy="queue")
    async with CoreRig(supervisor.client, tmp / "db.sqlite", options=options) as rig:
        rig.core.projects.link(str(channel.id), str(guild.id), str(project))
        bot = TestBot(rig.core, settings=settings, secrets=open_secrets(settings, env={}))
        with twin.patch_discord():
            task = asyncio.create_task(bot.start(twin.bot_token))
            await asyncio.wait_for(bot.wait_until_ready(), 20)
            try:
                thread = await warm_thread(twin, owner, channel)
                await bench_cost(twin, bot, thread)
                await bench_outage(twin, owner, thread, rig)
            finally:
                await bot.close()
                await asyncio.gather(task, return_exceptions=True)


async def warm_thread(twin: DiscordTwin, owner: Actor, channel: Channel) -> Channel:
    await owner.send(channel, "REPLY: warm")
    thread = await twin.wait_for_thread(channel, 30)
    await twin.wait_for_message(thread, is_footer, 60)
    return thread


async def bench_cost(twin: DiscordTwin, bot: TestBot, thread: Channel) -> None:
    assert bot.output is not None
    output, direct_channel = bot.output, bot.get_partial_messageable(thread.id)
    direct: list[float] = []
    outbox: list[float] = []
    for i in range(ROUNDS):
        text = f"direct {i}"
        start = time.perf_counter()
        await direct_channel.send(text, allowed_mentions=discord.AllowedMentions.none(), silent=True)
        await twin.wait_for_message(thread, _with_content(text), 10)
        direct.append((time.perf_counter() - start) * 1000)
        text = f"outbox {i}"
        start = time.perf_counter()
        output.say(str(thread.id), text)
        await twin.wait_for_message(thread, _with_content(text), 10)
        outbox.append((time.perf_counter() - start) * 1000)
    await output.drain()
    direct_ms, outbox_ms = median(direct), median(outbox)
    print(
        f"posting one message: direct {direct_ms:.2f} ms median, through the outbox {outbox_ms:.2f} ms "
        f"median ({ROUNDS} each, interleaved); the outbox adds {outbox_ms - direct_ms:.2f} ms"
    )
    result("post_direct_median", direct_ms, "ms", "reference")
    result("post_outbox_median", outbox_ms, "ms", "reference")
    result("outbox_added_per_message_median", outbox_ms - direct_ms, "ms", "<=2")


def _with_content(text: str) -> Callable[[Message], bool]:
    return lambda message: message.content == text


async def bench_outage(twin: DiscordTwin, owner: Actor, thread: Channel, rig: CoreRig) -> None:
    bot_id = twin.bot_user.id
    start_at = len(twin.messages(thread))
    runtime = rig.core.conversations.runtime(str(thread.id))
    await owner.send(thread, "SLOW:1 outage turn")
    await twin.wait_until(lambda: runtime.busy, 30, "the turn to start")
    twin.refuse_rest(OUTAGE_S)
    outage_end = time.perf_counter() + OUTAGE_S
    for k in range(FOLLOW_UPS):
        await owner.send(thread, f"REPLY: during-{k}")
    expected = ["⬥ tick 0", *(f"⬥ during-{k}" for k in range(FOLLOW_UPS))]

    def answers() -> list[str]:
        texts = [m.content for m in twin.messages(thread)[start_at:] if m.author.id == bot_id]
        return [t for t in texts if t.startswith("⬥ ")]

    def footers() -> int:
        return sum(1 for m in twin.messages(thread)[start_at:] if m.author.id == bot_id and is_footer(m))

    await twin.wait_until(lambda: footers() >= 1 + FOLLOW_UPS, 120, "every answer after the outage")
    caught_up = max(0.0, time.perf_counter() - outage_end)
    got = answers()
    matched = [next((e for e in expected if a.startswith(e)), a) for a in got]
    lost = sum(1 for e in expected if e not in matched) + max(0, 1 + FOLLOW_UPS - footers())
    duplicates = len(matched) - len(set(matched)) + max(0, footers() - (1 + FOLLOW_UPS))
    in_order = [m for m in matched if m in expected] == expected
    refused = len(twin.dropped_requests)
    print(
        f"{OUTAGE_S:g} s Discord outage mid-turn: {refused} requests refused; messages lost {lost}, "
        f"duplicates {duplicates}, in order {in_order}; caught up {caught_up:.2f} s after the outage"
    )
    result("outage_messages_lost", lost, "count", "0")
    result("outage_duplicates", duplicates, "count", "0")
    result("outage_in_order", 1.0 if in_order else 0.0, "bool", "1")
    result("outage_catch_up", caught_up, "s", "report")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="kimaki-bench-") as tmp:
        asyncio.run(run(Path(tmp)))


if __name__ == "__main__":
    main()
