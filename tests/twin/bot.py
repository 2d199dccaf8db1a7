"""A small real discord.py bot for the twin tests: views, a select, slash commands, a modal."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

SESSIONS = ["alpha-session", "alpine", "beta"]
T = TypeVar("T")


class ApprovalView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Accept", style=discord.ButtonStyle.green, custom_id="approval:accept")
    async def accept(self, interaction: discord.Interaction, button: discord.ui.Button[ApprovalView]) -> None:
        await interaction.response.edit_message(content=f"Accepted by {interaction.user.name}", view=None)

    @discord.ui.button(label="Deny", style=discord.ButtonStyle.red, custom_id="approval:deny")
    async def deny(self, interaction: discord.Interaction, button: discord.ui.Button[ApprovalView]) -> None:
        await interaction.response.send_message("Denied", ephemeral=True)


class ModelView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.select(
        custom_id="model",
        placeholder="Model",
        options=[
            discord.SelectOption(label="GPT", value="gpt"),
            discord.SelectOption(label="Claude", value="claude"),
        ],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[ModelView]) -> None:
        await interaction.response.send_message(f"model: {select.values[0]}", ephemeral=True)


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(
        label="Your feedback", custom_id="feedback:text"
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}")


@app_commands.command(name="queue", description="Queue a message")
async def queue_cmd(interaction: discord.Interaction, message: str, priority: int = 0) -> None:
    await interaction.response.send_message(f"queued: {message} (priority {priority})")


@app_commands.command(name="resume", description="Resume a session")
async def resume_cmd(interaction: discord.Interaction, session: str) -> None:
    await interaction.response.send_message(f"resuming {session}")


@resume_cmd.autocomplete("session")
async def resume_complete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=s, value=s) for s in SESSIONS if s.startswith(current)]


@app_commands.command(name="feedback", description="Send feedback")
async def feedback_cmd(interaction: discord.Interaction) -> None:
    await interaction.response.send_modal(FeedbackModal())


@app_commands.command(name="slow", description="Think, then answer")
async def slow_cmd(interaction: discord.Interaction) -> None:
    await interaction.response.defer(thinking=True)
    await interaction.followup.send("done thinking")


@app_commands.command(name="whoami", description="Show my permissions")
async def whoami_cmd(interaction: discord.Interaction) -> None:
    perms = interaction.permissions
    await interaction.response.send_message(
        f"admin={perms.administrator} manage={perms.manage_guild}", ephemeral=True
    )


session_group = app_commands.Group(name="session", description="Sessions")


@session_group.command(name="list", description="List sessions")
async def session_list(interaction: discord.Interaction, limit: int = 2) -> None:
    await interaction.response.send_message(", ".join(SESSIONS[:limit]))


class TwinTestBot(commands.Bot):
    """Records what it sees; answers `!thread`, `!ping`, `!file` so tests can drive it from a twin user."""

    def __init__(self, guild_id: int, *, message_content: bool = True, members: bool = False) -> None:
        intents = discord.Intents.default()
        intents.message_content = message_content
        intents.members = members
        super().__init__(command_prefix="?", intents=intents, guild_ready_timeout=0.1, help_command=None)
        self.guild_id = guild_id
        self.seen: list[discord.Message] = []
        self.typing: list[tuple[int, discord.abc.User]] = []  # (channel id, who) per on_typing
        self.ready_count = 0
        self._changed = asyncio.Event()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py sleeps 5 s before re-identifying (a real-Discord courtesy); not needed here."""

    async def setup_hook(self) -> None:
        guild = discord.Object(self.guild_id)
        cmds: list[app_commands.Command[Any, ..., Any] | app_commands.Group] = [
            queue_cmd,
            resume_cmd,
            feedback_cmd,
            slow_cmd,
            whoami_cmd,
            session_group,
        ]
        for cmd in cmds:
            self.tree.add_command(cmd, guild=guild)
        self.add_view(ApprovalView())
        await self.tree.sync(guild=guild)

    async def on_ready(self) -> None:
        self.ready_count += 1
        self._changed.set()

    async def on_typing(self, channel: discord.abc.Messageable, user: discord.abc.User, when: object) -> None:
        self.typing.append((getattr(channel, "id", 0), user))

    async def on_message(self, message: discord.Message) -> None:
        self.seen.append(message)
        self._changed.set()
        if message.author.bot:
            return
        if message.content == "!ping":
            await message.channel.send("pong")
        elif message.content == "!thread":
            thread = await message.create_thread(name="Session")
            await thread.send("thread started")
        elif message.content == "!echo-file" and message.attachments:
            data = await message.attachments[0].read()
            await message.channel.send(
                f"got {len(data)} bytes", file=discord.File(io.BytesIO(data), "echo.txt")
            )

    async def wait_seen(
        self, predicate: Callable[[discord.Message], bool], timeout: float = 5.0
    ) -> discord.Message:
        def check() -> discord.Message | None:
            return next((m for m in self.seen if predicate(m)), None)

        return await self._wait(check, timeout)

    async def wait_ready(self, count: int, timeout: float = 5.0) -> None:
        """on_ready fires again after a fresh IDENTIFY; closing before it races discord.py's ready task."""
        await self._wait(lambda: self.ready_count >= count or None, timeout)

    async def _wait(self, check: Callable[[], T | None], timeout: float) -> T:
        async def loop() -> T:
            while True:
                found = check()
                if found is not None:
                    return found
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(loop(), timeout)
