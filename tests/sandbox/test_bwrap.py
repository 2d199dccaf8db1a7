"""Real OpenCode servers in real bubblewrap sandboxes, driven by the scripted model.

Two sandboxes over two worktrees of one repository each answer a prompt; a bash tool call in
one (approved like a user would) can neither read the other's worktree nor write outside its
own; pausing and resuming keeps a session's history; a crash restarts the server without
leaving processes behind; without network the agent cannot reach a host port.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import psutil
import pytest

from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.models import Message
from kimaki_tui.opencode.parts import ToolPart
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.sandbox.api import RunningServer, SandboxState
from kimaki_tui.sandbox.registry import ServerRegistry
from kimaki_tui.testing.scripted_model import ScriptedModel
from tests.harness import assistant_text, tool_parts, wait_until
from tests.sandbox.conftest import SandboxRig, git

pytestmark = pytest.mark.opencode


def text(prompt: str) -> list[dict[str, str]]:
    return [{"type": "text", "text": prompt}]


async def ask(client: OpenCodeClient, directory: Path, prompt: str) -> tuple[str, str]:
    """A new session's id and the answer to `prompt`."""
    session = await client.create_session(directory)
    answer = await client.prompt(session.id, directory, text(prompt), timeout=90)
    return session.id, " ".join(p.text for p in answer.text_parts())


async def bash_via_agent(client: OpenCodeClient, session_id: str, directory: Path, command: str) -> ToolPart:
    """Have the model run `command` with the bash tool, approving each permission it asks for
    (bash, and external_directory for paths outside the worktree) as a user would."""
    before = len(tool_parts(await client.messages(session_id, directory), "bash"))
    await client.prompt_async(session_id, directory, text(f"RUN_BASH: {command}"))

    async def finished() -> list[Message] | None:
        for request in await client.list_permissions(directory):
            if request.session_id == session_id:
                await client.reply_permission(request.id, "once", directory=directory)
        if session_id in await client.session_status(directory):
            return None
        messages = await client.messages(session_id, directory)
        done = len(tool_parts(messages, "bash")) > before and messages[-1].info.finished
        return messages if done else None

    messages = await wait_until(finished, 90, 0.1, f"the agent to run {command!r}")
    return tool_parts(messages, "bash")[-1]


def sandbox_pids(server: RunningServer) -> set[int]:
    """The wrapper process and everything under it (the server, bwrap's init, tools)."""
    assert isinstance(server, OpenCodeSupervisor) and server.pid is not None
    leader = psutil.Process(server.pid)
    return {leader.pid, *(child.pid for child in leader.children(recursive=True))}


def gone(pids: set[int]) -> bool:
    """None of `pids` runs any more (a zombie awaiting its parent's wait counts as gone)."""
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            continue
    return True


async def test_two_sandboxes_cannot_see_each_other_or_write_outside(rig: SandboxRig) -> None:
    handle_a = await rig.backend.create(rig.spec("a"))
    handle_b = await rig.backend.create(rig.spec("b"))
    wt_a, wt_b = handle_a.spec.worktree, handle_b.spec.worktree
    (wt_b / "secret.txt").write_text("b's secret\n")
    server_a = await rig.backend.start(handle_a)
    server_b = await rig.backend.start(handle_b)
    assert server_a.base_url != server_b.base_url

    session_a, answer_a = await ask(server_a.client, wt_a, "REPLY: hello from sandbox A")
    _, answer_b = await ask(server_b.client, wt_b, "REPLY: hello from sandbox B")
    assert (answer_a, answer_b) == ("hello from sandbox A", "hello from sandbox B")

    async def run(command: str) -> str:
        return (await bash_via_agent(server_a.client, session_a, wt_a, command)).state.output

    assert "No such file or directory" in await run(f"cat {wt_b}/secret.txt")
    assert "No such file or directory" in await run(f"echo pwned > {wt_b}/pwned.txt")
    assert "Read-only file system" in await run("echo pwned > /usr/pwned.txt")
    # The main checkout shows only its .git (to commit); a file written next to it lands on the
    # sandbox's private /tmp, never on the host.
    assert (await run(f"ls -A {rig.repo}; echo pwned > {rig.repo}/pwned.txt && echo landed")).split() == [
        ".git",
        "landed",
    ]
    for path in (wt_b / "pwned.txt", Path("/usr/pwned.txt"), rig.repo / "pwned.txt"):
        assert not path.exists()
    assert "No such file or directory" in await run("cat /etc/shadow")  # only a few /etc files show
    # What it may do: write in its own worktree, which the host sees.
    assert (await run(f"echo mine > {wt_a}/mine.txt && echo wrote")).strip() == "wrote"
    assert (wt_a / "mine.txt").read_text() == "mine\n"
    assert await rig.backend.status(handle_a) == SandboxState.RUNNING


