"""A scripted OpenAI-compatible model server for tests and demos (aiohttp, 127.0.0.1, port 0).

OpenCode talks to it as provider "fake". What it answers depends on keywords in the latest
user message, so one shared server serves every test:

- tool-less request whose system prompt mentions "title" → a short title from the user text;
- tool-less request whose system prompt asks for "RESPOND or SKIP" (turn routing) → `SKIP` when the
  user text has `ROUTE:SKIP`, `RESPOND` after 15 s with `ROUTE:WAIT`, else `RESPOND`;
- last message is a tool result → "Tool said: <first line of the tool output (or task result)>",
  followed by an answer of about n characters (prose, a list, a short code block) when the user
  text has `ANSWER:<n>`;
- `RUN_BASH: <command>` → a `bash` tool call; `WRITE_FILE: <path> <content>` → a `write` call;
- `ASK_QUESTION` → a `question` tool call (Which color do you prefer? Red/Green/Blue);
- `CALL_TOOL: <tool> <json object>` (the JSON to the end of the line) → a call of any tool the
  request offers, MCP tools included (`kimaki_action_buttons`...), with those arguments;
- `SUBAGENTS:<n>` → n parallel `task` calls ("sleep task 1".."n"); task 1's subagent answers slowest;
- `DELEGATE: <prompt>` → one `task` call giving a general subagent that prompt (checked first, so
  the prompt may hold any of the other keywords);
- `THINK` (with any of the others) → a few reasoning tokens streamed before the answer;
- `SLOW[:seconds]` → a reply streamed in small chunks over that many seconds (default 10);
- `LONG:<n>` → about n characters of prose with a long ```python block;
- `REPLY: <text>` → exactly that text; anything else → "Echo: <first 200 chars>".
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

JSON = Mapping[str, Any]
MODEL_ID = "fake-model"


@dataclass
class Reply:
    """What to stream back: text chunks (with a delay between them) and/or one tool call."""

    chunks: list[str] = field(default_factory=list)
    delay: float = 0.0
    tool: str | None = None
    arguments: JSON = field(default_factory=dict)
    more_calls: list[tuple[str, JSON]] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)

    @property
    def calls(self) -> list[tuple[str, JSON]]:
        """Every tool call, in order (`tool` first)."""
        return ([(self.tool, self.arguments)] if self.tool else []) + self.more_calls


def message_text(message: JSON) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        texts = [c.get("text", "") for c in content if isinstance(c, Mapping) and c.get("type") == "text"]
        return "\n".join(t for t in texts if isinstance(t, str))
    return ""


_REMINDER = re.compile(r"<system-reminder>.*?(</system-reminder>|$)", re.DOTALL)


def latest_user_text(messages: Sequence[JSON]) -> str:
    """The last user message's text, without the reminders OpenCode appends (plan mode...)."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return _REMINDER.sub("", message_text(message)).strip()
    return ""


def _system_text(messages: Sequence[JSON]) -> str:
    return "\n".join(message_text(m) for m in messages if m.get("role") == "system")


def _words(text: str, count: int) -> str:
    return " ".join(text.split()[:count])


