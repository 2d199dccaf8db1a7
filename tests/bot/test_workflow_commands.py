"""OpenCode workflows as slash commands, with real OpenCode, the real bot and the Discord twin: a
project with a custom command, a skill, an agent and an MCP server of its own gets `/greet-cmd`,
`/tidy-up-skill`, `/reviewer-agent`, `/wizard-summon-mcp-prompt` (beside OpenCode's own); running
one reaches OpenCode as that command or agent (the scripted model answers what the command's
template says), in a new thread from the channel or in the thread's session, queued behind a
running answer; a message `/greet …` runs it too."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from kimaki_tui.opencode.status import ServerStatus
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.testing.discord_twin import Channel, Message
from tests.bot.rig import BotRig, bot_rig_context
from tests.harness import FIXTURES, git_init

pytestmark = pytest.mark.opencode

GREET = "---\ndescription: Greet someone warmly\n---\nREPLY: greeted $ARGUMENTS\n"
SKILL = "---\nname: tidy-up\ndescription: Tidy the project files\n---\nREPLY: tidied up\n"
AGENT = "---\ndescription: Reviews code carefully\nmode: primary\n---\nYou review code.\n"


def add_workflows(project: Path) -> None:
    """A command, a skill, an agent and an MCP server with one prompt (`wizard:summon`)."""
    server = [sys.executable, str(FIXTURES / "mcp/prompt_server.py")]
    (project / "opencode.json").write_text(
        json.dumps({"mcp": {"wizard": {"type": "local", "command": server}}})
    )
    (project / ".opencode/command").mkdir(parents=True, exist_ok=True)
    (project / ".opencode/command/greet.md").write_text(GREET)
    (project / ".opencode/skill/tidy-up").mkdir(parents=True, exist_ok=True)
    (project / ".opencode/skill/tidy-up/SKILL.md").write_text(SKILL)
    (project / ".opencode/agent").mkdir(parents=True, exist_ok=True)
    (project / ".opencode/agent/reviewer.md").write_text(AGENT)


@pytest.fixture
async def rig(
    project_dir: Path, make_bot_rig: Callable[..., AbstractAsyncContextManager[BotRig]]
) -> AsyncIterator[BotRig]:
    add_workflows(project_dir)
    async with make_bot_rig() as started:
        await started.twin.wait_until(
            lambda: any(c.name == "greet-cmd" for c in started.twin.commands(started.guild)),
            30,
            "the workflow commands",
        )
        yield started


async def _reply(rig: BotRig, thread: Channel, text: str, after: Message | None = None) -> None:
    """The model's answer `text` (OpenCode adds the skill's folder after a skill's own text)."""
    await rig.wait_bot_message(thread, lambda m: m.content.startswith(f"⬥ {text}"), timeout=60, after=after)


async def _agents_of(rig: BotRig, thread: Channel) -> list[str]:
    view = rig.core.conversations.get(str(thread.id))
    assert view is not None and view.session_id is not None
    messages = await rig.core.client.messages(view.session_id, view.directory)
    return [m.info.agent for m in messages if m.info.role == "assistant"]


async def test_the_projects_workflows_are_registered_with_the_builtins(rig: BotRig) -> None:
    commands = {c.name: c for c in rig.twin.commands(rig.guild)}
    wanted = (
        "greet-cmd",
        "review-cmd",
        "tidy-up-skill",
        "reviewer-agent",
        "plan-agent",
        "wizard-summon-mcp-prompt",
    )
    for name in wanted:
        assert name in commands, sorted(commands)
    assert "build-agent" in commands and "general-agent" not in commands  # subagents are not offered
    assert {"queue-command", "queue", "session", "abort"} <= set(commands)
    assert len(commands) <= 100
    greet = commands["greet-cmd"].schema
    assert greet["description"] == "Greet someone warmly"
    assert [o["name"] for o in greet["options"]] == ["arguments"]
    assert [o["name"] for o in commands["reviewer-agent"].schema["options"]] == ["prompt"]
    assert all(len(c.schema["description"]) <= 100 for c in commands.values())


async def test_a_command_in_the_channel_starts_a_thread_that_runs_it(rig: BotRig) -> None:
    inter = await rig.users.owner.slash(rig.channel, "greet-cmd", arguments="Bob")
    answer = await inter.wait_response(timeout=30)
    assert answer.ephemeral and answer.content.startswith("Started")
    thread = await rig.wait_thread()
    await _reply(rig, thread, "greeted Bob")  # only OpenCode's command template says that
    await rig.wait_idle(thread)


