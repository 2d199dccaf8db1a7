"""A thread's OpenCode server in a bubblewrap sandbox next to the shared server, in one run.

Real `opencode serve` and the scripted model. For each: a cold start (spawn to healthy, and to
the first answer in a new session of a new worktree), the RSS of the server's process tree
after that answer, and a warm return to work: for a sandbox, resume-from-pause (start over
the same data dir, then answer in the earlier session); for the shared server, the nearest
thing, a restart followed by an answer in an earlier session. Medians of ROUNDS runs, then
the sandbox/shared ratios. Goal: resume ≤ 2.5 s.
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

import psutil
from _common import ROOT, median, result

sys.path.insert(0, str(ROOT))

from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.sandbox.api import SandboxSpec
from kimaki_tui.sandbox.bwrap import BwrapBackend
from kimaki_tui.testing.scripted_model import ScriptedModel
from tests.harness import DEFAULT_OPENCODE, git_init, make_opencode_env

ROUNDS = 5


@dataclass
class Figures:
    healthy: list[float] = field(default_factory=list)
    first_answer: list[float] = field(default_factory=list)
    warm_answer: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)


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
    await answer(resumed.client, spec.worktree, session_id)
    figures.warm_answer.append(time.perf_counter() - began)
    await backend.stop(handle)


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
        await answer(supervisor.client, directory, session_id)
        figures.warm_answer.append(time.perf_counter() - began)
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


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="kimaki-bench-") as tmp:
        box, plain = asyncio.run(measure(Path(tmp)))
    for name, figures in (("sandboxed (bwrap)", box), ("shared", plain)):
        rounded = {k: [round(v, 2) for v in getattr(figures, k)] for k in vars(figures)}
        print(f"{name}: {rounded}")
    pairs = [
        ("cold_start_healthy", box.healthy, plain.healthy, "s", "info"),
        ("cold_first_answer", box.first_answer, plain.first_answer, "s", "info"),
        ("resume_first_answer", box.warm_answer, plain.warm_answer, "s", "<=2.5"),
        ("server_rss", box.rss_mb, plain.rss_mb, "MB", "info"),
    ]
    for metric, sandbox_values, shared_values, unit, target in pairs:
        result(f"sandbox_{metric}", median(sandbox_values), unit, target)
        # The shared server's "resume" is a restart and an answer in an earlier session.
        result(f"shared_{metric}", median(shared_values), unit, "info")
        result(f"sandbox_vs_shared_{metric}", median(sandbox_values) / median(shared_values), "x", "info")


if __name__ == "__main__":
    main()
