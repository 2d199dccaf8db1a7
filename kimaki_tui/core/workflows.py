"""The user's OpenCode workflows — primary agents, commands, MCP prompts, skills — as the slash
commands a chat front end offers, and which prompt text runs an OpenCode command.

`plan_commands` is the rule (pure): names follow Discord's (lowercase `[a-z0-9-]`, at most 32
characters with the kind's suffix), descriptions fit in 100 characters, and under the cap the
built-ins come first, then agents, commands, MCP prompts and skills; what does not fit is dropped
and logged. `WorkflowService` reads what OpenCode offers in each project directory.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from kimaki_tui.opencode.catalog import Agent, Command
from kimaki_tui.opencode.client import OpenCodeClient

log = logging.getLogger(__name__)

WorkflowKind = Literal["agent", "cmd", "mcp-prompt", "skill"]
KIND_ORDER: tuple[WorkflowKind, ...] = ("agent", "cmd", "mcp-prompt", "skill")
NAME_MAX = 32
DESCRIPTION_MAX = 100
COMMAND_CAP = 100
# OpenCode's `source` of a command → the kind of slash command it becomes ("" on older servers).
_KIND_OF_SOURCE: dict[str, WorkflowKind] = {
    "": "cmd",
    "command": "cmd",
    "mcp": "mcp-prompt",
    "skill": "skill",
}
_DEFAULT_DESCRIPTION: dict[WorkflowKind, str] = {
    "agent": "Use the {name} agent",
    "cmd": "Run the OpenCode command /{name}",
    "mcp-prompt": "Run the MCP prompt {name}",
    "skill": "Use the skill {name}",
}
_COMMAND_TEXT = re.compile(r"/(?P<name>[^\s/][^\s]*)(?:\s+(?P<arguments>.*))?", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Workflow:
    """One thing OpenCode offers: `name` is OpenCode's own (what runs it)."""

    kind: WorkflowKind
    name: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class SlashCommand:
    """A workflow's slash command: its Discord-safe `name` and a description that fits."""

    name: str
    description: str
    workflow: Workflow


@dataclass(frozen=True, slots=True)
class CommandPlan:
    commands: tuple[SlashCommand, ...]
    dropped: tuple[Workflow, ...]


@dataclass(frozen=True, slots=True)
class SkillFilter:
    """`enabled` non-empty: only those skills; else every skill but the `disabled` ones."""

    enabled: frozenset[str] = frozenset()
    disabled: frozenset[str] = frozenset()

    def allows(self, name: str) -> bool:
        return name in self.enabled if self.enabled else name not in self.disabled


def slash_name(name: str, kind: WorkflowKind) -> str:
    """`name` in Discord's command alphabet with `-<kind>` appended, at most 32 characters;
    "" when nothing of the name is left."""
    base = re.sub(r"[^a-z0-9-]+", "-", name.lower())
    base = re.sub(r"-{2,}", "-", base).strip("-")
    base = base[: NAME_MAX - len(kind) - 1].rstrip("-")
    return f"{base}-{kind}" if base else ""


def fit_description(text: str, workflow: Workflow) -> str:
    """The first line of `text` (or a default), cut to Discord's 100 characters."""
    line = " ".join(text.strip().splitlines()[0].split()) if text.strip() else ""
    line = line or _DEFAULT_DESCRIPTION[workflow.kind].format(name=workflow.name)
    return line if len(line) <= DESCRIPTION_MAX else line[: DESCRIPTION_MAX - 1].rstrip() + "…"


def plan_commands(
    workflows: Iterable[Workflow],
    *,
    taken: Collection[str],
    cap: int = COMMAND_CAP,
    skills: SkillFilter = SkillFilter(),
) -> CommandPlan:
    """The slash commands for `workflows` next to the built-ins named in `taken` (which always
    fit): agents first, then commands, MCP prompts and skills, each kind by name; a name that
    clashes with one already planned, or anything past the cap, is dropped."""
    room = max(cap - len(taken), 0)
    used = set(taken)
    planned: list[SlashCommand] = []
    dropped: list[Workflow] = []
    ordered = sorted(workflows, key=lambda w: (KIND_ORDER.index(w.kind), w.name))
    for workflow in ordered:
        if workflow.kind == "skill" and not skills.allows(workflow.name):
            continue
        name = slash_name(workflow.name, workflow.kind)
        if not name or name in used or len(planned) >= room:
            dropped.append(workflow)
            continue
        used.add(name)
        planned.append(SlashCommand(name, fit_description(workflow.description, workflow), workflow))
    for workflow in dropped:
        log.info(
            "no slash command for OpenCode %s %r (name taken, unusable or over the cap)",
            workflow.kind,
            workflow.name,
        )
    return CommandPlan(tuple(planned), tuple(dropped))


def workflows_of(agents: Sequence[Agent], commands: Sequence[Command]) -> list[Workflow]:
    """Primary, visible agents and every command (by its source: command, MCP prompt or skill)."""
    found = [Workflow("agent", a.name, a.description) for a in agents if a.pickable]
    for command in commands:
        kind = _KIND_OF_SOURCE.get(command.source)
        if kind is not None:
            found.append(Workflow(kind, command.name, command.description))
    return found


def split_command(text: str) -> tuple[str, str] | None:
    """`/name arguments` → (name, arguments); None when the text does not start with `/name`."""
    match = _COMMAND_TEXT.fullmatch(text.strip())
    if match is None:
        return None
    return match["name"], (match["arguments"] or "").strip()


def command_text(name: str, arguments: str = "") -> str:
    """The prompt text that runs OpenCode command `name` (see `split_command`)."""
    return f"/{name} {arguments}".rstrip()


class WorkflowService:
    """What OpenCode offers in project directories, for the front ends' slash commands."""

    def __init__(self, client: OpenCodeClient, skills: SkillFilter = SkillFilter()) -> None:
        self._client = client
        self.skills = skills

    async def commands(self, directory: str) -> list[Command]:
        """OpenCode's commands there (its own, the project's, MCP prompts and skills)."""
        return await self._client.commands(directory)

    async def workflows(self, directories: Iterable[str]) -> list[Workflow]:
        """Every directory's workflows, each (kind, name) once."""
        seen: dict[tuple[str, str], Workflow] = {}
        for directory in dict.fromkeys(directories):
            agents = await self._client.agents(directory)
            commands = await self._client.commands(directory)
            for workflow in workflows_of(agents, commands):
                seen.setdefault((workflow.kind, workflow.name), workflow)
        return list(seen.values())

    async def plan(self, directories: Iterable[str], *, taken: Collection[str]) -> CommandPlan:
        return plan_commands(await self.workflows(directories), taken=taken, skills=self.skills)

    async def known_command(self, directory: str, name: str) -> Command | None:
        return next((c for c in await self._client.commands(directory) if c.name == name), None)