async def test_in_a_busy_thread_the_command_waits_for_the_answer(rig: BotRig) -> None:
    await rig.user_says("owner", "SLOW:3 a slow first answer")
    thread = await rig.wait_thread()
    runtime = rig.core.conversations.runtime(str(thread.id))
    await rig.twin.wait_until(lambda: runtime.busy, 30, "the slow turn")
    inter = await rig.users.owner.slash(thread, "greet-cmd", arguments="Alice")
    answer = await inter.wait_response(timeout=30)
    assert answer.content.startswith("Queued (position 1)") and not answer.ephemeral
    await _reply(rig, thread, "greeted Alice")
    transcript = rig.transcript(thread)
    assert "aborted" not in transcript.lower()  # the slow answer was not interrupted
    await rig.wait_idle(thread)


async def test_a_message_naming_a_command_runs_it_and_other_slashes_are_prompts(rig: BotRig) -> None:
    starter = await rig.user_says("owner", "/greet Carol")
    thread = await rig.wait_thread(predicate=lambda t: t.id == starter.id)
    await _reply(rig, thread, "greeted Carol")
    await rig.wait_idle(thread)
    said = await rig.user_says("owner", "/tidy-up", thread)  # a skill is one of OpenCode's commands
    await _reply(rig, thread, "tidied up", after=said)
    await rig.wait_idle(thread)
    said = await rig.user_says("owner", "/nothing-like-this here", thread)
    await _reply(rig, thread, "Echo: /nothing-like-this here", after=said)
    await rig.wait_idle(thread)


async def test_skill_and_queue_command_in_a_thread(rig: BotRig) -> None:
    await rig.user_says("owner", "REPLY: ready")
    thread = await rig.wait_thread()
    await _reply(rig, thread, "ready")
    await rig.wait_idle(thread)
    choices = await rig.users.owner.autocomplete(thread, "queue-command", "command", "gre")
    assert [c["value"] for c in choices] == ["greet"]
    assert choices[0]["name"] == "/greet [cmd] - Greet someone warmly"
    inter = await rig.users.owner.slash(thread, "queue-command", command="greet", arguments="Eve")
    answer = await inter.wait_response(timeout=30)
    assert answer.content.startswith("» **owner:** /greet Eve")
    await _reply(rig, thread, "greeted Eve")
    await rig.wait_idle(thread)
    inter = await rig.users.owner.slash(thread, "tidy-up-skill")
    await inter.wait_response(timeout=30)
    await _reply(rig, thread, "tidied up")
    await rig.wait_idle(thread)
    unknown = await rig.users.owner.slash(thread, "queue-command", command="no-such-command")
    refused = await unknown.wait_response(timeout=30)
    assert "no command `/no-such-command`" in refused.content


async def test_an_agent_command_starts_a_thread_with_that_agent_and_switches_in_one(rig: BotRig) -> None:
    inter = await rig.users.owner.slash(rig.channel, "reviewer-agent", prompt="REPLY: looked at it")
    answer = await inter.wait_response(timeout=30)
    assert "reviewer" in answer.content
    thread = await rig.wait_thread()
    await _reply(rig, thread, "looked at it")
    await rig.wait_idle(thread)
    assert await _agents_of(rig, thread) == ["reviewer"]
    said = await rig.user_says("owner", "REPLY: again", thread)  # the thread keeps its agent
    await _reply(rig, thread, "again", after=said)
    await rig.wait_idle(thread)
    switch = await rig.users.owner.slash(thread, "plan-agent")
    switched = await switch.wait_response(timeout=30)
    assert "`plan`" in switched.content
    said = await rig.user_says("owner", "REPLY: planned", thread)
    await _reply(rig, thread, "planned", after=said)
    await rig.wait_idle(thread)
    assert await _agents_of(rig, thread) == ["reviewer", "reviewer", "plan"]


async def test_an_mcp_prompt_runs_through_opencode(rig: BotRig) -> None:
    inter = await rig.users.owner.slash(rig.channel, "wizard-summon-mcp-prompt", arguments="Merlin")
    await inter.wait_response(timeout=30)
    thread = await rig.wait_thread()
    await _reply(rig, thread, "summoned Merlin")  # the MCP server's prompt, filled in by OpenCode
    await rig.wait_idle(thread)


