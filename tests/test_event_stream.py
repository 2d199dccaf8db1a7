"""EventStream: real events from OpenCode, reconnects across restarts, bad lines, backoff."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web

from kimaki_tui.opencode.client import OpenCodeClient, text_part
from kimaki_tui.opencode.events import (
    Event,
    PartDelta,
    ServerConnected,
    SessionIdle,
    SessionStatus,
    UnknownEvent,
)
from kimaki_tui.opencode.stream import EventStream
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from tests.harness import EventRecorder, wait_until

Handler = Callable[[web.Request, int], Awaitable[web.StreamResponse]]
RELEASE = web.AppKey("release", asyncio.Event)


@pytest.mark.opencode
async def test_prompt_events_arrive_in_order(opencode_client: OpenCodeClient, project_dir: Path) -> None:
    async with EventRecorder(opencode_client) as recorder:
        assert recorder.connects == 1 and isinstance(recorder.events[0], ServerConnected)
        session = await opencode_client.create_session(project_dir)
        await opencode_client.prompt_async(session.id, project_dir, [text_part("hello events")])
        await recorder.wait_for(lambda e: isinstance(e, SessionIdle) and e.session_id == session.id)
    mine = [e for e in recorder.events if e.session_id == session.id]
    kinds = [(e.type, e.status if isinstance(e, SessionStatus) else "") for e in mine]
    assert kinds.index(("session.status", "busy")) < kinds.index(("session.idle", ""))
    assert "".join(e.delta for e in mine if isinstance(e, PartDelta)) == "Echo: hello events"
    assert all(Path(e.directory or "") == project_dir for e in mine)
    assert not any(e.type == "sync" for e in recorder.events)


@pytest.mark.opencode
async def test_stream_follows_server_restarts(
    opencode_binary: str, spare_opencode_env: dict[str, str], project_dir: Path
) -> None:
    supervisor = OpenCodeSupervisor(
        binary=opencode_binary, env=spare_opencode_env, restart_backoff=0.1, health_timeout=60
    )
    try:
        await supervisor.start()
        async with EventRecorder(supervisor.client, backoff_initial=0.1, backoff_max=1.0) as recorder:
            old_pid = supervisor.pid
            assert old_pid is not None
            os.kill(old_pid, signal.SIGKILL)
            await wait_until(lambda: recorder.connects == 2, 60, 0.1, "a reconnect after the crash")
            assert supervisor.pid != old_pid and recorder.stream.connected.is_set()
            await supervisor.restart()
            await wait_until(lambda: recorder.connects == 3, 60, 0.1, "a reconnect after restart()")
            session = await supervisor.client.create_session(project_dir)
            await supervisor.client.prompt_async(session.id, project_dir, [text_part("after restarts")])
            await recorder.wait_for(lambda e: isinstance(e, SessionIdle) and e.session_id == session.id, 30)
    finally:
        await supervisor.aclose()


@asynccontextmanager
async def serve(handler: Handler) -> AsyncIterator[OpenCodeClient]:
    """A local SSE server at /global/event whose handler also gets the connection number."""
    attempts = 0

    async def route(request: web.Request) -> web.StreamResponse:
        nonlocal attempts
        attempts += 1
        return await handler(request, attempts)

    app = web.Application()
    app[RELEASE] = asyncio.Event()
    app.router.add_get("/global/event", route)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    client = OpenCodeClient(f"http://127.0.0.1:{runner.addresses[0][1]}")
    try:
        yield client
    finally:
        app[RELEASE].set()  # let held connections end so cleanup does not wait for them
        await client.aclose()
        await runner.cleanup()


async def sse(request: web.Request, *lines: str, hold: bool = False) -> web.StreamResponse:
    """Send `lines` as SSE; with `hold`, keep the connection open until the server stops."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for line in lines:
        await response.write(f"{line}\n\n".encode())
    if hold:
        await request.app[RELEASE].wait()
    return response


def envelope(etype: str, **properties: object) -> str:
    payload = {"directory": "/p", "payload": {"type": etype, "properties": properties}}
    return "data: " + json.dumps(payload)


async def test_bad_lines_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        return await sse(
            request,
            envelope("server.connected"),
            "data: {not json",
            "data: 42",
            'data: {"payload": {"properties": {}}}',
            'data: {"payload": {"type": "sync", "syncEvent": {}}}',
            ": a comment line",
            envelope("session.idle", sessionID="ses_boom"),
            envelope("session.idle", sessionID="ses_good"),
            hold=True,
        )

    seen: list[Event] = []
    connects: list[float] = []

    def on_event(event: Event) -> None:
        if event.session_id == "ses_boom":
            raise RuntimeError("a failing subscriber")
        seen.append(event)

    async def on_connect() -> None:
        connects.append(time.monotonic())

    async with serve(handler) as client:
        stream = EventStream(client, on_event, on_connect=on_connect)
        task = asyncio.create_task(stream.run())
        try:
            assert await stream.wait_connected(10)
            await wait_until(
                lambda: any(e.session_id == "ses_good" for e in seen), 10, 0.02, "the good event"
            )
            assert not task.done()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert [type(e) for e in seen] == [ServerConnected, SessionIdle]
    assert not any(isinstance(e, UnknownEvent) for e in seen) and len(connects) == 1
    warnings = " ".join(r.getMessage() for r in caplog.records)
    assert "non-JSON" in warnings and "unparsable" in warnings and "a failing subscriber" in caplog.text


async def test_backoff_grows_then_resets() -> None:
    started: list[float] = []

    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        started.append(time.monotonic())
        if attempt == 5:  # one good connection: the backoff starts over afterwards
            return await sse(request, envelope("server.connected"))
        return await sse(request, hold=attempt >= 7)

    async with serve(handler) as client:
        stream = EventStream(client, lambda e: None, backoff_initial=0.1, backoff_max=0.5)
        task = asyncio.create_task(stream.run())
        try:
            await wait_until(lambda: len(started) >= 7, 20, 0.02, "seven connection attempts")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    gaps = [b - a for a, b in itertools.pairwise(started)]
    assert 0.1 <= gaps[0] < 0.35 and 0.2 <= gaps[1] < 0.45  # 0.1 s, 0.2 s, ...
    assert 0.4 <= gaps[2] < 0.7 and 0.5 <= gaps[3] < 0.8  # 0.4 s, then capped at 0.5 s
    assert gaps[4] < 0.4 and 0.2 <= gaps[5] < 0.45  # reset by the event: 0.1 s, 0.2 s
