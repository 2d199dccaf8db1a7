"""Throughput of the event path: json.loads + parse_event + reduce + render_event, one core.

Synthesizes a 100,000-event `/global/event` stream shaped like the recorded sample (several
sessions interleaved; per turn: prompt, a bash call with an occasional permission, reasoning,
a streamed answer of ~40 deltas, step finishes, status changes, idle, heartbeats), keeps it as
JSON lines in memory, then times the whole pipeline over it (median of 3 runs). Half the
sessions use OpenCode 1.2's shapes (no top-level session id on part, message and session
events), so the parser's fallbacks are timed too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from itertools import count
from typing import Any

from _common import median, result

from kimaki_tui.core.reducer import initial_state, reduce
from kimaki_tui.core.stream_state import StreamState
from kimaki_tui.opencode.events import parse_event
from kimaki_tui.presentation.render import render_event

EVENTS = 100_000
SESSIONS = 6
DIRECTORY = "/home/user/demo"
_ids = count(1)
ANSWER = (
    "Here is what I changed:\n\n- `src/app.py`: the handler now retries.\n- `tests/test_app.py`: "
    "a new test.\n\n```python\ndef retry(fn, times=3):\n    for _ in range(times):\n        try:\n"
    "            return fn()\n        except OSError:\n            pass\n```\n\nAll tests pass. "
) * 2


def _id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):012x}abcdefghijklmn"


Raw = dict[str, Any]


# Sessions whose events come in OpenCode 1.2's shapes (the session id only inside part/info).
OLD_SHAPED: set[str] = set()
_NESTED = frozenset({"message.updated", "message.part.updated", "session.updated"})


def _event(etype: str, props: Raw) -> Raw:
    if etype in _NESTED and props.get("sessionID") in OLD_SHAPED:
        props = {key: value for key, value in props.items() if key != "sessionID"}
    payload = {"id": _id("evt"), "type": etype, "properties": props}
    return {"directory": DIRECTORY, "project": "0a0bd53d", "payload": payload}


def _status(sid: str, kind: str) -> Raw:
    return _event("session.status", {"sessionID": sid, "status": {"type": kind}})


def _assistant(sid: str, mid: str, parent: str, t0: int, **extra: Any) -> Raw:
    info = {
        "id": mid, "parentID": parent, "role": "assistant", "mode": "build", "agent": "build",
        "path": {"cwd": DIRECTORY, "root": DIRECTORY}, "cost": 0, "modelID": "fake-model",
        "providerID": "fake", "time": {"created": t0}, "sessionID": sid,
        "tokens": {"total": 1500, "input": 1200, "output": 300, "reasoning": 0, "cache": {"read": 800}},
    }
    return _event("message.updated", {"sessionID": sid, "info": {**info, **extra}})


def _part(sid: str, mid: str, part: Raw, t: int) -> Raw:
    full = {"messageID": mid, "sessionID": sid, **part}
    return _event("message.part.updated", {"sessionID": sid, "part": full, "time": t})


def _session_updated(sid: str, title: str, t: int) -> Raw:
    info = {
        "id": sid, "slug": "quiet-sailor", "projectID": "0a0bd53d", "directory": DIRECTORY, "path": "",
        "title": title, "version": "1.18.33", "time": {"created": 1, "updated": t},
    }
    return _event("session.updated", {"sessionID": sid, "info": info})


def _turn(sid: str, n: int, t: int) -> Iterator[Raw]:
    user, first, second = _id("msg"), _id("msg"), _id("msg")
    model = {"providerID": "fake", "modelID": "fake-model"}
    info = {"id": user, "role": "user", "sessionID": sid, "time": {"created": t}, "agent": "build"}
    info["model"] = model
    yield _event("message.updated", {"sessionID": sid, "info": info})
    yield _part(sid, user, {"id": _id("prt"), "type": "text", "text": f"please do task {n}"}, t)
    yield _session_updated(sid, f"Task {n // 10}", t)
    yield _status(sid, "busy")
    yield from _tool_step(sid, user, first, n, t + 5)
    yield _event("session.diff", {"sessionID": sid, "diff": []})
    yield _status(sid, "busy")
    yield from _answer_step(sid, user, second, t + 310)
    yield _status(sid, "idle")
    yield _event("session.idle", {"sessionID": sid})
    yield _session_updated(sid, f"Task {n // 10}", t + 902)


def _tool_step(sid: str, user: str, mid: str, n: int, t: int) -> Iterator[Raw]:
    """One assistant message calling bash (grep every third turn), with a permission every fourth."""
    yield _assistant(sid, mid, user, t)
    yield _part(sid, mid, {"id": _id("prt"), "type": "step-start", "snapshot": "5b6f027b"}, t + 1)
    tool = "bash" if n % 3 else "grep"
    args = {"command": f"pytest -q tests/test_{n}.py"} if tool == "bash" else {"pattern": "def retry"}
    call = {"id": _id("prt"), "type": "tool", "tool": tool, "callID": "c1"}
    yield _part(sid, mid, {**call, "state": {"status": "pending", "input": {}, "raw": ""}}, t + 2)
    running = {"status": "running", "input": args, "time": {"start": t + 3}}
    yield _part(sid, mid, {**call, "state": running}, t + 3)
    if n % 4 == 0:
        perm = _id("per")
        yield _event("permission.asked", {
            "id": perm, "sessionID": sid, "permission": "bash", "patterns": ["pytest"],
            "metadata": {"command": "pytest"}, "always": ["pytest *"], "tool": {"messageID": mid},
        })
        yield _event("permission.replied", {"sessionID": sid, "requestID": perm, "reply": "once"})
    done = {
        "status": "completed", "input": args, "output": "....\n4 passed in 0.12s\n" * 10, "title": "pytest",
        "metadata": {"exit": 0}, "time": {"start": t + 3, "end": t + 290},
    }
    yield _part(sid, mid, {**call, "state": done}, t + 290)
    finish = {"id": _id("prt"), "type": "step-finish", "reason": "tool-calls", "tokens": {"input": 1200}}
    yield _part(sid, mid, finish, t + 291)
    yield _assistant(sid, mid, user, t, finish="tool-calls")
    yield _assistant(sid, mid, user, t, finish="tool-calls", time={"created": t, "completed": t + 292})


def _answer_step(sid: str, user: str, mid: str, t: int) -> Iterator[Raw]:
    """One assistant message that thinks, then streams a markdown answer and stops."""
    yield _assistant(sid, mid, user, t)
    yield _part(sid, mid, {"id": _id("prt"), "type": "step-start", "snapshot": "645a33cf"}, t + 1)
    yield from _streamed(sid, mid, "reasoning", "Thinking about the retry loop. " * 5, 10, t + 2)
    yield from _streamed(sid, mid, "text", ANSWER, 40, t + 90)
    finish = {"id": _id("prt"), "type": "step-finish", "reason": "stop", "tokens": {"input": 1500}}
    yield _part(sid, mid, finish, t + 590)
    yield _assistant(sid, mid, user, t, finish="stop")
    yield _assistant(sid, mid, user, t, finish="stop", time={"created": t, "completed": t + 591})


def _streamed(sid: str, mid: str, kind: str, text: str, pieces: int, t: int) -> Iterator[Raw]:
    pid = _id("prt")
    yield _part(sid, mid, {"id": pid, "type": kind, "text": "", "time": {"start": t}}, t)
    step = max(1, len(text) // pieces)
    for i in range(0, len(text), step):
        delta = {"sessionID": sid, "messageID": mid, "partID": pid, "field": "text"}
        yield _event("message.part.delta", {**delta, "delta": text[i : i + step]})
    yield _part(sid, mid, {"id": pid, "type": kind, "text": text, "time": {"start": t, "end": t + 9}}, t + 9)


def _session(index: int) -> Iterator[Raw]:
    sid = f"ses_{index:04d}ffe2yJvhYB6CC92tl"
    if index % 2:
        OLD_SHAPED.add(sid)
    for n in count():
        yield from _turn(sid, n, 1795311579708 + n * 10_000)


def synthesize(total: int = EVENTS) -> list[str]:
    """`total` JSON lines: the sessions' events interleaved round-robin, a heartbeat every 200."""
    sessions = [_session(i) for i in range(SESSIONS)]
    lines: list[str] = []
    heartbeat = json.dumps({"payload": {"id": "evt_hb", "type": "server.heartbeat", "properties": {}}})
    while len(lines) < total:
        for stream in sessions:
            lines.append(heartbeat if len(lines) % 200 == 199 else json.dumps(next(stream)))
    return lines[:total]


