"""The demo's Discord: a twin guild with the demo user (its owner), a "Kimaki" category and the
project's channel, linked to the project directory in the demo's database."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kimaki_tui.demo.chat_adapter import TwinChat
from kimaki_tui.store.repo import Store
from kimaki_tui.testing.discord_twin import Actor, Channel, DiscordTwin, Guild

DEMO_TOKEN = "kimaki-demo-bot-token"
DEMO_USER = "you"
GUILD_NAME = "Kimaki Demo"
INTRO = (
    "This is the project's channel in a local stand-in for Discord. Type a message: it starts a thread "
    "and an OpenCode session, and the bot answers there.\n\n"
    "Tab reaches the bot's buttons and menus, Esc comes back here, Ctrl+L picks a channel or thread, "
    "a line starting with / runs a slash command (/abort, /queue message=…)."
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
    chat: TwinChat


def build_world(twin: DiscordTwin, project: Path, db_path: Path, *, intro: str = INTRO) -> DemoWorld:
    """Create the guild, the user and the project channel, and link the channel in the database."""
    user = twin.add_user(DEMO_USER)
    twin.set_application_owner(user)  # the demo user runs kimaki: their server is served at once
    guild = twin.add_guild(GUILD_NAME, owner=user)
    category = guild.add_category("Kimaki")
    channel = guild.add_text_channel(project.name, category=category)
    with Store.open(db_path) as store:
        store.link_channel(str(channel.id), str(guild.id), str(project), app_id=str(twin.app_id))
    return DemoWorld(twin, guild, user, channel, TwinChat(twin, user, guild, [channel], intro))
