"""BotRig: the real KimakiBot on a real Core (shared OpenCode server, scripted model) against the
Discord twin, with a guild of users covering the access rules and a project channel linked to the
test's project directory. Tests act as Discord users and read what the bot posted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimaki_tui.bot.client import KimakiBot
from kimaki_tui.core.service import Core
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.root.build import turn_judge_options
from kimaki_tui.root.offline import open_secrets
from kimaki_tui.sandbox.api import SandboxBackend
from kimaki_tui.secrets import SecretStore
from kimaki_tui.settings import DiscordSettings, SandboxSettings, SessionSettings, Settings, VoiceSettings
from kimaki_tui.testing.discord_twin import Actor, Channel, DiscordTwin, Guild, Message, Perm, Role
from kimaki_tui.testing.discord_twin.rate_limits import RateLimits
from tests.core_rig import CoreRig

TOKEN = "bot-rig-token"


class TestBot(KimakiBot):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 s before re-identifying (a courtesy to real Discord); not here."""


class ErrorLog(logging.Handler):
    """Collects ERROR records from discord.* and kimaki_tui.bot.* (discord.py swallows handler errors)."""

    LOGGERS = ("discord", "kimaki_tui.bot")

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def install(self) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).addHandler(self)

    def remove(self) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).removeHandler(self)

    def lines(self) -> list[str]:
        formatter = logging.Formatter("%(name)s: %(message)s")
        return [formatter.format(record) for record in self.records]


@dataclass
class Users:
    owner: Actor
    admin: Actor
    manager: Actor
    kimaki_user: Actor
    member: Actor
    other_bot: Actor
    kimaki_role: Role
    no_kimaki_role: Role


