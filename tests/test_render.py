"""Domain events rendered as Discord message texts."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

from kimaki_tui.core.events import (
    PartCompleted,
    PermissionAskedEvent,
    PermissionRequest,
    QuestionAskedEvent,
    QuestionRequest,
    SessionFailed,
    StatusChanged,
    TextDelta,
    ToolStarted,
    TurnFinished,
)
from kimaki_tui.opencode.injection_guard import guard_flags
from kimaki_tui.presentation.notices import queue_notice
from kimaki_tui.presentation.render import (
    LINE_LIMIT,
    VERBOSITIES,
    format_duration,
    render_event,
    render_permission_outcome,
)

SID = "ses_1"
Part = PartCompleted


def tool(name: str, status: str = "completed", title: str = "", error: str = "", **args: Any) -> Part:
    return PartCompleted(
        SID, "prt_1", "msg_1", "tool", tool=name, title=title, status=status, error=error, input=args
    )


def text(body: str) -> PartCompleted:
    return PartCompleted(SID, "prt_2", "msg_1", "text", text=body)


def turn(**overrides: Any) -> TurnFinished:
    fields: dict[str, Any] = {
        "natural": True, "duration_s": 12.34, "tokens_total": 500, "tokens_input": 400, "tokens_output": 100,
        "context_tokens": 34_000, "context_limit": 100_000, "provider_id": "fake", "model_id": "fake-model",
        "agent": "build", "directory": "/home/user/project", "branch": "main",
    }
    fields.update(overrides)
    return TurnFinished(SID, **fields)


def permission(kind: str = "bash", **metadata: Any) -> PermissionRequest:
    patterns = (str(metadata.get("command") or metadata.get("filepath") or "*"),)
    always = ("echo *",) if kind == "bash" else ("*",)
    return PermissionRequest("per_1", SID, kind, patterns, always, metadata, asked_at=0.0)


# ---- text and tool parts ------------------------------------------------------------------------
def test_text_part_is_marked_and_markdown_is_not() -> None:
    assert render_event(text("Done, all tests pass.")) == ["⬥ Done, all tests pass."]
    assert render_event(text("# Summary\nok")) == ["# Summary\nok"]
    assert render_event(text("- one\n- two")) == ["- one\n- two"]


def test_long_text_is_split_to_discord_messages() -> None:
    body = "\n\n".join(" ".join(["lorem"] * 100) for _ in range(15))
    messages = render_event(text(body))
    assert len(messages) > 2 and all(len(m) <= 2000 for m in messages)


def test_tool_lines() -> None:
    assert render_event(tool("bash", command="echo hi")) == ["┣ bash `echo hi`"]
    assert render_event(tool("edit", title="src/x.py", filePath="/p/src/x.py")) == ["┣ edit `src/x.py`"]
    assert render_event(tool("write", filePath="/p/docs/new.md")) == ["┣ write `/p/docs/new.md`"]
    assert render_event(tool("webfetch", url="https://example.com")) == ["┣ webfetch `https://example.com`"]
    weather = tool("mcp_weather", city="Paris", days=3)
    assert render_event(weather) == ["┣ mcp\\_weather (city: Paris, days: 3)"]


def test_tool_error_line() -> None:
    line = render_event(tool("bash", "error", error="The user rejected permission.\nmore", command="rm x"))
    assert line == ["┣ bash `rm x` ✗ The user rejected permission. …"]


def test_a_guarded_output_is_marked_on_its_tool_line() -> None:
    wrapped = dataclasses.replace(tool("webfetch", url="https://example.com"), guard_flags=0)
    assert render_event(wrapped) == ["┣ webfetch `https://example.com` 🛡 untrusted"]
    flagged = dataclasses.replace(wrapped, guard_flags=2)
    assert render_event(flagged) == [
        "┣ webfetch `https://example.com` 🛡 untrusted · reads like a prompt injection"
    ]
    assert guard_flags({"kimakiInjectionGuard": {"pattern": "webfetch:*", "flagged": 2}}) == 2
    assert guard_flags({"kimakiInjectionGuard": {"pattern": "webfetch:*"}}) == 0
    assert guard_flags({"other": 1}) is None and guard_flags(None) is None


def test_long_or_multiline_commands_stay_short() -> None:
    (long_line,) = render_event(tool("bash", command="python -c 'print(1)' " + "x" * 500))
    assert long_line.endswith("…`") and len(long_line) < 120
    (described,) = render_event(tool("bash", command="cat <<EOF\nhello\nEOF", description="Write a file"))
    assert described == "┣ bash *Write a file*"
    assert render_event(tool("bash", command="cat <<EOF\nhello\nEOF")) == ["┣ bash `cat <<EOF…`"]
    (huge,) = render_event(tool("x" * 400, "error", error="e" * 400, **{f"k{i}": "v" * 80 for i in range(9)}))
    assert len(huge) <= LINE_LIMIT


def test_backticks_in_a_command_keep_the_code_span_intact() -> None:
    (line,) = render_event(tool("bash", command="echo `date`"))
    assert line == "┣ bash `` echo `date` ``"


@pytest.mark.parametrize(
    ("verbosity", "shown"),
    [
        ("tools_and_text", ["read", "bash", "thinking", "text"]),
        ("text_and_essential_tools", ["bash", "text"]),
        ("text_only", ["text"]),
    ],
)
def test_verbosity(verbosity: Any, shown: list[str]) -> None:
    events = [
        tool("read", title="README.md", filePath="/p/README.md"),
        tool("bash", command="ls"),
        PartCompleted(SID, "prt_3", "msg_1", "reasoning", text="let me think"),
        text("answer"),
    ]
    rendered = [m for e in events for m in render_event(e, verbosity=verbosity)]
    expected = {
        "read": "┣ read `README.md`", "bash": "┣ bash `ls`", "thinking": "┣ thinking", "text": "⬥ answer"
    }
    assert rendered == [expected[name] for name in shown]
    assert set(VERBOSITIES) == {"tools_and_text", "text_and_essential_tools", "text_only"}


def test_minor_tool_variants_are_hidden_too() -> None:
    assert render_event(tool("serena_grep", pattern="x")) == []
    assert render_event(tool("todowrite", todos=[{"content": "a", "status": "in_progress"}])) == []
    assert render_event(tool("todowrite", todos=[{"content": "a", "status": "in_progress"}]),
                        verbosity="tools_and_text") == ["┣ todowrite **a**"]


def test_unknown_verbosity_is_an_error() -> None:
    with pytest.raises(ValueError):
        render_event(text("x"), verbosity="loud")  # type: ignore[arg-type]


# ---- footer, errors, others ---------------------------------------------------------------------
def test_footer() -> None:
    # The default agent (build) is left out; any other agent is named.
    assert render_event(turn()) == ["*project · ⎇ main · 12.3s · 34% · fake-model*"]
    assert render_event(turn(agent="plan")) == ["*project · ⎇ main · 12.3s · 34% · fake-model · plan*"]
    sparse = turn(directory="", branch="", context_limit=None, duration_s=0.0, agent="")
    assert render_event(sparse) == ["*fake-model*"]
    assert render_event(turn(directory="/w/my_proj", duration_s=125)) == [
        "*my\\_proj · ⎇ main · 2m 5s · 34% · fake-model*"
    ]
    assert render_event(turn(duration_s=0.42)) == ["*project · ⎇ main · <1s · 34% · fake-model*"]


def test_interaction_tools_get_no_tool_line() -> None:
    """The question form (and kimaki's upload/button tools) is the message; no bare tool line."""
    for name in ("question", "kimaki_file_upload", "kimaki_action_buttons"):
        for verbosity in VERBOSITIES:
            assert render_event(tool(name, questions=[{"question": "?"}]), verbosity=verbosity) == []


def test_a_task_is_announced_when_it_starts() -> None:
    def task(description: str = "", agent: str = "general", title: str = "") -> ToolStarted:
        args = {"description": description, "subagent_type": agent} if description else {}
        return ToolStarted(SID, "prt_t", "task", args, title=title)

    started = task("sleep 10 task 1")
    assert render_event(started) == ["┣ task **sleep 10 task 1**"]
    assert render_event(task("Explore the code", "explore")) == ["┣ task **Explore the code** *explore*"]
    # No description: OpenCode's title says what the task does.
    assert render_event(task(title="look around")) == ["┣ task **look around**"]
    assert render_event(started, verbosity="text_only") == []
    # Its end is not posted again, and other tools are posted at their end only.
    assert render_event(tool("task", description="sleep 10 task 1")) == []
    assert render_event(ToolStarted(SID, "prt_b", "bash", {"command": "ls"})) == []


def test_no_footer_after_an_interrupted_turn() -> None:
    assert render_event(turn(natural=False)) == []


def test_durations() -> None:
    durations = [format_duration(s) for s in (0.658, 1.04, 12.34, 65, 3725)]
    assert durations == ["<1s", "1.0s", "12.3s", "1m 5s", "1h 2m"]


def test_session_failed() -> None:
    failed = SessionFailed(SID, "APIError", "Cannot connect to API")
    assert render_event(failed) == ["✗ opencode error: APIError: Cannot connect to API"]
    (long,) = render_event(SessionFailed(SID, "APIError", "x" * 5000))
    assert len(long) <= 400


def test_events_without_messages() -> None:
    assert render_event(TextDelta(SID, "prt", "tok")) == []
    assert render_event(StatusChanged(SID, "busy")) == []


# ---- permission and question prompts ------------------------------------------------------------
def test_bash_permission_prompt() -> None:
    (prompt,) = render_event(PermissionAskedEvent(SID, permission(command="echo hi > out.txt")))
    assert prompt.splitlines() == [
        "⚠️ **Permission needed** — bash: `echo hi > out.txt`",
        "-# Accept always would allow: `echo *`",
    ]


def test_edit_permission_prompt_shows_a_trimmed_diff() -> None:
    diff = "Index: a.txt\n=====\n--- a.txt\n+++ a.txt\n@@ -1,300 +1,300 @@\n" + "\n".join(
        f"-old line {i}\n+new line {i} " + "z" * 60 for i in range(300)
    )
    (prompt,) = render_event(PermissionAskedEvent(SID, permission("edit", filepath="/p/a.txt", diff=diff)))
    assert prompt.startswith("⚠️ **Permission needed** — edit: `/p/a.txt`\n")
    assert "every edit request" in prompt
    assert "```diff\n--- a.txt\n+++ a.txt\n" in prompt and "Index:" not in prompt
    assert prompt.endswith("more lines\n```")
    assert len(prompt) <= 2000


def test_permission_outcomes() -> None:
    request = permission(command="echo hi")
    once = render_permission_outcome(request, "once", "alice", False)
    assert once == "✅ Accepted once by alice\nbash: `echo hi`"
    assert render_permission_outcome(request, "always", "bob", False).startswith("✅ Always accepted by bob")
    assert render_permission_outcome(request, "reject", "carol", False).startswith("❌ Denied by carol")
    expired = render_permission_outcome(request, "reject", "timeout", True)
    assert expired.startswith("⌛ Expired — no answer within 10 minutes")


def test_question_prompt() -> None:
    question = {"question": "Which color do you prefer?", "header": "Color",
                "options": [{"label": "Red", "description": "warm"}, {"label": "Blue"}], "multiple": True}
    (prompt,) = render_event(QuestionAskedEvent(SID, QuestionRequest("que_1", SID, (question,), 0.0)))
    assert prompt.splitlines() == [
        "❓ **Color** — Which color do you prefer?",
        "• **Red** — warm",
        "• **Blue**",
        "-# Several answers allowed",
    ]


def test_queue_notice() -> None:
    assert "next" in queue_notice(1)
    assert "position 3" in queue_notice(3)


def test_every_message_fits_discord() -> None:
    rng = random.Random(7)
    for _ in range(200):
        blob = "".join(rng.choice("ab `\n_*~|") for _ in range(rng.randint(0, 6000)))
        events = [
            text(blob),
            tool(blob[:500] or "t", rng.choice(["completed", "error"]), title=blob, error=blob, command=blob),
            SessionFailed(SID, blob[:300], blob),
            PermissionAskedEvent(SID, permission("edit", filepath=blob, diff=blob)),
            QuestionAskedEvent(SID, QuestionRequest("q", SID, ({"question": blob, "header": blob[:9]},), 0)),
        ]
        for event in events:
            assert all(0 < len(m) <= 2000 for m in render_event(event, verbosity="tools_and_text"))
