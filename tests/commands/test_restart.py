"""/restart-opencode-server on a server of its own (never the shared one): the running answer is
reported as failed, the reply comes once OpenCode is healthy again, and the thread goes on.

Also the event stream's part in it: OpenCode reuses its port across restarts, so a reconnect can
land on the new process before it answers; such a silent connection must not hang the stream.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from kimaki_tui.bot.commands.server import RESTARTED_TEXT
from kimaki_tui.core.events import SessionFailed
from kimaki_tui.opencode.stream import EventStream
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.testing.scripted_model import ScriptedModel, latest_user_text
from tests.bot.rig import BotRig, bot_rig_context, is_footer
from tests.harness import wait_until
from tests.test_event_stream import envelope, serve, sse


async def test_a_silent_connection_is_given_up() -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        if attempt == 1:
            return await sse(request, hold=True)  # accepted, then never a word
        return await sse(request, envelope("server.connected"), hold=True)

    async with serve(handler) as client:
        stream = EventStream(client, lambda e: None, backoff_initial=0.05, hello_timeout=0.5)
        task = asyncio.create_task(stream.run())
        try:
            started = time.monotonic()
            assert await stream.wait_connected(10)  # once the first attempt was given up
            assert 0.5 <= time.monotonic() - started < 3
            await asyncio.sleep(0.8)  # connected: the hello deadline no longer applies
            assert stream.connected.is_set() and stream.connections == 1
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_reconnect_now_gives_up_a_silent_attempt() -> None:
    attempts: list[int] = []

    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        attempts.append(attempt)
        if attempt == 1:
            return await sse(request, hold=True)
        return await sse(request, envelope("server.connected"), hold=True)

    async with serve(handler) as client:
        stream = EventStream(client, lambda e: None, hello_timeout=60)
        task = asyncio.create_task(stream.run())
        try:
            await wait_until(lambda: attempts, 10, 0.02, "the first attempt")
            await asyncio.sleep(0.2)
            assert not stream.connected.is_set()
            started = time.monotonic()
            stream.reconnect_now()  # what the runtime does once the restarted server is healthy
            assert await stream.wait_connected(5)
            assert time.monotonic() - started < 2 and attempts == [1, 2]
            stream.reconnect_now()  # while connected: harmless
            await asyncio.sleep(0.2)
            assert stream.connected.is_set() and attempts == [1, 2]
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
async def own_server(
    opencode_binary: str, spare_opencode_env: dict[str, str], tmp_path: Path
) -> AsyncIterator[OpenCodeSupervisor]:
    supervisor = OpenCodeSupervisor(
        binary=opencode_binary, env=spare_opencode_env, cwd=tmp_path, health_timeout=60.0
    )
    await supervisor.start()
    yield supervisor
    await supervisor.aclose()


@pytest.mark.opencode
async def test_restart_opencode_server(
    own_server: OpenCodeSupervisor, project_dir: Path, tmp_path: Path, scripted_model: ScriptedModel
) -> None:
    marker = uuid.uuid4().hex[:8]
    async with bot_rig_context(own_server.client, project_dir, tmp_path) as rig:
        # Wired as the composition root does: the hook restarts, the callback reconnects.
        rig.core.server.use_restart(own_server.restart)

        async def restarted() -> None:
            await rig.core.server_restarted()
            rig.core_rig.stream.reconnect_now()

        own_server.on_restarted.append(restarted)
        await run_restart(rig, scripted_model, own_server, marker)


async def run_restart(rig: BotRig, model: ScriptedModel, server: OpenCodeSupervisor, marker: str) -> None:
    await rig.user_says("owner", f"SLOW:30 {marker}")
    thread = await rig.wait_thread()

    def asked() -> bool:
        bodies = [b for b in model.requests if b.get("tools")]
        return any(latest_user_text(b["messages"]) == f"SLOW:30 {marker}" for b in bodies)

    await wait_until(asked, 30, 0.05, "the slow answer to start")
    old_pid = server.pid
    # A command added while OpenCode runs: the restarted one reads it, and it becomes a slash command.
    (rig.project_dir / ".opencode/command").mkdir(parents=True, exist_ok=True)
    (rig.project_dir / ".opencode/command/after-restart.md").write_text("REPLY: restarted $ARGUMENTS\n")
    assert not any(c.name == "after-restart-cmd" for c in rig.twin.commands(rig.guild))

    reply = await (await rig.users.owner.slash(thread, "restart-opencode-server")).wait_response(90)
    assert reply.content == RESTARTED_TEXT and not reply.ephemeral
    assert server.healthy and server.pid != old_pid
    await rig.twin.wait_until(
        lambda: any(c.name == "after-restart-cmd" for c in rig.twin.commands(rig.guild)),
        30,
        "the new command to be registered after the restart",
    )
    runtime = rig.core.conversations.runtime(str(thread.id))
    failed = rig.core_rig.of_type(SessionFailed, lambda e: e.session_id == runtime.session_id)
    assert failed and failed[0].name == "ServerRestarted"
    assert not runtime.busy

    await rig.user_says("owner", f"REPLY: back-{marker}", thread)
    got = await rig.wait_bot_message(thread, lambda m: f"back-{marker}" in m.content, 60)
    await rig.wait_bot_message(thread, is_footer, after=got)

    rig.core.server.use_restart(None)
    unavailable = await (await rig.users.owner.slash(thread, "restart-opencode-server")).wait_response()
    assert unavailable.ephemeral and "cannot restart" in unavailable.content
