"""OpenCode event builders for the benchmarks: one session's turns, steps, tool calls and
streamed text, in the shapes `opencode serve` 1.18 sends on `/global/event` (payload only).

The ids are unique per builder, so a block of events can be built again (fresh parts) and fed to
a state that already holds thousands of parts.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count
from typing import Any

from kimaki_tui.opencode.events import Event, parse_event

Raw = dict[str, Any]
DIRECTORY = "/home/user/demo"
T0 = 1_795_311_579_708


class SessionEvents:
    """Builds the raw events of one session; `parsed(...)` turns an iterator of them into Events."""

    def __init__(self, session_id: str, directory: str = DIRECTORY) -> None:
        self.sid = session_id
        self.directory = directory
        self._ids = count(1)
        self.clock = T0

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):012x}bench{self.sid[-6:]}"

    def tick(self, ms: int = 1) -> int:
        self.clock += ms
        return self.clock

    # ---- single events ------------------------------------------------------------------
    def event(self, etype: str, **props: Any) -> Raw:
        return {"type": etype, "properties": {"sessionID": self.sid, **props}}

    def status(self, kind: str) -> Raw:
        return self.event("session.status", status={"type": kind})

    def user_message(self, text: str) -> Iterator[Raw]:
        mid = self.new_id("msg")
        info = {"id": mid, "role": "user", "sessionID": self.sid, "time": {"created": self.tick()}}
        yield self.event("message.updated", info=info)
        part = {
            "id": self.new_id("prt"),
            "messageID": mid,
            "sessionID": self.sid,
            "type": "text",
            "text": text,
        }
        yield self.event("message.part.updated", part=part)

    def assistant(self, mid: str, parent: str, created: int, **extra: Any) -> Raw:
        info = {
            "id": mid,
            "parentID": parent,
            "role": "assistant",
            "mode": "build",
            "agent": "build",
            "path": {"cwd": self.directory, "root": self.directory},
            "cost": 0,
            "modelID": "fake-model",
            "providerID": "fake",
            "time": {"created": created},
            "sessionID": self.sid,
            "tokens": {"total": 1500, "input": 1200, "output": 300, "reasoning": 0, "cache": {"read": 800}},
        }
        return self.event("message.updated", info={**info, **extra})

    def part(self, mid: str, part: Raw) -> Raw:
        return self.event("message.part.updated", part={"messageID": mid, "sessionID": self.sid, **part})

    # ---- blocks -------------------------------------------------------------------------
    def streamed_text(self, mid: str, text: str, piece: int, kind: str = "text") -> Iterator[Raw]:
        """A text part: opened empty, streamed as deltas of `piece` characters, then ended."""
        pid, start = self.new_id("prt"), self.tick()
        yield self.part(mid, {"id": pid, "type": kind, "text": "", "time": {"start": start}})
        for i in range(0, len(text), piece):
            delta = {"messageID": mid, "partID": pid, "field": "text", "delta": text[i : i + piece]}
            yield self.event("message.part.delta", **delta)
        yield self.part(
            mid, {"id": pid, "type": kind, "text": text, "time": {"start": start, "end": self.tick()}}
        )

    def tool_call(self, mid: str, n: int) -> Iterator[Raw]:
        pid, call = self.new_id("prt"), f"call_{n}"
        base = {"id": pid, "type": "tool", "tool": "bash", "callID": call}
        args = {"command": f"pytest -q tests/test_case_{n}.py", "description": "run the tests"}
        yield self.part(mid, {**base, "state": {"status": "pending", "input": {}, "raw": ""}})
        start = self.tick()
        yield self.part(
            mid, {**base, "state": {"status": "running", "input": args, "time": {"start": start}}}
        )
        done = {
            "status": "completed",
            "input": args,
            "output": "....\n4 passed in 0.12s\n" * 4,
            "title": "pytest",
            "metadata": {"exit": 0},
            "time": {"start": start, "end": self.tick(40)},
        }
        yield self.part(mid, {**base, "state": done})

    def tool_step(
        self, parent: str, n: int, text: str = "Running the tests for this case now."
    ) -> Iterator[Raw]:
        """One assistant message: step-start, a short streamed text, one bash call, step-finish
        (four parts)."""
        mid, created = self.new_id("msg"), self.tick()
        yield self.assistant(mid, parent, created)
        yield self.part(mid, {"id": self.new_id("prt"), "type": "step-start", "snapshot": "5b6f027b"})
        yield from self.streamed_text(mid, text, 8)
        yield from self.tool_call(mid, n)
        finish = {
            "id": self.new_id("prt"),
            "type": "step-finish",
            "reason": "tool-calls",
            "tokens": {"input": 1200},
        }
        yield self.part(mid, finish)
        yield self.assistant(
            mid, parent, created, finish="tool-calls", time={"created": created, "completed": self.tick()}
        )

    def answer_step(self, parent: str, text: str, piece: int = 40) -> Iterator[Raw]:
        """The final assistant message: one streamed markdown answer, then stop."""
        mid, created = self.new_id("msg"), self.tick()
        yield self.assistant(mid, parent, created)
        yield self.part(mid, {"id": self.new_id("prt"), "type": "step-start", "snapshot": "645a33cf"})
        yield from self.streamed_text(mid, text, piece)
        finish = {
            "id": self.new_id("prt"),
            "type": "step-finish",
            "reason": "stop",
            "tokens": {"input": 1500},
        }
        yield self.part(mid, finish)
        yield self.assistant(
            mid, parent, created, finish="stop", time={"created": created, "completed": self.tick()}
        )

    def turn_end(self) -> Iterator[Raw]:
        yield self.status("idle")
        yield self.event("session.idle")


def parsed(raws: Iterator[Raw]) -> list[Event]:
    return [parse_event(raw) for raw in raws]


def markdown_answer(size: int) -> str:
    """About `size` characters of a realistic long answer: headings, prose, tables and code."""
    blocks: list[str] = []
    total, n = 0, 0
    while total < size:
        n += 1
        rows = "\n".join(f"| `case_{n}_{r}` | {r * 7 % 13} ms | passed |" for r in range(8))
        code = "\n".join(f"    value = step_{n}_{r}(value) + {r}" for r in range(12))
        block = (
            f"## Part {n}\n\nThis section explains change {n} in plain words, with the numbers that "
            f"matter and the reasons behind them.\n\n| test | time | result |\n|---|---|---|\n{rows}\n\n"
            f"```python\ndef run_{n}(value: int) -> int:\n{code}\n    return value\n```\n\n"
        )
        blocks.append(block)
        total += len(block)
    return "".join(blocks)[:size]
