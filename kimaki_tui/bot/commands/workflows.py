"""The user's OpenCode workflows as slash commands of each server: `/<agent>-agent [prompt]`,
`/<name>-cmd`, `/<name>-mcp-prompt` and `/<name>-skill` `[arguments]` (which ones, their names and
the 100-command cap: `core.workflows`), and `/queue-command command arguments`.

In a project channel they start a thread; in a session thread they run in its session, queued
behind a running answer (never interrupting it). A command runs as the prompt `/name arguments`,
which the core sends through OpenCode's command route.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from kimaki_tui.bot.access import display_name
from kimaki_tui.bot.commands.common import (
    NO_SESSION_TEXT,
    Place,
    bot_of,
    enter,
    enter_session_thread,
    locate,
    permitted,
    say,
)
from kimaki_tui.bot.commands.picker import clip
from kimaki_tui.bot.commands.queue import send_or_queue
from kimaki_tui.bot.commands.session import open_thread
from kimaki_tui.core.prompts import PromptInput
from kimaki_tui.core.workflows import CommandPlan, SlashCommand, Workflow, command_text
from kimaki_tui.opencode.errors import OpenCodeError

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

WORKFLOW = "kimaki_workflow"  # the key of a dynamic command's extras holding its Workflow
CHOICES_MAX = 25
_KIND_LABEL = {"cmd": "cmd", "mcp": "mcp", "skill": "skill", "command": "cmd", "": "cmd"}


def unknown_command_text(name: str) -> str:
    return f"OpenCode has no command `/{name}` in this project (see `/queue-command` for the ones it has)."


def _prompt(interaction: discord.Interaction, text: str) -> PromptInput:
    user = interaction.user
    return PromptInput(text, author_id=str(user.id), author_name=display_name(user), origin="discord")


def _workflow(interaction: discord.Interaction) -> Workflow:
    command = interaction.command
    workflow = command.extras.get(WORKFLOW) if command is not None else None
    assert isinstance(workflow, Workflow), "a workflow command without its workflow"
    return workflow


async def _defer(interaction: discord.Interaction, place: Place) -> None:
    """In a thread the reply is the » line everyone sees; in the channel, a note to the user."""
    await interaction.response.defer(ephemeral=place.thread_id is None, thinking=True)


# ---- the dynamic commands' callbacks (one function each kind; the command carries its workflow) ----


@app_commands.describe(prompt="What to ask this agent (leave empty to only switch to it)")
async def run_agent(
    interaction: discord.Interaction, prompt: app_commands.Range[str, 1, 6000] | None = None
) -> None:
    entered = await enter(interaction)
    if entered is None:
        return
    bot, place = entered
    agent = _workflow(interaction).name
    await _defer(interaction, place)
    preferences, conversations = bot.core.preferences, bot.core.conversations
    view = conversations.get(place.thread_id) if place.thread_id else None
    if view is not None:
        await preferences.choose(
            "agent", agent, "session", channel_id=place.channel_id, thread_id=view.thread_id
        )
        if prompt:
            await send_or_queue(interaction, bot, view, _prompt(interaction, prompt))
        else:
            await say(interaction, f"✅ Agent `{agent}` for this session — the next message uses it.")
        return
    if place.thread_id is not None:
        await say(interaction, NO_SESSION_TEXT)
        return
    if not prompt:
        await preferences.choose("agent", agent, "channel", channel_id=place.channel_id)
        await say(interaction, f"✅ Agent `{agent}` for <#{place.channel_id}> — new threads there use it.")
        return
    thread = await open_thread(interaction, bot, place, prompt)
    if thread is None:
        return
    thread_id = str(thread.id)
    await conversations.ensure_session(thread_id)
    await preferences.choose("agent", agent, "session", channel_id=place.channel_id, thread_id=thread_id)
    await conversations.submit(thread_id, _prompt(interaction, prompt))
    await say(interaction, f"Started {thread.mention} with the `{agent}` agent.")


@app_commands.describe(arguments="What the command gets as its arguments")
async def run_command(
    interaction: discord.Interaction, arguments: app_commands.Range[str, 1, 6000] | None = None
) -> None:
    entered = await enter(interaction)
    if entered is None:
        return
    bot, place = entered
    name = _workflow(interaction).name
    await _defer(interaction, place)
    await start_command(interaction, bot, place, command_text(name, arguments or ""))


async def start_command(interaction: discord.Interaction, bot: KimakiBot, place: Place, text: str) -> None:
    """Run `/name arguments` here: in the thread's session (queued when busy), or in a new thread."""
    name = text[1:].split(maxsplit=1)[0]
    try:
        known = await bot.core.workflows.known_command(place.directory, name)
    except OpenCodeError as exc:
        await say(interaction, f"OpenCode did not answer: {exc}")
        return
    if known is None:
        await say(interaction, unknown_command_text(name))
        return
    view = bot.core.conversations.get(place.thread_id) if place.thread_id else None
    if view is not None:
        await send_or_queue(interaction, bot, view, _prompt(interaction, text))
        return
    if place.thread_id is not None:
        await say(interaction, NO_SESSION_TEXT)
        return
    thread = await open_thread(interaction, bot, place, text)
    if thread is not None:
        await bot.core.conversations.submit(str(thread.id), _prompt(interaction, text))
        await say(interaction, f"Started {thread.mention}.")