def _split(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def long_answer(size: int) -> str:
    """Prose around a fenced python block longer than 2000 chars, about `size` chars in all."""
    code_lines = [f"def step_{i}(value: int) -> int:\n    return value * {i} + {i}\n" for i in range(80)]
    code = "```python\n" + "\n".join(code_lines) + "```\n"
    prose_line = "This paragraph explains the code below in plain words, one sentence at a time. "
    prose_len = max(size - len(code), 200)
    head = (prose_line * (prose_len // len(prose_line) // 2 + 1))[: prose_len // 2]
    tail = (prose_line * (prose_len // len(prose_line) // 2 + 1))[: prose_len - len(head)]
    return f"{head.strip()}\n\n{code}\n{tail.strip()}"


def plain_answer(size: int) -> str:
    """An everyday answer of about `size` characters: paragraphs, a short list, a small code block."""
    code = "```python\ndef retry(call, times=3):\n    for _ in range(times):\n        return call()\n```\n\n"
    item = "- the handler now retries once before it gives up\n"
    prose = "I looked at the failing case and changed the smallest thing that fixes it. "
    body = f"{prose * 2}\n\n{item * 3}\n{code}"
    while len(body) < size:
        body += prose
    return body[:size].rstrip()


def _title_reply(messages: Sequence[JSON]) -> Reply:
    # The title request's user text starts with an instruction line; title the rest.
    lines = [line for line in latest_user_text(messages).splitlines() if line.strip()]
    lines = [line for line in lines if "generate a title" not in line.lower()] or lines
    return Reply(chunks=[_words(" ".join(lines), 5) or "Untitled"])


def _subagent_calls(count: int) -> list[tuple[str, JSON]]:
    """`count` task calls; the first subagent is the slowest, so tasks finish in reverse order."""
    calls: list[tuple[str, JSON]] = []
    for n in range(1, count + 1):
        prompt = f"SLOW:{0.4 * (count - n + 1):.1f} subtask {n}" if n < count else f"REPLY: subtask {n} done"
        args = {"description": f"sleep task {n}", "prompt": prompt, "subagent_type": "general"}
        calls.append(("task", args))
    return calls


def _named_call(tool: str, raw_arguments: str) -> Reply:
    try:
        arguments = json.loads(raw_arguments or "{}")
    except ValueError as exc:
        return Reply(chunks=[f"CALL_TOOL arguments are not JSON: {exc}"])
    if not isinstance(arguments, dict):
        return Reply(chunks=["CALL_TOOL arguments must be a JSON object"])
    return Reply(tool=tool, arguments=arguments)


def _keyword_reply(text: str) -> Reply:
    if match := re.search(r"DELEGATE:[ \t]*(.+)", text):
        args = {"description": "delegated task", "prompt": match.group(1).strip(), "subagent_type": "general"}
        return Reply(tool="task", arguments=args)
    if match := re.search(r"CALL_TOOL:[ \t]*(\S+)[ \t]*(.*)", text):
        return _named_call(match.group(1), match.group(2).strip())
    if match := re.search(r"SUBAGENTS:(\d+)", text):
        (tool, arguments), *more = _subagent_calls(max(int(match.group(1)), 1))
        return Reply(tool=tool, arguments=arguments, more_calls=more)
    if match := re.search(r"RUN_BASH:[ \t]*(.+)", text):
        command = match.group(1).strip()
        return Reply(tool="bash", arguments={"command": command, "description": "run it"})
    if "ASK_QUESTION" in text:
        question = {
            "question": "Which color do you prefer?",
            "header": "Color",
            "options": [
                {"label": c, "description": f"The color {c.lower()}"} for c in ("Red", "Green", "Blue")
            ],
        }
        return Reply(tool="question", arguments={"questions": [question]})
    if match := re.search(r"WRITE_FILE:[ \t]*(\S+)[ \t]*(.*)", text):
        return Reply(tool="write", arguments={"filePath": match.group(1), "content": match.group(2)})
    if match := re.search(r"SLOW(?::(\d+(?:\.\d+)?))?", text):
        seconds = float(match.group(1) or 10)
        chunks = [f"tick {i} " for i in range(max(int(seconds * 5), 1))]
        return Reply(chunks=chunks, delay=seconds / len(chunks))
    if match := re.search(r"LONG:(\d+)", text):
        return Reply(chunks=_split(long_answer(int(match.group(1))), 200))
    if match := re.search(r"REPLY:[ \t]*(.*)", text, re.DOTALL):
        return Reply(chunks=_split(match.group(1).strip(), 40))
    return Reply(chunks=_split(f"Echo: {text.strip()[:200]}", 40))


def _tool_gist(output: str) -> str:
    """The first line of a tool's output; for a subagent task, of its result (the task id and
    its wrapping differ between OpenCode versions)."""
    _, found, result = output.partition("<task_result>")
    lines = [line for line in (result if found else output).strip().splitlines() if line.strip()]
    return lines[0].strip() if lines else "(no output)"


def _routing_reply(messages: Sequence[JSON]) -> Reply:
    text = latest_user_text(messages)
    if "ROUTE:SKIP" in text:
        return Reply(chunks=["SKIP"])
    if "ROUTE:WAIT" in text:  # slower than any test's routing timeout
        return Reply(chunks=["RE", "SPOND"], delay=15.0)
    return Reply(chunks=["RESPOND"])


def choose_reply(body: JSON) -> Reply:
    messages: Sequence[JSON] = body.get("messages") or []
    if not body.get("tools") and "RESPOND or SKIP" in _system_text(messages):
        return _routing_reply(messages)
    if not body.get("tools") and "title" in _system_text(messages).lower():
        return _title_reply(messages)
    if messages and messages[-1].get("role") == "tool":
        said = f"Tool said: {_tool_gist(message_text(messages[-1]))}"
        if match := re.search(r"ANSWER:(\d+)", latest_user_text(messages)):
            return Reply(chunks=_split(f"{said}\n\n{plain_answer(int(match.group(1)))}", 40))
        return Reply(chunks=[said])
    text = latest_user_text(messages)
    reply = _keyword_reply(text)
    if "THINK" in text:
        reply.reasoning = ["Let me think ", "about this ", "for a moment."]
    return reply


class ScriptedModel:
    """`await start()` returns the base URL (…/v1); `.requests` keeps every JSON body received."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port: int | None = None
        self.requests: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("ScriptedModel is not started")
        return f"http://{self.host}:{self.port}/v1"

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": MODEL_ID, "object": "model"}]})

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        reply = choose_reply(body)
        if not body.get("stream"):
            return web.json_response(self._whole(body, reply))
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        try:
            await self._stream(response, body, reply)
        except ConnectionError:
            # OpenCode aborted the turn and closed the connection: nothing left to do.
            log.debug("scripted model: client went away mid-stream")
            return response
        return response

    def _chunk(self, cid: str, model: str, delta: JSON | None, finish: str | None = None) -> dict[str, Any]:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
        return {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": choices,
        }

    async def _stream(self, response: web.StreamResponse, body: JSON, reply: Reply) -> None:
        cid, model = f"chatcmpl-{next(self._ids)}", str(body.get("model") or MODEL_ID)

        async def send(payload: JSON) -> None:
            await response.write(f"data: {json.dumps(payload)}\n\n".encode())

        await send(self._chunk(cid, model, {"role": "assistant", "content": ""}))
        for piece in reply.reasoning:
            await send(self._chunk(cid, model, {"reasoning_content": piece}))
        for i, piece in enumerate(reply.chunks):
            if reply.delay and i:
                await asyncio.sleep(reply.delay)
            await send(self._chunk(cid, model, {"content": piece}))
        for index, (tool, arguments) in enumerate(reply.calls):
            call = {
                "index": index,
                "id": f"call_{cid}_{index}" if index else f"call_{cid}",
                "type": "function",
                "function": {"name": tool, "arguments": json.dumps(arguments)},
            }
            await send(self._chunk(cid, model, {"tool_calls": [call]}))
        await send(self._chunk(cid, model, {}, "tool_calls" if reply.calls else "stop"))
        final = self._chunk(cid, model, None)
        final["usage"] = self._usage(body, reply)
        await send(final)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()

    @staticmethod
    def _usage(body: JSON, reply: Reply) -> dict[str, int]:
        prompt = max(len(json.dumps(body.get("messages") or [])) // 4, 1)
        completion = max(sum(len(c) for c in reply.chunks) // 4, 1) + 20 * len(reply.calls)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _whole(self, body: JSON, reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(reply.chunks)}
        if reply.reasoning:
            message["reasoning_content"] = "".join(reply.reasoning)
        if reply.calls:
            message["tool_calls"] = [
                {
                    "id": f"call_whole_{index}" if index else "call_whole",
                    "type": "function",
                    "function": {"name": tool, "arguments": json.dumps(arguments)},
                }
                for index, (tool, arguments) in enumerate(reply.calls)
            ]
        return {
            "id": "chatcmpl-whole",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(body.get("model") or MODEL_ID),
            "choices": [
                {"index": 0, "message": message, "finish_reason": "tool_calls" if reply.calls else "stop"}
            ],
            "usage": self._usage(body, reply),
        }


async def serve_alone() -> None:
    """Serve on a free port until killed, printing the port first and keeping no request bodies:
    for runs that measure a process's memory without the model's in it."""
    model = ScriptedModel()
    await model.start()
    print(model.port, flush=True)
    forget = model.requests.clear
    while True:
        await asyncio.sleep(1.0)
        forget()


if __name__ == "__main__":
    asyncio.run(serve_alone())