@dataclass
class BotRig:
    twin: DiscordTwin
    core_rig: CoreRig
    guild: Guild
    category: Channel
    channel: Channel
    users: Users
    project_dir: Path
    settings: Settings
    secrets: SecretStore
    bot: KimakiBot | None = None
    _bot_task: asyncio.Task[None] | None = None
    _patch: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    @property
    def core(self) -> Core:
        return self.core_rig.core

    # ---- bot lifecycle ----------------------------------------------------------------------------
    async def start_bot(self, timeout: float = 15.0) -> KimakiBot:
        app_id = str(self.twin.app_id)
        bot = TestBot(self.core, settings=self.settings, secrets=self.secrets, app_id=app_id)
        self._patch.enter_context(self.twin.patch_discord())
        task = asyncio.create_task(bot.start(TOKEN))
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait({task, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            await bot.close()
            if task in done:
                task.result()
            raise TimeoutError("KimakiBot never became ready")
        self.bot, self._bot_task = bot, task
        return bot

    async def stop_bot(self) -> None:
        bot, task = self.bot, self._bot_task
        self.bot = self._bot_task = None
        if bot is not None:
            await bot.close()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._patch.close()

    async def restart_bot(self) -> KimakiBot:
        """Close the Discord client and start a NEW KimakiBot on the same core and twin."""
        await self.stop_bot()
        return await self.start_bot()

    # ---- acting ---------------------------------------------------------------------------------
    def user(self, name: str) -> Actor:
        return getattr(self.users, name)  # type: ignore[no-any-return]

    async def user_says(
        self,
        user: Actor | str,
        text: str,
        channel: Channel | None = None,
        *,
        attachments: Sequence[tuple[str, bytes, str | None]] = (),
    ) -> Message:
        actor = self.user(user) if isinstance(user, str) else user
        return await actor.send(channel or self.channel, text, attachments=list(attachments))

    # ---- reading --------------------------------------------------------------------------------
    async def wait_thread(
        self,
        parent: Channel | None = None,
        predicate: Callable[[Channel], bool] | None = None,
        timeout: float = 10.0,
    ) -> Channel:
        return await self.twin.wait_for_thread(parent or self.channel, timeout, predicate=predicate)

    async def wait_bot_message(
        self,
        channel: Channel,
        predicate: Callable[[Message], bool] = lambda m: True,
        timeout: float = 30.0,
        *,
        after: Message | int | None = None,
    ) -> Message:
        bot_id = self.twin.bot_user.id
        return await self.twin.wait_for_message(
            channel, lambda m: m.author.id == bot_id and predicate(m), timeout, after=after
        )

    async def wait_idle(self, thread: Channel, timeout: float = 30.0) -> None:
        """The thread's session finished its turn and the bot posted everything about it."""
        conversations = self.core.conversations
        # The thread appears in Discord a moment before the bot has opened its conversation.
        await self.twin.wait_until(
            lambda: conversations.get(str(thread.id)) is not None, timeout, "the bot to open the thread"
        )
        runtime = conversations.runtime(str(thread.id))
        # Not busy once OpenCode reports the session idle; the turn (and its footer) ends just after.
        await self.twin.wait_until(
            lambda: not runtime.busy and not runtime.turn_open, timeout, f"thread {thread.name} to go idle"
        )
        outbox = self.core.outbox
        await self.twin.wait_until(
            lambda: not outbox.waiting(str(thread.id)), timeout, f"the outbox of {thread.name} to drain"
        )
        await self.settle()

    def bot_messages(self, channel: Channel) -> list[Message]:
        return [m for m in self.twin.messages(channel) if m.author.id == self.twin.bot_user.id]

    def transcript(self, thread: Channel) -> str:
        return self.twin.transcript(thread)

    async def settle(self) -> None:
        """Let the bot post what it has queued."""
        if self.bot is not None and self.bot.output is not None:
            await self.bot.output.drain()


def build_guild(twin: DiscordTwin) -> tuple[Guild, Users]:
    owner = twin.add_user("owner")
    twin.set_application_owner(owner)  # the operator's own server: served without approval
    guild = twin.add_guild("Rig Guild", owner=owner)
    admins = guild.add_role("Admins", Perm.ADMINISTRATOR)
    managers = guild.add_role("Managers", Perm.MANAGE_GUILD)
    kimaki_role = guild.add_role("kimaki")
    no_kimaki = guild.add_role("no-kimaki")
    users = Users(
        owner=owner,
        admin=twin.add_user("admin"),
        manager=twin.add_user("manager"),
        kimaki_user=twin.add_user("kimaki-user"),
        member=twin.add_user("member"),
        other_bot=twin.add_user("other-bot", bot=True),
        kimaki_role=kimaki_role,
        no_kimaki_role=no_kimaki,
    )
    guild.add_member(users.admin, [admins])
    guild.add_member(users.manager, [managers])
    guild.add_member(users.kimaki_user, [kimaki_role])
    guild.add_member(users.member)
    guild.add_member(users.other_bot)
    return guild, users


def rig_settings(data_dir: Path, projects_dir: Path, **values: Any) -> Settings:
    """Settings for a bot in tests: each value goes to the `discord` or `voice` subtree that has it."""
    discord = {k: v for k, v in values.items() if k in DiscordSettings.__dataclass_fields__}
    voice = {k: v for k, v in values.items() if k in VoiceSettings.__dataclass_fields__}
    unknown = set(values) - set(discord) - set(voice)
    assert not unknown, f"not a discord or voice setting: {unknown}"
    return Settings(
        data_dir=data_dir,
        projects_dir=projects_dir,
        discord=DiscordSettings(**{"guild_ready_timeout": 0.05, **discord}),
        voice=VoiceSettings(**voice),
    )


@contextlib.asynccontextmanager
async def bot_rig_context(
    client: OpenCodeClient,
    project_dir: Path,
    tmp_path: Path,
    *,
    sessions: SessionSettings | None = None,
    start: bool = True,
    sandbox: tuple[SandboxSettings, SandboxBackend] | None = None,
    discord_limits: RateLimits | None = None,
    **bot_settings: Any,
) -> Any:
    """`bot_settings` are fields of the `discord` or `voice` settings (`allow_all_users=True`);
    `discord_limits` makes the twin enforce Discord's rate limits."""
    errors = ErrorLog()
    errors.install()
    try:
        async with DiscordTwin(bot_token=TOKEN, bot_name="Kimaki", discord_limits=discord_limits) as twin:
            guild, users = build_guild(twin)
            category = guild.add_category("Kimaki")
            channel = guild.add_text_channel(project_dir.name, category=category)
            settings = rig_settings(tmp_path / "data", tmp_path, **bot_settings)
            secrets = open_secrets(settings)
            database = tmp_path / "bot.sqlite"
            judge = turn_judge_options(settings)
            core = CoreRig(client, database, options=sessions, sandbox=sandbox, turn_judge=judge)
            async with core as core_rig:
                core_rig.core.projects.link(str(channel.id), str(guild.id), str(project_dir))
                rig = BotRig(twin, core_rig, guild, category, channel, users, project_dir, settings, secrets)
                try:
                    if start:
                        await rig.start_bot()
                    yield rig
                finally:
                    await rig.stop_bot()
            twin.assert_clean()
    finally:
        errors.remove()
    lines = errors.lines()
    assert not lines, "the bot logged errors:\n" + "\n".join(lines)


def custom_ids(message: Message) -> list[str]:
    """Every custom_id on the message's components, in order."""
    found: list[str] = []

    def walk(components: list[dict[str, Any]]) -> None:
        for comp in components:
            if comp.get("custom_id"):
                found.append(str(comp["custom_id"]))
            walk(comp.get("components") or [])

    walk(message.components)
    return found


def is_footer(message: Message) -> bool:
    return message.content.startswith("*") and message.content.endswith("*") and " · " in message.content
