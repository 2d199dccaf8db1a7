"""Render domain events as chat message texts (pure; every text fits one message).

Kimaki's look: a text part is posted as markdown (split to 2000 characters), every tool call is
one short `┣ tool summary` line when it ends (a subagent task when it starts, so parallel tasks
appear in the order they began), a natural end of turn gets an italic footer, permission and
question prompts say what is asked. Tools that are themselves an exchange with the user (the
question tool) get no tool line: their prompt is the message. Verbosity decides which tool lines
and whether reasoning (`┣ thinking`) appear.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from kimaki_tui.core.events import (
    BY_SERVER_RESTART,
    DomainEvent,
    PartCompleted,
    PermissionAskedEvent,
    PermissionReply,
    PermissionRequest,
    QuestionAskedEvent,
    QuestionRequest,
    SandboxResuming,
    SessionFailed,
    ToolStarted,
    TurnFinished,
)
from kimaki_tui.presentation.discord_markdown import for_discord
from kimaki_tui.presentation.split import MESSAGE_LIMIT, split_message

Verbosity = Literal["tools_and_text", "text_and_essential_tools", "text_only"]
VERBOSITIES: tuple[Verbosity, ...] = ("tools_and_text", "text_and_essential_tools", "text_only")
DEFAULT_VERBOSITY: Verbosity = "text_and_essential_tools"

# Tools that only look around; hidden from tool lines unless verbosity is tools_and_text.
MINOR_TOOLS = frozenset({"read", "glob", "grep", "list", "todoread", "todowrite"})
# Tools whose whole purpose is an exchange with the chat user: the prompt they raise is shown
# (the question form; kimaki's upload and button tools), so no tool line repeats them.
INTERACTION_TOOLS = frozenset({"question", "kimaki_file_upload", "kimaki_action_buttons"})
# Announced when they start (ToolStarted), not when they end.
STARTED_TOOLS = frozenset({"task"})
DEFAULT_AGENT = "build"
LINE_LIMIT = 300
_SUMMARY = 100
_MARKDOWN_START = re.compile(r"^(?:[#*_\->`\[|]|\d+\.|<callout)")
_MARKDOWN_SPECIAL = re.compile(r"([\\*_~`|])")
_PATH_KEYS = ("filePath", "path", "file")
# For these OpenCode's title is the path relative to the project, which reads best.
_FILE_TOOLS = frozenset({"edit", "write", "read", "apply_patch", "patch", "multiedit"})


RESUMING_NOTICE = "⏯ Resuming this thread's sandbox…"


def render_event(event: DomainEvent, *, verbosity: Verbosity = DEFAULT_VERBOSITY) -> list[str]:
    """The messages the bot posts for `event`, in order (often none)."""
    if verbosity not in VERBOSITIES:
        raise ValueError(f"unknown verbosity {verbosity!r}")
    if isinstance(event, PartCompleted):
        return _render_part(event, verbosity)
    if isinstance(event, ToolStarted):
        return _render_started(event, verbosity)
    if isinstance(event, TurnFinished):
        footer = render_footer(event) if event.natural else ""
        return [footer] if footer else []
    if isinstance(event, SessionFailed):
        return [_clip(f"✗ opencode error: {event.name}: {event.message}", 400)]
    if isinstance(event, PermissionAskedEvent):
        return [render_permission_prompt(event.request)]
    if isinstance(event, QuestionAskedEvent):
        return split_message(render_question(event.request))
    if isinstance(event, SandboxResuming):
        return [RESUMING_NOTICE]
    return []


def _render_part(part: PartCompleted, verbosity: Verbosity) -> list[str]:
    if part.kind == "text":
        text = for_discord(part.text.strip("\n"))
        # Kimaki marks a text part with ⬥ unless it opens with markdown the mark would break.
        return split_message(text if _MARKDOWN_START.match(text) else f"⬥ {text}")
    if part.kind == "reasoning":
        return ["┣ thinking"] if shows_detail("reasoning", "", verbosity) else []
    if part.tool in INTERACTION_TOOLS or part.tool in STARTED_TOOLS:
        return []
    return [render_tool_line(part)] if shows_detail("tool", part.tool, verbosity) else []


def shows_detail(kind: str, tool: str, verbosity: Verbosity) -> bool:
    """Whether a "reasoning" or "tool" block (other kinds always show) is shown at `verbosity`:
    the rule for Discord's lines and for the control center's transcript."""
    if kind not in ("reasoning", "tool"):
        return True
    if verbosity == "text_only":
        return False
    if kind == "reasoning":
        return verbosity == "tools_and_text"
    return verbosity == "tools_and_text" or not is_minor_tool(tool)


def _render_started(event: ToolStarted, verbosity: Verbosity) -> list[str]:
    if event.tool not in STARTED_TOOLS or not shows_detail("tool", event.tool, verbosity):
        return []
    part = PartCompleted(
        event.session_id, event.part_id, "", "tool", tool=event.tool, title=event.title, input=event.input
    )
    return [render_tool_line(part)]


def is_minor_tool(tool: str) -> bool:
    name = tool.lower()
    return name in MINOR_TOOLS or any(name.endswith("_" + minor) for minor in MINOR_TOOLS)


# ---- tool lines --------------------------------------------------------------------------------
def render_tool_line(part: PartCompleted) -> str:
    """`┣ bash `echo hi``, `┣ edit `src/x.py``, `┣ bash `false` ✗ exit 1`, `┣ webfetch `…` 🛡 untrusted`
    (the injection guard wrapped it); at most LINE_LIMIT chars."""
    name = _escape(_clip(part.tool or "tool", 60))
    summary = _tool_summary(part)
    line = f"┣ {name} {summary}" if summary else f"┣ {name}"
    if part.status == "error":
        line += f" ✗ {_clip(_first_line(part.error) or 'failed', 120)}"
    if part.guard_flags is not None:
        line += " 🛡 untrusted" + (" · reads like a prompt injection" if part.guard_flags else "")
    return line if len(line) <= LINE_LIMIT else line[: LINE_LIMIT - 1] + "…"


def _tool_summary(part: PartCompleted) -> str:
    args = part.input
    tool = part.tool
    if tool == "bash":
        return _bash_summary(args)
    if tool in ("question", "todoread"):
        return ""
    if tool == "task":
        return _task_summary(args, part.title)
    if tool == "todowrite":
        return _todo_summary(args)
    if tool in _FILE_TOOLS:
        target = part.title or _path(args)
        return _code(_clip_left(target, _SUMMARY)) if target else ""
    for key in ("pattern", "url", "query", "name"):
        if _str(args, key):
            return _code(_clip(_str(args, key), _SUMMARY))
    if _path(args):
        return _code(_clip_left(_path(args), _SUMMARY))
    return _generic_summary(args)


def _path(args: Mapping[str, Any]) -> str:
    return next((_str(args, key) for key in _PATH_KEYS if _str(args, key)), "")


def _bash_summary(args: Mapping[str, Any]) -> str:
    command = _str(args, "command").strip()
    if "\n" not in command and len(command) <= _SUMMARY:
        return _code(command) if command else ""
    description = _str(args, "description")
    if description:
        return f"*{_escape(_clip(_first_line(description), _SUMMARY))}*"
    return _code(_clip(command.split("\n", 1)[0].rstrip(), _SUMMARY - 1) + "…")


def _task_summary(args: Mapping[str, Any], title: str) -> str:
    """`**what it does**`, plus the subagent unless it is OpenCode's default `general`."""
    what = _str(args, "description") or title
    agent = _str(args, "subagent_type")
    summary = f"**{_escape(_clip(what, _SUMMARY))}**" if what else ""
    if agent and agent != "general":
        summary = f"{summary} *{_escape(_clip(agent, 40))}*".strip()
    return summary


