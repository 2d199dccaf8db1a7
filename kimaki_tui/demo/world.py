"""The demo's Discord: a twin guild with the demo user (its owner), a "Kimaki" category and the
project's channel, linked to the project directory through the core once kimaki runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kimaki_tui.core.api import CoreApi
from kimaki_tui.demo.chat_adapter import TwinChat
from kimaki_tui.testing.discord_twin import Actor, Channel, DiscordTwin, Guild

DEMO_TOKEN = "kimaki-demo-bot-token"
DEMO_USER = "you"
GUILD_NAME = "Kimaki Demo"
INTRO = (
    "This is the project's channel in a local stand-in for Discord. Press m and type a message: it "
    "starts a thread and an OpenCode session, and the bot answers there.\n\n"
    "Tab reaches the bot's buttons and menus, Esc leaves the message box (the digits switch screens "
    "again), Ctrl+L picks a channel or thread, End jumps to the newest message, a line starting "
    "with / runs a slash command (/abort, /queue message=…)."
)
SCRIPTED_INTRO = INTRO + (
    "\n\nThe scripted model (no API key) understands:  hello → an echo  ·  RUN_BASH: ls -la → asks "
    "permission  ·  ASK_QUESTION → a menu  ·  SLOW:20 → a slow answer to /abort or /queue behind  ·  "
    "WRITE_FILE: notes.md hi  ·  LONG:3000"
)


@dataclass(frozen=True, slots=True)
class DemoWorld:
    twin: DiscordTwin
    guild: Guild
    user: Actor
    channel: Channel
    project: Path
    chat: TwinChat


def build_world(twin: DiscordTwin, project: Path, *, intro: str = INTRO) -> DemoWorld:
    """Create the guild, the user and the project channel (linked by `link_world`)."""
    user = twin.add_user(DEMO_USER)
    twin.set_application_owner(user)  # the demo user runs kimaki: their server is served at once
    guild = twin.add_guild(GUILD_NAME, owner=user)
    category = guild.add_category("Kimaki")
    channel = guild.add_text_channel(project.name, category=category)
    return DemoWorld(twin, guild, user, channel, project, TwinChat(twin, user, guild, [channel], intro))


def link_world(core: CoreApi, world: DemoWorld) -> None:
    """Link the project channel to the project folder, before anyone can write in it."""
    channel, guild = world.channel, world.guild
    core.projects.link(str(channel.id), str(guild.id), str(world.project), str(world.twin.app_id))
