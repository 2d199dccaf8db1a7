"""The scripted OpenAI-compatible model: streaming format and keyword behaviour, over real HTTP."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

import httpx
import pytest

from kimaki_tui.testing.scripted_model import ScriptedModel, choose_reply, long_answer
from tests.harness import wait_until

TOOLS = [{"type": "function", "function": {"name": name}} for name in ("bash", "question", "write")]


def body(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": "fake-model",
        "stream": True,
        "stream_options": {"include_usage": True},
        "tools": TOOLS,
        "messages": [
            {"role": "system", "content": "You are opencode."},
            {"role": "user", "content": [{"type": "text", "text": text}]},
        ],
        **extra,
    }


async def stream_chunks(model: ScriptedModel, payload: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """All decoded chunks of one streamed completion and whether [DONE] ended it."""
    chunks: list[dict[str, Any]] = []
    done = False
    async with (
        httpx.AsyncClient(timeout=30) as http,
        http.stream("POST", f"{model.base_url}/chat/completions", json=payload) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            if line == "data: [DONE]":
                done = True
            else:
                chunks.append(json.loads(line[6:]))
    return chunks, done


def content(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


def tool_call(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    calls = [tc for c in chunks if c["choices"] for tc in c["choices"][0]["delta"].get("tool_calls") or []]
    assert len(calls) == 1
    return {"name": calls[0]["function"]["name"], "args": json.loads(calls[0]["function"]["arguments"])}


async def test_echo_stream_format_and_usage(scripted_model: ScriptedModel) -> None:
    chunks, done = await stream_chunks(scripted_model, body("hello world"))
    assert done
    assert content(chunks) == "Echo: hello world"
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finishes[-1] == "stop"
    usage = chunks[-1]["usage"]
    assert chunks[-1]["choices"] == []
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert scripted_model.requests[-1]["messages"][1]["content"][0]["text"] == "hello world"


async def test_reply_is_exact(scripted_model: ScriptedModel) -> None:
    chunks, _ = await stream_chunks(scripted_model, body("REPLY: exactly this, and a comma"))
    assert content(chunks) == "exactly this, and a comma"


async def test_think_streams_reasoning_before_the_reply(scripted_model: ScriptedModel) -> None:
    chunks, _ = await stream_chunks(scripted_model, body("THINK REPLY: decided"))
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    reasoning = [d["reasoning_content"] for d in deltas if "reasoning_content" in d]
    assert "".join(reasoning) == "Let me think about this for a moment." and content(chunks) == "decided"
    first_text = next(i for i, d in enumerate(deltas) if d.get("content"))
    assert all("reasoning_content" not in d for d in deltas[first_text:])


async def test_run_bash_is_a_bash_tool_call(scripted_model: ScriptedModel) -> None:
    chunks, done = await stream_chunks(scripted_model, body("please\nRUN_BASH: echo hi > out.txt\nthanks"))
    assert done
    assert tool_call(chunks) == {
        "name": "bash",
        "args": {"command": "echo hi > out.txt", "description": "run it"},
    }
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "tool_calls"


async def test_question_and_write_tool_calls(scripted_model: ScriptedModel) -> None:
    chunks, _ = await stream_chunks(scripted_model, body("ASK_QUESTION"))
    question = tool_call(chunks)["args"]["questions"][0]
    assert question["question"] == "Which color do you prefer?"
    assert question["header"] == "Color"
    assert [o["label"] for o in question["options"]] == ["Red", "Green", "Blue"]
    chunks, _ = await stream_chunks(scripted_model, body("WRITE_FILE: /tmp/x/notes.txt hello there"))
    assert tool_call(chunks) == {
        "name": "write",
        "args": {"filePath": "/tmp/x/notes.txt", "content": "hello there"},
    }


async def test_call_tool_calls_any_tool_with_json_arguments(scripted_model: ScriptedModel) -> None:
    text = 'CALL_TOOL: kimaki_action_buttons {"buttons": ["Yes", "No"]}\nmore words'
    chunks, _ = await stream_chunks(scripted_model, body(text))
    assert tool_call(chunks) == {"name": "kimaki_action_buttons", "args": {"buttons": ["Yes", "No"]}}
    for bad, says in (("{nope", "CALL_TOOL arguments are not JSON"), ("[1]", "must be a JSON object")):
        chunks, _ = await stream_chunks(scripted_model, body(f"CALL_TOOL: kimaki_sleep {bad}"))
        assert says in content(chunks)


async def test_tool_result_is_quoted(scripted_model: ScriptedModel) -> None:
    payload = body("RUN_BASH: echo hi")
    payload["messages"] += [
        {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function"}]},
        {"role": "tool", "tool_call_id": "c1", "content": "hi there\nsecond line"},
    ]
    chunks, _ = await stream_chunks(scripted_model, payload)
    assert content(chunks) == "Tool said: hi there"


def test_a_tool_result_can_be_followed_by_a_long_answer() -> None:
    payload = body("RUN_BASH: echo hi\nANSWER:1200")
    payload["messages"] += [
        {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function"}]},
        {"role": "tool", "tool_call_id": "c1", "content": "hi"},
    ]
    text = "".join(choose_reply(payload).chunks)
    assert text.startswith("Tool said: hi\n\n") and "```python" in text
    assert 1200 <= len(text) <= 1220


async def test_subagents_are_parallel_task_calls_and_think_streams_reasoning(
    scripted_model: ScriptedModel,
) -> None:
    chunks, done = await stream_chunks(scripted_model, body("THINK SUBAGENTS:2"))
    assert done
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    reasoning = "".join(d.get("reasoning_content") or "" for d in deltas)
    assert reasoning == "Let me think about this for a moment."
    calls = [call for d in deltas for call in d.get("tool_calls") or []]
    assert [(c["index"], c["function"]["name"]) for c in calls] == [(0, "task"), (1, "task")]
    tasks = [json.loads(c["function"]["arguments"]) for c in calls]
    assert [t["description"] for t in tasks] == ["sleep task 1", "sleep task 2"]
    assert tasks[0]["prompt"].startswith("SLOW:") and tasks[1]["prompt"] == "REPLY: subtask 2 done"
    assert {t["subagent_type"] for t in tasks} == {"general"}


async def test_a_task_result_is_quoted_from_its_result(scripted_model: ScriptedModel) -> None:
    payload = body("SUBAGENTS:1")
    result = "task_id: ses_1\n\n<task_result>\ndone\n</task_result>"
    payload["messages"] += [
        {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function"}]},
        {"role": "tool", "tool_call_id": "c1", "content": result},
    ]
    chunks, _ = await stream_chunks(scripted_model, payload)
    assert content(chunks) == "Tool said: done"


async def test_title_request_gets_short_title(scripted_model: ScriptedModel) -> None:
    payload = {
        "model": "fake-model",
        "stream": True,
        "messages": [
            {"role": "system", "content": "You are a title generator. You output ONLY a thread title."},
            {"role": "user", "content": "Generate a title for this conversation:\n"},
            {"role": "user", "content": "fix the flaky login test in CI please now"},
        ],
    }
    chunks, _ = await stream_chunks(scripted_model, payload)
    assert content(chunks) == "fix the flaky login test"


async def test_slow_streams_over_time(scripted_model: ScriptedModel) -> None:
    start = time.monotonic()
    chunks, done = await stream_chunks(scripted_model, body("SLOW:1"))
    elapsed = time.monotonic() - start
    assert done and 0.8 <= elapsed < 5
    assert len([c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]) >= 5


async def test_long_answer_has_big_code_block(scripted_model: ScriptedModel) -> None:
    chunks, _ = await stream_chunks(scripted_model, body("LONG:5000"))
    text = content(chunks)
    assert 4000 <= len(text) <= 6500
    block = re.search(r"```python\n(.*?)```", text, re.DOTALL)
    assert block is not None and len(block.group(1)) > 2000
    assert text.split("```")[0].strip() and text.split("```")[-1].strip()  # prose around it
    assert long_answer(3000).count("```") == 2


async def test_client_hangup_mid_stream_is_quiet(
    scripted_model: ScriptedModel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="kimaki_tui.testing.scripted_model")
    async with (
        httpx.AsyncClient(timeout=10) as http,
        http.stream("POST", f"{scripted_model.base_url}/chat/completions", json=body("SLOW:5")) as response,
    ):
        async for line in response.aiter_lines():
            if "tick 1" in line:
                break  # leaving the block closes the connection mid-stream
    await wait_until(lambda: "client went away" in caplog.text, 5, 0.05, "the handler to notice")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    chunks, done = await stream_chunks(scripted_model, body("still alive?"))
    assert done and content(chunks) == "Echo: still alive?"


async def test_models_and_non_streaming(scripted_model: ScriptedModel) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        models = (await http.get(f"{scripted_model.base_url}/models")).json()
        assert [m["id"] for m in models["data"]] == ["fake-model"]
        whole = (
            await http.post(f"{scripted_model.base_url}/chat/completions", json=body("x", stream=False))
        ).json()
    assert whole["choices"][0]["message"]["content"] == "Echo: x"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Echo this", "Echo: Echo this"), ("x" * 300, "Echo: " + "x" * 200)],
)
def test_echo_is_truncated(text: str, expected: str) -> None:
    reply = choose_reply({"tools": TOOLS, "messages": [{"role": "user", "content": text}]})
    assert "".join(reply.chunks) == expected