async def test_someone_without_access_runs_no_workflow(rig: BotRig) -> None:
    inter = await rig.users.member.slash(rig.channel, "greet-cmd", arguments="Mallory")
    answer = await inter.wait_response(timeout=30)
    assert answer.ephemeral and "Kimaki" in answer.content
    agent = await rig.users.member.slash(rig.channel, "reviewer-agent", prompt="hi")
    assert "Kimaki" in (await agent.wait_response(timeout=30)).content
    await rig.settle()
    assert rig.twin.threads(rig.channel) == []


async def test_new_workflows_are_registered_on_refresh_and_unchanged_ones_cost_no_put(rig: BotRig) -> None:
    assert rig.bot is not None
    (rig.project_dir / ".opencode/command/deploy.md").write_text(
        "---\ndescription: Ship it\n---\nREPLY: shipped\n"
    )
    await rig.core.client.dispose_instance(rig.project_dir)  # as a restarted OpenCode would read it
    before = len(rig.twin.requests)
    await rig.bot.guild_keeper.refresh_commands()
    assert any(c.name == "deploy-cmd" for c in rig.twin.commands(rig.guild))
    puts = [r for r in rig.twin.requests[before:] if r.method == "PUT" and "/commands" in r.path]
    assert len(puts) == 1
    before = len(rig.twin.requests)
    await rig.bot.guild_keeper.refresh_commands()
    calls = [r for r in rig.twin.requests[before:] if "/commands" in r.path]
    assert [r.method for r in calls] == ["GET"]


@pytest.fixture
def workflow_files(project_dir: Path) -> None:
    add_workflows(project_dir)


async def test_a_command_message_runs_on_each_supported_opencode(
    workflow_files: None, versioned_bot_rig: BotRig
) -> None:
    rig = versioned_bot_rig
    starter = await rig.user_says("owner", "/greet Zoe")
    thread = await rig.wait_thread(predicate=lambda t: t.id == starter.id)
    await _reply(rig, thread, "greeted Zoe")
    await rig.wait_idle(thread)
    assert any(c.name == "greet-cmd" for c in rig.twin.commands(rig.guild))


async def test_linking_another_project_adds_its_workflows_and_unlinking_removes_them(
    rig: BotRig, tmp_path: Path
) -> None:
    other = git_init(tmp_path / "other-project")
    (other / ".opencode/command").mkdir(parents=True)
    (other / ".opencode/command/other.md").write_text("REPLY: other $ARGUMENTS\n")
    channel = rig.guild.add_text_channel("other-project", category=rig.category)

    def registered() -> set[str]:
        return {c.name for c in rig.twin.commands(rig.guild)}

    rig.core.projects.link(str(channel.id), str(rig.guild.id), str(other))
    await rig.twin.wait_until(lambda: "other-cmd" in registered(), 30, "the other project's command")
    assert "greet-cmd" in registered()  # the first project's stay
    assert rig.core.projects.unlink(str(channel.id))
    await rig.twin.wait_until(lambda: "other-cmd" not in registered(), 30, "the command to go")


@pytest.fixture
async def own_server(
    opencode_binary: str, spare_opencode_env: dict[str, str], tmp_path: Path
) -> AsyncIterator[OpenCodeSupervisor]:
    """A server of its own, that this test stops (never the shared one)."""
    supervisor = OpenCodeSupervisor(
        binary=opencode_binary, env=spare_opencode_env, cwd=tmp_path, health_timeout=60.0
    )
    await supervisor.start()
    yield supervisor
    await supervisor.aclose()


async def test_while_opencode_is_down_the_commands_stay_and_follow_once_it_is_healthy(
    own_server: OpenCodeSupervisor, project_dir: Path, tmp_path: Path
) -> None:
    add_workflows(project_dir)
    async with bot_rig_context(own_server.client, project_dir, tmp_path) as rig:

        def registered() -> set[str]:
            return {c.name for c in rig.twin.commands(rig.guild)}

        await rig.twin.wait_until(lambda: "greet-cmd" in registered(), 30, "the workflow commands")
        (project_dir / ".opencode/command/later.md").write_text("REPLY: later\n")
        await own_server.stop()
        before = len(rig.twin.requests)
        await rig.restart_bot()  # kimaki starts again while OpenCode is down
        # Sending without OpenCode's workflows would delete them from the server: nothing is sent.
        assert not [r for r in rig.twin.requests[before:] if r.method == "PUT"]
        assert "greet-cmd" in registered()
        await own_server.start()
        rig.core.server.report(ServerStatus("healthy"))  # as the root relays the supervisor's news
        await rig.twin.wait_until(lambda: "later-cmd" in registered(), 30, "the commands after the outage")
        assert "greet-cmd" in registered()