def run_pipeline(lines: list[str]) -> tuple[float, int]:
    """Seconds for the whole stream, and the number of Discord messages rendered."""
    states: dict[str, StreamState] = {}
    messages = 0
    start = time.perf_counter()
    for line in lines:
        event = parse_event(json.loads(line))
        sid = event.session_id
        if sid is None:
            continue
        state = states.get(sid)
        state, outputs = reduce(state if state is not None else initial_state(sid), event)
        states[sid] = state
        for output in outputs:
            messages += len(render_event(output))
    return time.perf_counter() - start, messages


def main() -> None:
    lines = synthesize()
    size = sum(len(line) for line in lines)
    print(f"stream: {len(lines)} events, {size / 1e6:.1f} MB of JSON, {SESSIONS} sessions")
    start = time.perf_counter()
    for line in lines:
        json.loads(line)
    print(f"json.loads alone: {len(lines) / (time.perf_counter() - start):,.0f} events/s")
    runs = [run_pipeline(lines) for _ in range(3)]
    seconds = median([r[0] for r in runs])
    print(f"pipeline runs: {', '.join(f'{r[0]:.2f}s' for r in runs)}; {runs[0][1]} messages rendered per run")
    result("event_pipeline_throughput", len(lines) / seconds, "events/s", ">=20000")


if __name__ == "__main__":
    main()