async def test_pause_and_resume_keep_the_session(rig: SandboxRig) -> None:
    registry = ServerRegistry(rig.backend)
    started: list[str] = []
    paused_under_caller: list[bool] = []

    async def on_started(key: str, server: RunningServer) -> None:
        started.append(key)
        # The sweep cannot pause a server whose caller does not have it yet, however idle.
        paused_under_caller.append(await registry.pause_if_idle(key, 0))

    registry.on_started.append(on_started)
    handle = await registry.open(rig.spec("a"))
    server = await registry.server("a")
    session_id, answer = await ask(server.client, handle.spec.worktree, "REPLY: remembered across a pause")
    assert answer == "remembered across a pause"
    pids = sandbox_pids(server)

    await registry.pause("a")
    assert await registry.state("a") == SandboxState.PAUSED
    assert registry.running("a") is None
    await wait_until(lambda: gone(pids), 10, 0.05, "the paused sandbox's processes to end")

    resumed = await registry.server("a")
    # Its start took longer than a second, but the caller has not used the server yet.
    assert not await registry.pause_if_idle("a", 1.0)
    assert started == ["a", "a"] and paused_under_caller == [False, False]
    history = await resumed.client.messages(session_id, handle.spec.worktree)
    assert "remembered across a pause" in assistant_text(history)
    again = await resumed.client.prompt(
        session_id, handle.spec.worktree, text("REPLY: and after"), timeout=90
    )
    assert [p.text for p in again.text_parts()] == ["and after"]
    assert await registry.state("a") == SandboxState.RUNNING


async def test_a_crash_restarts_the_server_without_orphans(rig: SandboxRig) -> None:
    handle = await rig.backend.create(rig.spec("a"))
    server, same = await asyncio.gather(rig.backend.start(handle), rig.backend.start(handle))
    assert server is same  # concurrent starts share one server
    assert isinstance(server, OpenCodeSupervisor)
    first = sandbox_pids(server)
    leader = server.pid
    assert leader is not None
    os.kill(leader, signal.SIGKILL)  # bwrap dies: --die-with-parent takes the server with it
    await wait_until(lambda: gone(first), 15, 0.05, "the killed sandbox's processes to end")
    await wait_until(lambda: server.healthy and server.pid != leader, 60, 0.1, "the server to restart")
    second = sandbox_pids(server)
    assert (await server.client.health()).healthy

    await rig.backend.stop(handle)
    await wait_until(lambda: gone(second), 10, 0.05, "the stopped sandbox's processes to end")
    assert await rig.backend.status(handle) == SandboxState.PAUSED


async def test_without_network_the_server_runs_but_the_agent_reaches_no_port(
    rig: SandboxRig, scripted_model: ScriptedModel
) -> None:
    handle = await rig.backend.create(rig.spec("off", network=False))
    server = await rig.backend.start(handle)  # reached from the host through the socket bridge
    worktree = handle.spec.worktree
    session = await server.client.create_session(worktree)
    port = int(scripted_model.base_url.split(":")[2].split("/")[0])  # listening on the host
    probe = f"import socket; socket.create_connection(('127.0.0.1', {port}), 5); print('connected')"
    reply = await server.client.shell(session.id, worktree, f'python3 -c "{probe}" 2>&1 | tail -1')
    output = next(p for p in reply.parts if isinstance(p, ToolPart)).state.output
    assert "ConnectionRefusedError" in output and "connected" not in output
    outward = "import socket; socket.create_connection(('192.0.2.1', 80), 5)"
    reply = await server.client.shell(session.id, worktree, f'python3 -c "{outward}" 2>&1 | tail -1')
    assert "Network is unreachable" in next(p for p in reply.parts if isinstance(p, ToolPart)).state.output


async def test_destroy_removes_a_merged_worktree_and_keeps_unmerged_work(rig: SandboxRig) -> None:
    merged = await rig.backend.create(rig.spec("merged"))
    server = await rig.backend.start(merged)
    pids = sandbox_pids(server)
    unmerged = await rig.backend.create(rig.spec("unmerged"))
    dirty = await rig.backend.create(rig.spec("dirty"))
    (unmerged.spec.worktree / "feature.txt").write_text("work\n")
    git(unmerged.spec.worktree, "add", "feature.txt")
    git(unmerged.spec.worktree, "commit", "-q", "-m", "feature")
    (dirty.spec.worktree / "draft.txt").write_text("not committed\n")

    outcome = await rig.backend.destroy(merged)
    assert (outcome.data_removed, outcome.worktree_removed, outcome.kept_reason) == (True, True, "")
    assert not merged.spec.worktree.exists() and not merged.spec.data_dir.exists()
    assert gone(pids)
    assert await rig.backend.status(merged) == SandboxState.DESTROYED

    outcome = await rig.backend.destroy(unmerged)
    assert outcome.data_removed and not outcome.worktree_removed
    base = git(rig.repo, "branch", "--show-current")
    assert outcome.kept_reason == f"branch unmerged has 1 commit(s) not merged into {base}"
    assert (unmerged.spec.worktree / "feature.txt").exists()

    outcome = await rig.backend.destroy(dirty)
    assert not outcome.worktree_removed and "1 uncommitted change(s)" in outcome.kept_reason
    assert (dirty.spec.worktree / "draft.txt").exists()