def app_command(entry: SlashCommand) -> app_commands.Command[Any, ..., None]:
    """The discord.py command for one planned workflow command."""
    callback = run_agent if entry.workflow.kind == "agent" else run_command
    command: app_commands.Command[Any, ..., None] = app_commands.Command(
        name=entry.name, description=entry.description, callback=callback, extras={WORKFLOW: entry.workflow}
    )
    command.guild_only = True
    return command


async def install(bot: KimakiBot, guild_id: int) -> CommandPlan | None:
    """Put the server's workflow commands (from the projects linked there) in the command tree,
    replacing the ones it had; None, and the tree left as it was, when OpenCode cannot say (the
    caller then sends nothing: that would delete the server's workflow commands)."""
    directories = [link.directory for link in bot.core.projects.links(str(guild_id))]
    built_in = [command.name for command in bot.tree.get_commands()]
    try:
        plan = await bot.core.workflows.plan(directories, taken=built_in)
    except OpenCodeError as exc:
        log.warning("no OpenCode workflows for server %s yet (sent once it is healthy): %s", guild_id, exc)
        return None
    target = discord.Object(guild_id)
    bot.tree.clear_commands(guild=target)
    for entry in plan.commands:
        bot.tree.add_command(app_command(entry), guild=target)
    if plan.dropped:
        log.warning(
            "server %s: %d OpenCode workflow(s) got no slash command (Discord allows %d commands)",
            guild_id, len(plan.dropped), 100,
        )  # fmt: skip
    return plan


class WorkflowsCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="queue-command",
        description="Run an OpenCode command in this thread once the current answer ends",
    )
    @app_commands.describe(command="The OpenCode command", arguments="What the command gets as its arguments")
    @app_commands.guild_only()
    async def queue_command(
        self,
        interaction: discord.Interaction,
        command: app_commands.Range[str, 1, 100],
        arguments: app_commands.Range[str, 1, 6000] | None = None,
    ) -> None:
        entered = await enter_session_thread(interaction)
        if entered is None:
            return
        bot, _view = entered
        place = locate(bot, interaction.channel)
        assert place is not None  # enter_session_thread found it
        await interaction.response.defer(thinking=True)
        await start_command(
            interaction, bot, place, command_text(command.strip().lstrip("/"), arguments or "")
        )

    @queue_command.autocomplete("command")
    async def command_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        bot = bot_of(interaction)
        place = locate(bot, interaction.channel)
        if place is None or permitted(bot, interaction.user) is not None:
            return []
        try:
            found = await bot.core.workflows.commands(place.directory)
        except OpenCodeError as exc:
            log.warning("listing OpenCode's commands of %s failed: %s", place.directory, exc)
            return []
        typed = current.strip().lstrip("/").lower()
        matches = [c for c in found if typed in c.name.lower()][:CHOICES_MAX]
        return [
            app_commands.Choice(
                name=clip(f"/{c.name} [{_KIND_LABEL.get(c.source, c.source)}] - {c.description}"),
                value=c.name,
            )
            for c in matches
        ]


async def setup(bot: KimakiBot) -> None:
    await bot.add_cog(WorkflowsCog(bot))
