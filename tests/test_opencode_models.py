"""The typed OpenCode models parsed from payloads recorded from the real `opencode serve` (see
tests/fixtures/opencode/record.py), plus unknown part kinds and the sparser 1.2.x shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kimaki_tui.cli.session_markdown import render
from kimaki_tui.core.history import assistant_texts, last_model, turn_text, undo_target, user_turns
from kimaki_tui.opencode.catalog import (
    Agent,
    Command,
    Health,
    OpenCodeConfig,
    Project,
    ProviderCatalog,
    VcsInfo,
)
from kimaki_tui.opencode.models import Message, MessageInfo
from kimaki_tui.opencode.parts import (
    AgentPart,
    CompactionPart,
    FilePart,
    MessageError,
    Part,
    PatchPart,
    ReasoningPart,
    RetryPart,
    SnapshotPart,
    StepFinishPart,
    StepStartPart,
    SubtaskPart,
    TextPart,
    ToolPart,
    UnknownPart,
)
from kimaki_tui.opencode.pending import PendingPermission, PendingQuestion, SessionStatusInfo
from kimaki_tui.opencode.schema import ModelRef, Revert, SessionInfo
from kimaki_tui.screens.history import history_entries

FIXTURES = Path(__file__).parent / "fixtures" / "opencode"
VERSION = "1.18.33"


def recorded(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}-{VERSION}.json").read_text())


@pytest.fixture(scope="module")
def conversation() -> list[Message]:
    return [Message.from_json(row) for row in recorded("messages")]


def parts_of(messages: list[Message], kind: type[Part]) -> list[Any]:
    return [p for m in messages for p in m.parts if isinstance(p, kind)]


def test_every_recorded_part_gets_its_type(conversation: list[Message]) -> None:
    raw = recorded("messages")
    kinds = [p["type"] for m in raw for p in m["parts"]]
    parsed = [p for m in conversation for p in m.parts]
    assert [p.type for p in parsed] == kinds
    assert not parts_of(conversation, UnknownPart)
    assert {type(p) for p in parsed} == {
        TextPart, ReasoningPart, ToolPart, StepStartPart, StepFinishPart,
        FilePart, PatchPart, CompactionPart, SubtaskPart,
    }  # fmt: skip
    for message, row in zip(conversation, raw, strict=True):
        assert message.id == row["info"]["id"] and message.role == row["info"]["role"]
        assert all(
            p.message_id == message.id and p.session_id == message.info.session_id for p in message.parts
        )


def test_user_and_assistant_info(conversation: list[Message]) -> None:
    user, answer = conversation[0], conversation[1]
    assert user.info.is_user and user.info.agent == "build" and user.info.created > 0
    assert user.info.model == ModelRef("fake", "fake-model") and not user.info.summary
    info = answer.info
    assert info.is_assistant and info.parent_id == user.id and info.agent == info.mode == "build"
    assert info.model == ModelRef("fake", "fake-model") and info.finish == "stop"
    assert info.completed is not None and info.completed >= info.created and info.finished
    assert info.error is None and info.cost == 0.0
    assert info.tokens.input > 0 and info.tokens.output > 0 and info.tokens.total >= info.tokens.output


def test_text_reasoning_and_steps(conversation: list[Message]) -> None:
    start, reasoning, text, finish = conversation[1].parts
    assert isinstance(start, StepStartPart) and start.snapshot
    assert isinstance(reasoning, ReasoningPart) and reasoning.text == "Thinking it over."
    assert reasoning.started is not None and reasoning.ended is not None
    assert isinstance(text, TextPart) and text.text == "Echo: THINK hello there" and text.typed
    assert text.ended is not None
    assert isinstance(finish, StepFinishPart) and finish.reason == "stop" and finish.cost == 0.0
    assert finish.tokens.output == conversation[1].info.tokens.output
    assert finish.tokens.total == finish.tokens.input + finish.tokens.output
    # Text a person typed has no end time; file reads OpenCode added are synthetic.
    assert [(p.typed, p.ended) for p in conversation[0].text_parts()] == [(True, None)]
    see_file = next(m for m in conversation if any(p.text == "see the file" for p in m.text_parts()))
    assert [p.synthetic for p in see_file.text_parts()] == [False, True, True]
    [attached] = parts_of([see_file], FilePart)
    assert (attached.mime, attached.filename) == ("text/plain", "notes.txt")
    assert attached.url.startswith("file://") and attached.url.endswith("/notes.txt")


def test_tool_calls(conversation: list[Message]) -> None:
    bash, question, shell, task = parts_of(conversation, ToolPart)
    assert (bash.tool, bash.state.status, bash.state.title) == ("bash", "completed", "echo hi > out.txt")
    assert bash.call_id and bash.state.input == {"command": "echo hi > out.txt", "description": "run it"}
    assert bash.state.output == "(no output)" and bash.state.metadata["exit"] == 0
    assert bash.state.started is not None and bash.state.ended is not None and bash.state.error == ""
    assert question.tool == "question" and '"Blue"' in question.state.output
    assert question.state.metadata["answers"] == [["Blue"]]
    assert shell.tool == "bash" and shell.state.output == "shell-ok\n"
    assert task.tool == "task" and task.state.status == "completed"
    [patch] = parts_of(conversation, PatchPart)
    assert patch.hash and [Path(f).name for f in patch.files] == ["out.txt"]
    [subtask] = parts_of(conversation, SubtaskPart)
    assert subtask.agent and subtask.description and "code reviewer" in subtask.prompt


def test_compaction_and_abort(conversation: list[Message]) -> None:
    [compaction] = parts_of(conversation, CompactionPart)
    assert compaction.auto is False and compaction.overflow is False
    summary = next(m for m in conversation if m.info.summary)
    assert summary.info.mode == "compaction" and summary.info.parent_id == compaction.message_id
    aborted = conversation[-1].info
    assert aborted.error == MessageError(name="MessageAbortedError", message="Aborted")
    assert str(aborted.error) == "MessageAbortedError: Aborted" and aborted.finished and not aborted.finish


def test_replies_of_prompt_shell_and_command() -> None:
    replies = {name: Message.from_json(row) for name, row in recorded("replies").items()}
    assert [p.type for p in replies["prompt"].parts] == ["step-start", "reasoning", "text", "step-finish"]
    [bash] = replies["shell"].parts
    assert isinstance(bash, ToolPart) and "shell-ok" in bash.state.output
    assert replies["command"].info.is_assistant and replies["command"].text_parts()[0].text.startswith(
        "Echo:"
    )


def test_pending_requests_and_status() -> None:
    pending = recorded("pending")
    [permission] = [PendingPermission.from_json(row) for row in pending["permissions"]]
    assert permission.id.startswith("per_") and permission.session_id.startswith("ses_")
    assert (permission.permission, permission.patterns, permission.always) == (
        "bash",
        ("echo hi > out.txt",),
        ("echo *",),
    )
    assert (
        permission.metadata == {"command": "echo hi > out.txt"}
        and permission.raw == pending["permissions"][0]
    )
    assert permission.tool is not None and permission.tool.call_id and permission.tool.message_id
    [question] = [PendingQuestion.from_json(row) for row in pending["questions"]]
    [asked] = question.questions
    assert (asked.question, asked.header, asked.multiple, asked.custom) == (
        "Which color do you prefer?",
        "Color",
        False,
        True,
    )
    assert [(o.label, o.description) for o in asked.options][-1] == ("Blue", "The color blue")
    statuses = {sid: SessionStatusInfo.from_json(s) for sid, s in pending["status"].items()}
    assert [s.type for s in statuses.values()] == ["busy"]
    retry = SessionStatusInfo.from_json({"type": "retry", "attempt": 2, "message": "down", "next": 5})
    assert (retry.type, retry.attempt, retry.message, retry.next) == ("retry", 2, "down", 5)


def test_catalogue() -> None:
    catalog = recorded("catalog")
    agents = {a.name: a for a in map(Agent.from_json, catalog["agents"])}
    assert sorted(a.name for a in agents.values() if a.pickable) == ["build", "plan"]
    assert agents["build"].native and agents["build"].description and agents["title"].hidden
    assert agents["general"].mode == "subagent"
    commands = {c.name: c for c in map(Command.from_json, catalog["commands"])}
    assert {"init", "review"} <= set(commands) and commands["init"].source == "command"
    assert "$ARGUMENTS" in commands["init"].template and commands["review"].subtask
    providers = ProviderCatalog.from_json(catalog["providers"])
    [fake] = providers.providers
    assert (fake.id, fake.name, fake.source) == ("fake", "Fake LLM", "config")
    [model] = fake.models
    assert (model.id, model.name, model.context_limit, model.output_limit) == (
        "fake-model",
        "Fake Model",
        128000,
        4096,
    )
    assert providers.default_model("fake") == "fake-model" and providers.provider("other") is None
    [project] = map(Project.from_json, catalog["projects"])
    assert (
        project.id and project.vcs == "git" and project.worktree.endswith("/project") and project.updated > 0
    )
    assert VcsInfo.from_json(catalog["vcs"]).branch in ("main", "master")
    assert Health.from_json(catalog["health"]) == Health(healthy=True, version=VERSION)


def test_unknown_part_kinds_are_kept() -> None:
    row = {"id": "prt_1", "sessionID": "ses_1", "messageID": "msg_1", "type": "hologram", "beam": 3}
    part = Part.from_json(row)
    assert isinstance(part, UnknownPart) and part.type == "hologram" and part.data["beam"] == 3
    assert part.id == "prt_1"
    message = Message.from_json({"info": {"id": "msg_1", "role": "assistant"}, "parts": [row, "junk", None]})
    assert [p.type for p in message.parts] == ["hologram"]
    untyped = Part.from_json({"id": "prt_2"})
    assert isinstance(untyped, UnknownPart) and untyped.type == ""


def test_schema_parts_not_in_the_recording() -> None:
    agent = Part.from_json({"id": "p", "type": "agent", "name": "explore", "source": {"value": "@explore"}})
    assert isinstance(agent, AgentPart) and agent.name == "explore"
    snapshot = Part.from_json({"id": "p", "type": "snapshot", "snapshot": "abc"})
    assert isinstance(snapshot, SnapshotPart) and snapshot.snapshot == "abc"
    error = {"name": "APIError", "data": {"message": "rate limited", "isRetryable": True}}
    retry = Part.from_json({"id": "p", "type": "retry", "attempt": 2, "error": error, "time": {"created": 7}})
    assert isinstance(retry, RetryPart) and (retry.attempt, retry.created) == (2, 7)
    assert retry.error == MessageError(name="APIError", message="rate limited", retryable=True)


def test_sparse_payloads_read_as_defaults() -> None:
    """What 1.2.x (or a half-written message) sends: no tokens, no time, no agent, no parts."""
    bare = Message.from_json({"info": {"id": "msg_1", "role": "assistant", "modelID": "m"}})
    info = bare.info
    assert bare.parts == () and info.model is None and info.model_id == "m" and info.agent == ""
    assert (info.created, info.completed, info.cost, info.finish, info.error) == (0, None, 0.0, "", None)
    assert info.tokens.total == 0 and not info.finished and not info.summary
    assert Message.from_json(None) == Message(MessageInfo())
    text = Part.from_json({"type": "text", "text": "hi"})
    assert isinstance(text, TextPart) and text.typed and (text.started, text.ended) == (None, None)
    tool = Part.from_json({"type": "tool", "tool": "bash", "state": {"status": "pending", "input": {}}})
    assert isinstance(tool, ToolPart) and tool.state.status == "pending" and tool.state.output == ""
    assert tool.state.started is None and tool.call_id == ""
    finish = Part.from_json({"type": "step-finish", "tokens": {"input": 3, "output": 4}})
    assert isinstance(finish, StepFinishPart) and finish.tokens.total == 7 and finish.tokens.cache_read == 0
    assert MessageError.from_json("boom") == MessageError(name="boom")
    assert MessageError.from_json({"data": {}}) == MessageError(name="Error")
    assert MessageError.from_json({}) is None
    assert PendingQuestion.from_json({"id": "que_1"}).questions == ()
    assert PendingPermission.from_json({"id": "per_1"}).tool is None
    assert OpenCodeConfig.from_json({"model": "no-slash"}).model is None
    assert OpenCodeConfig.from_json({"model": "fake/m", "share": "disabled"}).share == "disabled"
    assert ProviderCatalog.from_json({}).providers == ()


def test_session_revert() -> None:
    row = {"id": "ses_1", "title": "t", "time": {"created": 1, "updated": 2}}
    assert SessionInfo.from_json(row).revert is None
    reverted = SessionInfo.from_json({**row, "revert": {"messageID": "msg_3", "diff": "-a\n+b\n"}})
    assert reverted.revert == Revert(message_id="msg_3", diff="-a\n+b\n")
    assert Revert.from_json({"partID": "prt_1"}) is None


def test_history_readers_over_the_recorded_conversation(conversation: list[Message]) -> None:
    """The five places that read history agree on the one parsed conversation."""
    typed = [turn_text(m) for m in conversation if m.info.is_user and turn_text(m)]
    assert typed == [
        "THINK hello there",
        "RUN_BASH: echo hi > out.txt",
        "ASK_QUESTION",
        "see the file",
        "SLOW:30 a long story",
    ]
    assert [t.text for t in user_turns(conversation, None)] == typed
    assert undo_target(conversation, None) == conversation[-2].id
    assert last_model(conversation) == ModelRef("fake", "fake-model")
    assert assistant_texts(conversation, limit=2)[-1].text == "tick 0"
    markdown = render(conversation, title="Recorded")
    # Reasoning and synthetic text are left out.
    assert markdown.startswith(
        "# Recorded\n\n## User\n\nTHINK hello there\n\n"
        "## Assistant (fake-model)\n\nEcho: THINK hello there\n\n"
    )
    assert "- 🔧 `bash` echo hi > out.txt" in markdown and "📎 notes.txt" in markdown
    assert "The following tool was executed" not in markdown
    assert markdown.endswith("## Assistant (fake-model)\n\ntick 0\n\n> ⚠️ MessageAbortedError: Aborted\n")
    entries = history_entries(conversation)
    kinds = [e.kind for e in entries]
    assert kinds[:4] == ["user", "reasoning", "text", "reasoning"] and kinds.count("tool") == 4
    assert "The following tool was executed" not in " ".join(e.text for e in entries)