def _todo_summary(args: Mapping[str, Any]) -> str:
    todos = args.get("todos")
    for todo in todos if isinstance(todos, list) else []:
        if isinstance(todo, Mapping) and todo.get("status") == "in_progress":
            return f"**{_escape(_clip(str(todo.get('content', '')), _SUMMARY))}**"
    return ""


def _generic_summary(args: Mapping[str, Any]) -> str:
    pairs = [
        f"{_clip(str(key), 30)}: {_clip(_first_line(str(value)), 50)}"
        for key, value in args.items()
        if isinstance(value, str | int | float | bool) and str(value)
    ]
    return f"({_escape(_clip(', '.join(pairs[:3]), 150))})" if pairs else ""


# ---- footer, errors, prompts -------------------------------------------------------------------
def render_footer(turn: TurnFinished, *, show_default_agent: bool = False) -> str:
    """`*project · ⎇ main · 12.3s · 34% · model · agent*`; unknown fields are left out, and so is
    the default agent (`build`) unless `show_default_agent` (the control center's transcript)."""
    fields: list[str] = []
    folder = turn.directory.rstrip("/").rsplit("/", 1)[-1]
    if folder:
        fields.append(_escape(_clip(folder, 30)))
    if turn.branch:
        fields.append("⎇ " + _escape(_clip(turn.branch, 30)))
    if turn.duration_s > 0:
        fields.append(format_duration(turn.duration_s))
    if turn.context_percent is not None:
        fields.append(f"{turn.context_percent}%")
    agent = "" if turn.agent == DEFAULT_AGENT and not show_default_agent else turn.agent
    for value in (turn.model_id, agent):
        if value:
            fields.append(_escape(_clip(value, 60)))
    return f"*{' · '.join(fields)}*" if fields else ""


