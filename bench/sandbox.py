"""A thread's OpenCode server in a bubblewrap sandbox next to the shared server, in one run.

Real `opencode serve` and the scripted model. For each: a cold start (spawn to healthy, and to
the first answer in a new session of a new worktree), the RSS of the server's process tree
after that answer, and a warm return to work: for a sandbox, resume-from-pause (start over
the same data dir, then answer in the earlier session); for the shared server, the nearest
thing, a restart followed by an answer in an earlier session. The warm return also in parts:
ready (started, the session read back), the new process's first turn, and a second turn in it
(what the same turn costs once OpenCode has warmed up). Medians of ROUNDS runs, then the
sandbox/shared ratios.

Then the resume as a person sees it, through the real bot (discord.py against the Discord twin)
and the core with `--sandbox bwrap`: a message in a thread whose sandbox the idle sweep paused →
the sandbox running again with the thread's events attached, and → the answer visible in the
thread; once on the message alone, once with the person typing
TYPING_LEAD seconds before sending (Discord's typing signal starts the resume). BOT_ROUNDS each,
alternating. Goal: resume ≤ 2.5 s.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from _common import ROOT, bot_settings, discord_place, median, result, running_bot

sys.path.insert(0, str(ROOT))

from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.sandbox.api import SandboxSpec, SandboxState
from kimaki_tui.sandbox.bwrap import BwrapBackend
from kimaki_tui.settings import SandboxSettings
from kimaki_tui.testing.discord_twin import DiscordTwin
from kimaki_tui.testing.scripted_model import ScriptedModel
from tests.core_rig import CoreRig
from tests.harness import DEFAULT_OPENCODE, git_init, make_opencode_env, wait_until

ROUNDS = 5
BOT_ROUNDS = 3
TYPING_LEAD = 3.0  # seconds between starting to type and sending: a short message
# The sweep pauses a sandbox idle this long: longer than a resume, so one resumed by typing is
# not paused again before its message.
IDLE_MINUTES = 0.05


@dataclass
class Figures:
    healthy: list[float] = field(default_factory=list)
    first_answer: list[float] = field(default_factory=list)
    warm_answer: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    # The warm return in parts: started and the session read back, then the first turn of the
    # new process, then a second turn in the same process.
    resume_ready: list[float] = field(default_factory=list)
    resumed_first_turn: list[float] = field(default_factory=list)
    resumed_second_turn: list[float] = field(default_factory=list)


async def answer(client: OpenCodeClient, directory: Path, session_id: str | None = None) -> str:
    """Answer one prompt (in a new session unless one is given); return the session id."""
    if session_id is None:
        session_id = (await client.create_session(directory)).id
    reply = await client.prompt(session_id, directory, [{"type": "text", "text": "REPLY: ok"}], timeout=120)
    assert [p.text for p in reply.text_parts()] == ["ok"], reply
    return session_id


def tree_rss_mb(pid: int) -> float:
    leader = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [leader, *leader.children(recursive=True)]) / 2**20


def worktree(repo: Path, name: str) -> Path:
    path = repo.parent / f"wt-{name}"
    subprocess.run(["git", "-C", str(repo), "worktree", "add", "-q", "-b", name, str(path)], check=True)
    return path


async def sandboxed_round(
    backend: BwrapBackend, repo: Path, data: Path, index: int, figures: Figures
) -> None:
    spec = SandboxSpec(f"t{index}", worktree(repo, f"t{index}"), data / f"data-{index}")
    handle = await backend.create(spec)
    began = time.perf_counter()
    server = await backend.start(handle)
    figures.healthy.append(time.perf_counter() - began)
    session_id = await answer(server.client, spec.worktree)
    figures.first_answer.append(time.perf_counter() - began)
    supervisor = backend.server(handle)
    assert supervisor is not None and supervisor.pid is not None
    figures.rss_mb.append(tree_rss_mb(supervisor.pid))
    await backend.stop(handle)  # pause

    began = time.perf_counter()
    resumed = await backend.start(handle)
    await warm_return(resumed.client, spec.worktree, session_id, began, figures)
    await backend.stop(handle)


async def warm_return(
    client: OpenCodeClient, directory: Path, session_id: str, began: float, figures: Figures
) -> None:
    """After a (re)start begun at `began`: the session read back, its first and second turns."""
    await client.get_session(session_id, directory)
    ready = time.perf_counter()
    figures.resume_ready.append(ready - began)
    await answer(client, directory, session_id)
    answered = time.perf_counter()
    figures.warm_answer.append(answered - began)
    figures.resumed_first_turn.append(answered - ready)
    await answer(client, directory, session_id)
    figures.resumed_second_turn.append(time.perf_counter() - answered)


async def shared_round(env: dict[str, str], binary: str, repo: Path, index: int, figures: Figures) -> None:
    directory = worktree(repo, f"s{index}")
    supervisor = OpenCodeSupervisor(binary=binary, env=env, cwd=repo, health_timeout=60)
    try:
        began = time.perf_counter()
        await supervisor.start()
        figures.healthy.append(time.perf_counter() - began)
        session_id = await answer(supervisor.client, directory)
        figures.first_answer.append(time.perf_counter() - began)
        assert supervisor.pid is not None
        figures.rss_mb.append(tree_rss_mb(supervisor.pid))
        await supervisor.stop()

        began = time.perf_counter()
        await supervisor.start()
        await warm_return(supervisor.client, directory, session_id, began, figures)
    finally:
        await supervisor.aclose()


async def measure(tmp: Path) -> tuple[Figures, Figures]:
    """Rounds alternate between the two setups, so a change in machine load hits both."""
    model = ScriptedModel()
    await model.start()
    binary = os.environ.get("OPENCODE_PATH") or str(DEFAULT_OPENCODE)
    template = make_opencode_env(tmp / "template", model.base_url)
    backend = BwrapBackend(binary=binary, env=template, home_template=Path(template["HOME"]))
    shared_env = make_opencode_env(tmp / "shared-home", model.base_url)
    box_repo, shared_repo = git_init(tmp / "sandboxed/repo"), git_init(tmp / "shared/repo")
    box, plain = Figures(), Figures()
    try:
        for index in range(ROUNDS):
            await sandboxed_round(backend, box_repo, tmp / "sandboxed", index, box)
            await shared_round(shared_env, binary, shared_repo, index, plain)
    finally:
        await backend.aclose()
        await model.stop()
    return box, plain


@dataclass
class BotFigures:
    message_only: list[float] = field(default_factory=list)
    after_typing: list[float] = field(default_factory=list)
    # message → the sandbox running again with the thread's event stream attached (message only)
    resumed: list[float] = field(default_factory=list)


async def measure_bot(tmp: Path) -> BotFigures:
    """Message → answer in a thread whose sandbox is paused, through the bot and the core."""
    model = ScriptedModel()
    await model.start()
    binary = os.environ.get("OPENCODE_PATH") or str(DEFAULT_OPENCODE)
    env = make_opencode_env(tmp / "opencode", model.base_url)
    # The sandboxes' HOME template is a HOME no server uses (as in the tests).
    template = make_opencode_env(tmp / "template", model.base_url)
    backend = BwrapBackend(binary=binary, env=template, home_template=Path(template["HOME"]))
    shared = OpenCodeSupervisor(binary=binary, env=env, cwd=tmp, health_timeout=60)
    project = git_init(tmp / "project")
    settings = SandboxSettings(mode="bwrap", idle_minutes=IDLE_MINUTES, ttl_minutes=600)
    figures = BotFigures()
    try:
        await shared.start()
        async with DiscordTwin(bot_token="bench-token") as twin:
            place = discord_place(twin)
            async with CoreRig(shared.client, tmp / "db.sqlite", sandbox=(settings, backend)) as rig:
                rig.core.projects.link(str(place.channel.id), str(place.guild.id), str(project))
                async with running_bot(rig.core, twin, bot_settings(tmp)):
                    await bot_rounds(rig, place, figures)
    finally:
        await shared.aclose()
        await model.stop()
    return figures


async def bot_rounds(rig: CoreRig, place: Any, figures: BotFigures) -> None:
    twin, owner, bot_id = place.twin, place.owner, place.bot_id
    sandboxes, registry = rig.sandboxes, rig.registry
    assert sandboxes is not None and registry is not None
    started: list[float] = []

    async def on_started(key: str, server: object) -> None:  # after the core's own callback
        started.append(time.perf_counter())

    registry.on_started.append(on_started)

    async def answered(marker: str, channel: Any) -> None:
        await twin.wait_for_message(channel, lambda m: marker in m.content and m.author.id == bot_id, 90)

    async def paused() -> bool:
        rows = await sandboxes.rows()
        return bool(rows) and rows[0].state == SandboxState.PAUSED

    await owner.send(place.channel, "REPLY: first")
    thread = await twin.wait_for_thread(place.channel, 60)
    await answered("first", thread)
    for index in range(BOT_ROUNDS):
        for typing_first, values in ((False, figures.message_only), (True, figures.after_typing)):
            await wait_until(paused, 90, 0.05, "the sweep to pause the sandbox")
            marker = f"back-{index}-{int(typing_first)}"
            if typing_first:
                await owner.start_typing(thread)
                await asyncio.sleep(TYPING_LEAD)  # the person writing their message
            began = time.perf_counter()
            await owner.send(thread, f"REPLY: {marker}")
            await answered(marker, thread)
            values.append(time.perf_counter() - began)
            if not typing_first:
                figures.resumed.append(started[-1] - began)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="kimaki-bench-") as tmp:
        box, plain = asyncio.run(measure(Path(tmp)))
    with tempfile.TemporaryDirectory(prefix="kimaki-bench-") as tmp:
        bot = asyncio.run(measure_bot(Path(tmp)))
    for name, figures in (("sandboxed (bwrap)", box), ("shared", plain)):
        rounded = {k: [round(v, 2) for v in getattr(figures, k)] for k in vars(figures)}
        print(f"{name}: {rounded}")
    pairs = [
        ("cold_start_healthy", box.healthy, plain.healthy, "s", "info"),
        ("cold_first_answer", box.first_answer, plain.first_answer, "s", "info"),
        ("resume_ready", box.resume_ready, plain.resume_ready, "s", "info"),
        ("resumed_first_turn", box.resumed_first_turn, plain.resumed_first_turn, "s", "info"),
        ("resumed_second_turn", box.resumed_second_turn, plain.resumed_second_turn, "s", "info"),
        ("resume_first_answer", box.warm_answer, plain.warm_answer, "s", "<=2.5"),
        ("server_rss", box.rss_mb, plain.rss_mb, "MB", "info"),
    ]
    for metric, sandbox_values, shared_values, unit, target in pairs:
        result(f"sandbox_{metric}", median(sandbox_values), unit, target)
        # The shared server's "resume" is a restart and an answer in an earlier session.
        result(f"shared_{metric}", median(shared_values), unit, "info")
        result(f"sandbox_vs_shared_{metric}", median(sandbox_values) / median(shared_values), "x", "info")
    print(f"through the bot: { {k: [round(v, 2) for v in getattr(bot, k)] for k in vars(bot)} }")
    result("sandbox_bot_resumed", median(bot.resumed), "s", "<=2.5")
    result("sandbox_bot_resume_first_answer", median(bot.message_only), "s", "<=2.5")
    lead = f"{TYPING_LEAD:g}"
    result(f"sandbox_bot_resume_first_answer_typing_{lead}s_ahead", median(bot.after_typing), "s", "<=2.5")


if __name__ == "__main__":
    main()
