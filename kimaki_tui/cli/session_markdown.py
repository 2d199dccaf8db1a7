"""An OpenCode conversation (`GET /session/{id}/message`) as Markdown, for `kimaki session read` and
`kimaki send --wait`: the user's and the assistant's text, one line per tool call, errors.

Synthetic parts (context kimaki or OpenCode added, such as MEMORY.md) and reasoning are left out,
unless `verbose` (`session read --verbose`): then they are shown too, with each tool call's full
input and output, and each message's agent, tokens and cost.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from kimaki_tui.opencode.models import Message
from kimaki_tui.opencode.parts import FilePart, Part, ReasoningPart, TextPart, ToolPart

TOOL_INPUT_MAX = 120


def render(
    messages: Sequence[Message],
    *,
    title: str | None = None,
    assistant_only: bool = False,
    verbose: bool = False,
) -> str:
    """The conversation as Markdown (only what the assistant said, with `assistant_only`; everything
    OpenCode keeps, with `verbose`)."""
    blocks: list[str] = [f"# {title}"] if title else []
    for message in messages:
        if assistant_only and not message.info.is_assistant:
            continue
        body = _verbose_body(message) if verbose else _body(message)
        if not body:
            continue
        if assistant_only:
            blocks.append(body)
        else:
            heading = _heading(message) + (_details(message) if verbose else "")
            blocks.append(f"## {heading}\n\n{body}")
    return "\n\n".join(blocks).strip() + "\n"


def _heading(message: Message) -> str:
    if message.info.is_user:
        return "User"
    model = message.info.model_id
    return f"Assistant ({model})" if model else "Assistant"


def _body(message: Message) -> str:
    lines = [text for text in map(_part, message.parts) if text]
    if message.info.error:
        lines.append(f"> ⚠️ {message.info.error}")
    return "\n\n".join(lines)


def _part(part: Part) -> str:
    if isinstance(part, TextPart) and part.typed:
        return part.text.strip()
    if isinstance(part, ToolPart):
        return _tool(part)
    if isinstance(part, FilePart):
        return f"📎 {part.filename or part.url or 'file'}"
    return ""


def _tool(part: ToolPart) -> str:
    state = part.state
    what = state.title or _short_input(state.input)
    line = f"- 🔧 `{part.tool or 'tool'}`" + (f" {what}" if what else "")
    if state.status == "error":
        line += f" — failed: {state.error}".rstrip()
    elif state.status not in ("completed", ""):
        line += f" ({state.status})"
    return line


def _short_input(value: Mapping[str, Any]) -> str:
    if not value:
        return ""
    text = " ".join(json.dumps(value, ensure_ascii=False).split())
    return text if len(text) <= TOOL_INPUT_MAX else text[: TOOL_INPUT_MAX - 1] + "…"


def _details(message: Message) -> str:
    info = message.info
    bits = [f"id `{info.id}`"]
    if info.agent:
        bits.append(f"agent {info.agent}")
    if info.is_assistant:
        bits.append(f"{info.tokens.input} in / {info.tokens.output} out tokens, ${info.cost:.4f}")
    return " — " + ", ".join(bits)


def _verbose_body(message: Message) -> str:
    lines = [text for text in map(_verbose_part, message.parts) if text]
    if message.info.error:
        lines.append(f"> ⚠️ {message.info.error}")
    return "\n\n".join(lines)


def _verbose_part(part: Part) -> str:
    if isinstance(part, TextPart) and part.text.strip():
        return part.text.strip() if part.typed else _quoted("context", part.text)
    if isinstance(part, ReasoningPart) and part.text.strip():
        return _quoted("thinking", part.text)
    if isinstance(part, ToolPart):
        state = part.state
        text = _tool(part) + "\n\n" + _fenced("input", json.dumps(state.input, indent=2, ensure_ascii=False))
        if state.output:
            text += "\n\n" + _fenced("output", state.output)
        return text
    return _part(part)


def _quoted(label: str, text: str) -> str:
    return f"> _{label}_\n" + "\n".join(f"> {line}" for line in text.strip().splitlines())


def _fenced(label: str, text: str) -> str:
    fence = "````" if "```" in text else "```"
    return f"{label}:\n{fence}\n{text.rstrip()}\n{fence}"
