"""Record OpenCode's `/global/event` stream for one scripted conversation, as JSON lines.

`python -m tests.record_streams --opencode PATH OUT.jsonl` starts the scripted model and the given
`opencode serve`, then plays, in one session: a text answer with reasoning, a bash call approved
once, a question answered "Blue", two parallel subagent tasks, a slow answer aborted mid-stream
and a last short answer. Every line of that project's events is kept (replication `sync` events
and heartbeats are dropped) with the temporary project path replaced by `/home/user/demo`, so the
file is portable. `tests/fixtures/events-<version>.jsonl` were made this way; the tests replay
them through the reducer and `kimaki events render`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.schema import text_part
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.opencode.version import probe_binary_version
from kimaki_tui.testing.opencode_env import OPENCODE_VERSION
from kimaki_tui.testing.scripted_model import ScriptedModel
from tests.harness import git_init, make_opencode_env, wait_until

PORTABLE_DIR = "/home/user/demo"
Raw = Mapping[str, Any]


class StreamTape:
    """Keeps the raw `/global/event` lines of one directory while a conversation runs."""

    def __init__(self, client: OpenCodeClient, directory: str) -> None:
        self.client = client
        self.directory = directory
        self.lines: list[str] = []
        self.payloads: list[Raw] = []
        self.connected = asyncio.Event()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[StreamTape]:
        """Record from `server.connected` on, until the block ends."""
        reader = asyncio.create_task(self._run())
        try:
            await asyncio.wait_for(self.connected.wait(), 20)
            yield self
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _run(self) -> None:
        async with self.client.open_event_stream("/global/event") as lines:
            async for data in lines:
                self._keep(data)

    def _keep(self, data: str) -> None:
        raw = json.loads(data)
        payload = raw.get("payload") or {}
        kind = payload.get("type")
        if kind == "server.connected":
            self.connected.set()
        if kind in ("sync", "server.heartbeat", "server.connected") or raw.get("directory") != self.directory:
            return
        self.lines.append(data.replace(self.directory, PORTABLE_DIR))
        self.payloads.append(payload)

    async def wait(self, predicate: Callable[[Raw], bool], what: str, start: int = 0) -> int:
        """The index of the first payload from `start` on that matches (waiting for it)."""

        def found() -> tuple[int] | None:  # a tuple, so that index 0 counts as found
            matches = ((i,) for i in range(start, len(self.payloads)) if predicate(self.payloads[i]))
            return next(matches, None)

        (index,) = await wait_until(found, 90, 0.05, what)
        return index

    async def idle(self, session_id: str, start: int) -> None:
        await self.wait(_of("session.idle", session_id), "session.idle", start)


def _assistant_done(session_id: str, aborted: bool) -> Callable[[Raw], bool]:
    """An assistant message of the session completed: with an abort error, or finished ("stop")."""

    def completed(payload: Raw) -> bool:
        info = (payload.get("properties") or {}).get("info") or {}
        if payload.get("type") != "message.updated" or info.get("sessionID") != session_id:
            return False
        if not (info.get("time") or {}).get("completed"):
            return False
        error = (info.get("error") or {}).get("name")
        return error == "MessageAbortedError" if aborted else info.get("finish") == "stop"

    return completed


def _answered(session_id: str) -> Callable[[Raw], bool]:
    return _assistant_done(session_id, aborted=False)


def _closed_by_abort(session_id: str) -> Callable[[Raw], bool]:
    return _assistant_done(session_id, aborted=True)


def _of(kind: str, session_id: str) -> Callable[[Raw], bool]:
    return lambda p: p.get("type") == kind and (p.get("properties") or {}).get("sessionID") == session_id


async def play(client: OpenCodeClient, tape: StreamTape, project: Path) -> None:
    """The scripted conversation; each step waits for the turn's `session.idle`."""
    session = await client.create_session(project)
    sid = session.id

    async def turn(prompt: str) -> int:
        start = len(tape.payloads)
        await client.prompt_async(sid, project, [text_part(prompt)])
        return start

    await tape.idle(sid, await turn("THINK REPLY: Hello from the scripted model."))
    start = await turn("RUN_BASH: echo hi > out.txt")
    asked = tape.payloads[await tape.wait(_of("permission.asked", sid), "permission.asked", start)]
    await client.reply_permission(str(asked["properties"]["id"]), "once", directory=project)
    await tape.idle(sid, start)
    start = await turn("ASK_QUESTION please")
    asked = tape.payloads[await tape.wait(_of("question.asked", sid), "question.asked", start)]
    await client.reply_question(str(asked["properties"]["id"]), [["Blue"]], directory=project)
    await tape.idle(sid, start)
    await tape.idle(sid, await turn("SUBAGENTS:2"))
    start = await turn("SLOW:20 tell a long story")
    await tape.wait(_of("message.part.delta", sid), "a streamed token", start)
    await client.abort(sid, project)
    # OpenCode 1.2 goes idle before it has finished aborting, and aborts a prompt sent meanwhile
    # too: wait until the aborted answer is closed, as the core does.
    await tape.wait(_closed_by_abort(sid), "the aborted answer to be closed", start)
    # A last turn, which also collects what OpenCode sends late for the aborted one.
    start = await turn("REPLY: All done.")
    await tape.idle(sid, await tape.wait(_answered(sid), "the last answer", start))


async def record(binary: str) -> list[str]:
    """The JSON lines of the scripted conversation played against `binary`."""
    model = ScriptedModel()
    await model.start()
    with tempfile.TemporaryDirectory(prefix="kimaki-record-") as tmp:
        root = Path(tmp)
        version = await probe_binary_version(binary, {})
        env = make_opencode_env(root, model.base_url, str(version or OPENCODE_VERSION))
        supervisor = OpenCodeSupervisor(binary=binary, env=env, cwd=root, health_timeout=60)
        try:
            await supervisor.start()
            project = git_init(root / "demo")
            tape = StreamTape(supervisor.client, str(project))
            async with tape.running():
                await play(supervisor.client, tape, project)
        finally:
            await supervisor.aclose()
            await model.stop()
    return tape.lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--opencode", required=True, help="the opencode binary to record")
    parser.add_argument("out", type=Path, help="where to write the JSON lines")
    args = parser.parse_args()
    lines = asyncio.run(record(args.opencode))
    args.out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    print(f"recorded {len(lines)} events into {args.out}")


if __name__ == "__main__":
    main()
