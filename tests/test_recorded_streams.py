"""Streams recorded from two real OpenCode versions render as kimaki users expect, and alike.

`tests/fixtures/events-1.18.33.jsonl` and `events-1.2.27.jsonl` hold the same scripted
conversation (see `tests/record_streams.py`) recorded from the pinned and the oldest supported
OpenCode: a text answer with reasoning, an approved bash call, a question, two parallel subagent
tasks, an aborted slow answer and a last answer. Ids and durations differ; the messages may not.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kimaki_tui.cli.events_cmd import render_lines
from kimaki_tui.opencode.client import OpenCodeClient
from tests.harness import FIXTURES
from tests.record_streams import StreamTape, play

VERSIONS = ("1.18.33", "1.2.27")
Message = tuple[str, str]

QUESTION = (
    "❓ **Color** — Which color do you prefer?\n• **Red** — The color red\n"
    "• **Green** — The color green\n• **Blue** — The color blue"
)
PERMISSION = "⚠️ **Permission needed** — bash: `echo hi > out.txt`\n-# Accept always would allow: `echo *`"
FOOTER = ("footer", "*demo · <duration> · fake-model*")  # the default agent (build) goes unsaid
EXPECTED: list[Message] = [
    ("text", "⬥ Hello from the scripted model."),
    FOOTER,
    ("permission prompt", PERMISSION),
    ("tool", "┣ bash `echo hi > out.txt`"),
    ("text", "⬥ Tool said: (no output)"),
    FOOTER,
    ("question", QUESTION),  # and no bare `┣ question` line
    ("text", '⬥ Tool said: User has answered your questions: "Which color do you prefer?"="Blue". '
             "You can now continue with the user's answers in mind."),
    FOOTER,
    ("tool", "┣ task **sleep task 1**"),  # in the order they started (task 2 finished first)
    ("tool", "┣ task **sleep task 2**"),
    ("text", "⬥ Tool said: subtask 2 done"),
    FOOTER,
    ("text", "⬥ tick…"),  # cut by the abort before OpenCode ended the part: posted at the turn's end
    ("text", "⬥ All done."),  # no footer for the aborted turn; this one has it
    FOOTER,
]  # fmt: skip


def fixture(version: str) -> Path:
    return FIXTURES / f"events-{version}.jsonl"


def normalized(text: str) -> str:
    """Durations and the aborted answer's length (how many ticks streamed) vary between runs."""
    text = re.sub(r" · (<1s|\d+(\.\d)?s|\d+m \d+s|\d+h \d+m) · ", " · <duration> · ", text)
    return re.sub(r"^⬥ (tick \d+ ?)+$", "⬥ tick…", text)


def rendered(lines: list[str], verbosity: str = "text_and_essential_tools") -> list[Message]:
    def fail(message: str) -> None:
        raise AssertionError(message)

    return [(m.label, normalized(m.text)) for m in render_lines(lines, verbosity, warn=fail)]


def recorded(version: str) -> list[str]:
    return fixture(version).read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("version", VERSIONS)
def test_the_recorded_stream_renders_as_kimaki_users_expect(version: str) -> None:
    assert rendered(recorded(version)) == EXPECTED


def test_kimaki_events_render_prints_the_same_messages_for_both_versions() -> None:
    outputs = []
    for version in VERSIONS:
        command = [sys.executable, "-m", "kimaki_tui", "events", "render", str(fixture(version))]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0 and done.stderr == "16 messages\n", done.stderr
        assert "┣ thinking" not in done.stdout and "┣ question" not in done.stdout
        outputs.append(re.sub(r"ses_\w+", "ses_…", done.stdout))
    one, other = ([normalized(block) for block in output.split("\n\n")] for output in outputs)
    assert one == other


@pytest.mark.parametrize("version", VERSIONS)
def test_reasoning_shows_only_at_the_loudest_verbosity(version: str) -> None:
    loud = rendered(recorded(version), "tools_and_text")
    assert loud[0] == ("reasoning", "┣ thinking") and loud[1:] == EXPECTED
    assert ("reasoning", "┣ thinking") not in rendered(recorded(version))


@pytest.mark.parametrize("version", VERSIONS)
def test_the_stream_really_has_what_the_rendering_smooths_over(version: str) -> None:
    """The recordings hold the cases the rules are for, so the test above proves something."""
    events = [json.loads(line)["payload"] for line in recorded(version)]
    parts = [e["properties"]["part"] for e in events if e["type"] == "message.part.updated"]
    finished = [p["state"]["input"]["description"] for p in parts
                if p["type"] == "tool" and p["tool"] == "task" and p["state"]["status"] == "completed"]
    assert finished == ["sleep task 2", "sleep task 1"]  # completion order is the reverse
    assert any(p["type"] == "reasoning" for p in parts)
    created = [e["properties"]["info"] for e in events if e["type"] == "session.created"]
    # Two subagent sessions: their own answers are not posted (they have no thread).
    assert len([info for info in created if info.get("parentID")]) == 2
    aborted = [e for e in events if e["type"] == "session.error"]
    assert [e["properties"]["error"]["name"] for e in aborted] == ["MessageAbortedError"]
    if version == "1.2.27":
        # 1.2 leaves the session id out of the top level of part and message events.
        assert all("sessionID" not in e["properties"] for e in events if e["type"] == "message.part.updated")


@pytest.mark.opencode
async def test_the_scripted_conversation_still_renders_as_recorded(
    versioned_client: OpenCodeClient, project_dir: Path
) -> None:
    """Played live against each real OpenCode, the conversation gives the recorded messages."""
    tape = StreamTape(versioned_client, str(project_dir))
    async with tape.running():
        await play(versioned_client, tape, project_dir)
    assert rendered(tape.lines) == EXPECTED
