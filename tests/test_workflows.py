"""The rule that turns OpenCode's agents, commands, MCP prompts and skills into slash commands:
Discord's names and description limit, the order under the 100-command cap, the skill filter,
and which prompt text runs a command."""

from __future__ import annotations

import logging

import pytest

from kimaki_tui.core.workflows import (
    SkillFilter,
    Workflow,
    command_text,
    fit_description,
    plan_commands,
    slash_name,
    split_command,
    workflows_of,
)
from kimaki_tui.opencode.catalog import Agent, Command

BUILT_INS = [f"builtin-{n}" for n in range(30)]


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        ("review", "cmd", "review-cmd"),
        ("Plan", "agent", "plan-agent"),
        ("git:commit/All Files", "cmd", "git-commit-all-files-cmd"),
        ("--weird__name!!", "skill", "weird-name-skill"),
        ("ünïcode", "cmd", "n-code-cmd"),
        ("a" * 40, "mcp-prompt", "a" * 21 + "-mcp-prompt"),
        ("abc-" + "d" * 40, "cmd", "abc-" + "d" * 24 + "-cmd"),
        ("!!!", "cmd", ""),
    ],
)
def test_names_follow_discords_rules(name: str, kind: str, expected: str) -> None:
    made = slash_name(name, kind)  # type: ignore[arg-type]
    assert made == expected
    if made:
        assert len(made) <= 32 and all(c.isascii() and (c.isalnum() or c == "-") for c in made)
        assert made == made.lower() and "--" not in made


def test_descriptions_fit_in_100_characters() -> None:
    workflow = Workflow("cmd", "long")
    long = fit_description("word " * 40 + "\nsecond line", workflow)
    assert len(long) == 100 and long.endswith("…")
    assert fit_description("", workflow) == "Run the OpenCode command /long"
    assert fit_description("  Two\nlines ", Workflow("agent", "plan")) == "Two"


def _many(kind: str, count: int) -> list[Workflow]:
    return [Workflow(kind, f"{kind}{n:03}", f"{kind} number {n}") for n in range(count)]  # type: ignore[arg-type]


def test_builtins_always_fit_then_agents_commands_mcp_prompts_skills(
    caplog: pytest.LogCaptureFixture,
) -> None:
    workflows = [*_many("skill", 40), *_many("mcp-prompt", 20), *_many("cmd", 40), *_many("agent", 5)]
    with caplog.at_level(logging.INFO, logger="kimaki_tui.core.workflows"):
        plan = plan_commands(workflows, taken=BUILT_INS)
    assert len(plan.commands) + len(BUILT_INS) == 100
    kinds = [c.workflow.kind for c in plan.commands]
    assert kinds == ["agent"] * 5 + ["cmd"] * 40 + ["mcp-prompt"] * 20 + ["skill"] * 5
    assert len(plan.dropped) == 35 and {w.kind for w in plan.dropped} == {"skill"}
    assert "skill035" in caplog.text  # each dropped one is logged
    assert plan.commands[0].name == "agent000-agent"


def test_no_room_at_all_keeps_only_the_builtins() -> None:
    plan = plan_commands(_many("agent", 3), taken=[f"b{n}" for n in range(100)])
    assert plan.commands == () and len(plan.dropped) == 3


def test_a_name_clashing_with_a_builtin_or_another_command_is_dropped() -> None:
    workflows = [Workflow("cmd", "Deploy"), Workflow("cmd", "deploy"), Workflow("cmd", "queue")]
    plan = plan_commands(workflows, taken=["queue-cmd"])
    assert [c.name for c in plan.commands] == ["deploy-cmd"]
    assert {w.name for w in plan.dropped} == {"deploy", "queue"}


def test_the_skill_filter_enables_or_disables_by_name() -> None:
    skills = [Workflow("skill", "tidy"), Workflow("skill", "lint"), Workflow("cmd", "tidy")]
    only = plan_commands(skills, taken=[], skills=SkillFilter(enabled=frozenset({"tidy"})))
    assert [c.name for c in only.commands] == ["tidy-cmd", "tidy-skill"]
    without = plan_commands(skills, taken=[], skills=SkillFilter(disabled=frozenset({"tidy"})))
    assert [c.name for c in without.commands] == ["tidy-cmd", "lint-skill"]
    assert only.dropped == () and without.dropped == ()  # filtered out is not "dropped"


def test_workflows_come_from_primary_agents_and_each_commands_source() -> None:
    agents = [
        Agent(name="build", mode="primary"),
        Agent(name="general", mode="subagent"),
        Agent(name="title", mode="primary", hidden=True),
        Agent(name="reviewer", mode="all", description="Reviews"),
    ]
    commands = [
        Command(name="init", source="command"),
        Command(name="old", source=""),
        Command(name="prompt", source="mcp"),
        Command(name="tidy", source="skill"),
        Command(name="future", source="something-new"),
    ]
    found = workflows_of(agents, commands)
    assert [(w.kind, w.name) for w in found] == [
        ("agent", "build"),
        ("agent", "reviewer"),
        ("cmd", "init"),
        ("cmd", "old"),
        ("mcp-prompt", "prompt"),
        ("skill", "tidy"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/review", ("review", "")),
        ("/greet Bob and Alice", ("greet", "Bob and Alice")),
        ("  /greet  multi\nline  ", ("greet", "multi\nline")),
        ("/my:cmd x", ("my:cmd", "x")),
        ("hello /greet", None),
        ("/", None),
        ("// comment", None),
        ("/ space", None),
    ],
)
def test_which_text_names_a_command(text: str, expected: tuple[str, str] | None) -> None:
    assert split_command(text) == expected


def test_command_text_round_trips() -> None:
    assert command_text("greet") == "/greet"
    assert split_command(command_text("greet", "Bob")) == ("greet", "Bob")