def format_duration(seconds: float) -> str:
    if seconds < 1:
        return "<1s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60}m {whole % 60}s"
    return f"{whole // 3600}h {whole % 3600 // 60}m"


def render_permission_prompt(request: PermissionRequest) -> str:
    """`⚠️ **Permission needed** — bash: `cmd`` plus what "always" allows and an edit's diff."""
    lines = [f"⚠️ **Permission needed** — {_what(request)}"]
    if request.always == ("*",):
        lines.append(f"-# Accept always would allow every {_escape(request.kind)} request in this project")
    elif request.always:
        allowed = ", ".join(_code(_clip(pattern, 80)) for pattern in request.always[:5])
        lines.append(f"-# Accept always would allow: {allowed}")
    diff = request.metadata.get("diff")
    if isinstance(diff, str) and diff.strip():
        used = sum(len(line) + 1 for line in lines)
        lines.append(_diff_block(diff, MESSAGE_LIMIT - used))
    return "\n".join(lines)


def _what(request: PermissionRequest) -> str:
    return f"{_escape(_clip(request.kind, 40))}: {_code(_clip(request.summary, 200))}"


def _diff_block(diff: str, budget: int, max_lines: int = 40) -> str:
    """A ```diff block of at most `budget` characters, headers dropped, long diffs cut."""
    lines = [
        _clip(line, 200).replace("```", "`\u200b``")
        for line in diff.splitlines()
        if not line.startswith(("Index: ", "====="))
    ]
    kept: list[str] = []
    size = len("```diff\n\n```") + 30  # room for the "more lines" note
    for line in lines[:max_lines]:
        if size + len(line) + 1 > budget:
            break
        kept.append(line)
        size += len(line) + 1
    if len(kept) < len(lines):
        kept.append(f"… {len(lines) - len(kept)} more lines")
    return "```diff\n" + "\n".join(kept) + "\n```"


def render_permission_outcome(
    request: PermissionRequest, reply: PermissionReply, by: str, expired: bool, *, timeout_minutes: int = 10
) -> str:
    """The text a permission prompt is edited to once it is answered (or expires)."""
    who = _escape(_clip(by, 80))
    if expired and by == BY_SERVER_RESTART:
        outcome = "⌛ Expired — OpenCode restarted before it was answered"
    elif expired:
        unit = "minute" if timeout_minutes == 1 else "minutes"
        outcome = f"⌛ Expired — no answer within {timeout_minutes} {unit}"
    elif reply == "once":
        outcome = f"✅ Accepted once by {who}"
    elif reply == "always":
        outcome = f"✅ Always accepted by {who}"
    else:
        outcome = f"❌ Denied by {who}"
    return f"{outcome}\n{_what(request)}"


def render_left_over_outcome(request: PermissionRequest | QuestionRequest) -> str:
    """What a prompt is edited to when kimaki restarted before it was answered (the request died
    with the previous run, so its buttons would do nothing)."""
    if isinstance(request, QuestionRequest):
        return "⌛ Question expired — kimaki restarted before it was answered"
    return f"⌛ Expired — kimaki restarted before it was answered\n{_what(request)}"


def render_question(request: QuestionRequest) -> str:
    """Each question with its options, e.g. `❓ **Color** — Which color?` then `• **Red** — warm`."""
    blocks: list[str] = []
    for question in request.questions:
        header = _clip(str(question.get("header") or ""), 100)
        text = str(question.get("question") or "")
        lines = [f"❓ **{_escape(header)}** — {text}" if header else f"❓ {text}"]
        for option in _options(question.get("options")):
            label = _escape(_clip(str(option.get("label") or ""), 100))
            description = _clip(str(option.get("description") or ""), 100)
            lines.append(f"• **{label}** — {description}" if description else f"• **{label}**")
        if question.get("multiple"):
            lines.append("-# Several answers allowed")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _options(value: object) -> Sequence[Mapping[str, Any]]:
    options = value if isinstance(value, list) else []
    return [option for option in options[:24] if isinstance(option, Mapping)]


# ---- text helpers ------------------------------------------------------------------------------
def _str(args: Mapping[str, Any], key: str) -> str:
    value = args.get(key)
    return value if isinstance(value, str) else ""


def _first_line(text: str) -> str:
    stripped = text.strip()
    first = stripped.split("\n", 1)[0].strip()
    return first + " …" if first != stripped else first


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clip_left(text: str, limit: int) -> str:
    """Paths keep their end, the part that names the file."""
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]


def _escape(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _code(text: str) -> str:
    """Inline code that survives backticks inside `text`."""
    text = text.replace("\n", " ")
    if "`" not in text:
        return f"`{text}`"
    if "``" not in text:
        return f"`` {text} ``"
    return "`" + text.replace("`", "ˋ") + "`"
