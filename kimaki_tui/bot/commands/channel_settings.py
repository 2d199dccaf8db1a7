"""/mention-mode, /verbosity, /turn-routing, /auto-worktrees and /sandbox: the project channel's
own setting, kept by the core (in a thread they set the thread's channel); "default" forgets the
channel's choice (the flag applies). Mention mode on: only messages that mention the bot or start
with `!` start a thread there. Verbosity: which tool lines its threads show, running answers
included. Turn routing: which messages in its threads get an answer (the rest is context for the
session). Auto-worktrees: whether each new thread gets its own git worktree. Sandbox: whether its
new threads run on the shared OpenCode server or each in a sandbox of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from kimaki_tui.bot.commands.common import enter, say

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

MentionChoice = Literal["on", "off", "default"]
SandboxChoice = Literal["none", "bwrap", "podman", "default"]
RoutingChoice = Literal["off", "heuristic", "ai", "default"]
ROUTING_MEANING = {
    "off": "every message in its threads gets an answer",
    "heuristic": "thanks and messages addressed to someone else are context for the session, not prompts",
    "ai": "thanks and messages addressed to someone else are context; a small model decides about the rest",
}
VerbosityChoice = Literal["tools_and_text", "text_and_essential_tools", "text_only", "default"]
VERBOSITY_MEANING = {
    "tools_and_text": "every tool line, and thinking",
    "text_and_essential_tools": "answers and the tools that change things (no reads or searches)",
    "text_only": "answers only",
}


def mention_mode_text(on: bool, *, own: bool) -> str:
    source = "" if own else " (the global default)"
    if on:
        return (
            f"Mention mode is **on** here{source}: only messages that mention me or start with `!` "
            "start a thread."
        )
    return f"Mention mode is **off** here{source}: every message starts a thread."


def sandbox_refusal(mode: SandboxChoice, backend: str | None) -> str | None:
    """Why a channel cannot have that sandbox mode here (this run sandboxes with one backend)."""
    if mode in ("none", "default") or mode == backend:
        return None
    if backend is not None:
        return f"This kimaki sandboxes threads with {backend}; start it with `--sandbox {mode}` for {mode}."
    if mode == "bwrap":
        return (
            "Sandboxes need bubblewrap on the machine kimaki runs on (`apt-get install bubblewrap`), "
            "then a restart of kimaki."
        )
    return "Podman sandboxes need kimaki started with `--sandbox podman` (see the README, Sandboxes)."


class ChannelSettingsCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="mention-mode",
        description="Start threads here only for messages that mention me or start with !",
    )
    @app_commands.describe(mode="on, off, or default (the global --mention-mode)")
    @app_commands.guild_only()
    async def mention_mode(self, interaction: discord.Interaction, mode: MentionChoice) -> None:
        entered = await enter(interaction)
        if entered is None:
            return
        bot, place = entered
        preferences = bot.core.preferences
        preferences.set_mention_mode(place.channel_id, None if mode == "default" else mode == "on")
        on = preferences.mention_mode(place.channel_id, default=bot.settings.discord.mention_mode)
        await say(interaction, mention_mode_text(on, own=mode != "default"), ephemeral=False)

    @app_commands.command(
        name="auto-worktrees", description="Give each new thread in this channel its own git worktree"
    )
    @app_commands.describe(mode="on, off, or default (the global --use-worktrees)")
    @app_commands.guild_only()
    async def auto_worktrees(self, interaction: discord.Interaction, mode: MentionChoice) -> None:
        entered = await enter(interaction)
        if entered is None:
            return
        bot, place = entered
        preferences = bot.core.preferences
        preferences.set_worktrees(place.channel_id, None if mode == "default" else mode == "on")
        on = preferences.worktrees(place.channel_id, default=bot.settings.discord.use_worktrees)
        source = "" if mode != "default" else " (the global default)"
        if on:
            text = (
                f"Automatic worktrees are **on** here{source}: each new thread works in its own git "
                "worktree (branch `kimaki/…`, thread marked ⬦); /merge-worktree merges it back."
            )
        else:
            text = f"Automatic worktrees are **off** here{source}: new threads work in the project folder."
        await say(interaction, text, ephemeral=False)

    @app_commands.command(name="verbosity", description="Which tool lines this channel's threads show")
    @app_commands.describe(level="How much to show; default: follow --verbosity")
    @app_commands.guild_only()
    async def verbosity(self, interaction: discord.Interaction, level: VerbosityChoice) -> None:
        entered = await enter(interaction)
        if entered is None:
            return
        bot, place = entered
        preferences = bot.core.preferences
        preferences.set_verbosity(place.channel_id, None if level == "default" else level)
        now = preferences.verbosity(place.channel_id, default=bot.settings.discord.verbosity)
        source = " (the global default)" if level == "default" else ""
        text = f"Verbosity here is **{now}**{source}: {VERBOSITY_MEANING[now]}. Running answers follow it."
        await say(interaction, text, ephemeral=False)

    @app_commands.command(
        name="turn-routing", description="Which messages in this channel's threads get an answer"
    )
    @app_commands.describe(mode="off (all), heuristic, ai, or default (the global --turn-routing)")
    @app_commands.guild_only()
    async def turn_routing(self, interaction: discord.Interaction, mode: RoutingChoice) -> None:
        entered = await enter(interaction)
        if entered is None:
            return
        bot, place = entered
        routing = bot.core.routing
        routing.set_mode(place.channel_id, None if mode == "default" else mode)
        now = routing.mode(place.channel_id, default=bot.settings.discord.turn_routing)
        source = " (the global default)" if mode == "default" else ""
        meaning = ROUTING_MEANING[now]
        text = f"Turn routing here is **{now}**{source}: {meaning}. A mention of me is always answered."
        await say(interaction, text, ephemeral=False)

    @app_commands.command(name="sandbox", description="Where this channel's new threads run")
    @app_commands.describe(
        mode="none (the shared server), bwrap or podman (a sandbox each), or default (--sandbox)"
    )
    @app_commands.guild_only()
    async def sandbox(self, interaction: discord.Interaction, mode: SandboxChoice) -> None:
        entered = await enter(interaction)
        if entered is None:
            return
        bot, place = entered
        sandboxes = bot.core.sandboxes
        refusal = sandbox_refusal(mode, sandboxes.backend)
        if refusal is not None:
            await say(interaction, refusal)
            return
        sandboxes.set_mode(place.channel_id, None if mode == "default" else mode)
        now = sandboxes.mode(place.channel_id)
        source = " (the global default)" if mode == "default" else ""
        meaning = "on the shared OpenCode server" if now == "none" else f"each in its own {now} sandbox"
        await say(interaction, f"New threads here run **{meaning}**{source}.", ephemeral=False)


async def setup(bot: KimakiBot) -> None:
    await bot.add_cog(ChannelSettingsCog(bot))
