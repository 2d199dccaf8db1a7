"""Wires the control center into a run: its model, the setup wizard, and starting the bot.

Part of the composition root (app.py): it may import both the screens and the bot, which never
import each other. The app runs in the same loop as the bot; a SIGTERM or SIGUSR2 closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from kimaki_tui.core.events import ChatStatus

if TYPE_CHECKING:
    from kimaki_tui.app import RunOptions, Session

log = logging.getLogger(__name__)


async def run_tui(session: Session, token: str | None, options: RunOptions, *, chat: Any = None) -> int:
    """Run the control center until it quits or the session stops; `chat` (a ChatWorld, `kimaki
    demo` only) adds the Discord view."""
    from kimaki_tui.logs import ring_handler
    from kimaki_tui.screens.app import KimakiApp
    from kimaki_tui.screens.model import ControlCenterModel

    runtime = session.runtime
    wizard = token is None or options.restart_onboarding or options.add_channels
    scheduler = session.scheduler
    model = ControlCenterModel(
        core=runtime.core,
        settings=session.settings,
        log_ring=ring_handler(),
        server_status=runtime.server_status,
        discord_status=session.worker.status
        if session.worker
        else ChatStatus("connecting" if token else "stopped"),
        add_project=lambda directory: add_project(session, directory),
        needs_setup=wizard,
        setup=_setup_controller(session, options) if wizard else None,
        after_setup=lambda result: _after_setup(session, result),
        chat=chat,
        scheduler_status=scheduler.status_text() if scheduler is not None else None,
    )
    if scheduler is not None:
        scheduler.on_change.append(lambda: setattr(model, "scheduler_status", scheduler.status_text()))
    app = KimakiApp(model)
    closer = asyncio.create_task(_close_on_stop(session, app))
    if token:
        # Importing and starting discord.py blocks the loop for a moment: draw the dashboard first.
        app.call_later(lambda: app.call_after_refresh(session.start_bot, token))
    try:
        await app.run_async()
    finally:
        closer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await closer
    return 0


async def _close_on_stop(session: Session, app: Any) -> None:
    await session.stop.wait()
    app.exit()


def _setup_controller(session: Session, options: RunOptions) -> Any:
    from kimaki_tui.migrate_kimaki import KimakiOffer
    from kimaki_tui.secrets import SecretStore
    from kimaki_tui.setup.controller import SetupController, Step
    from kimaki_tui.setup.projects import known_projects

    runtime = session.runtime
    secrets = SecretStore(session.settings.data_dir, allow_file=options.allow_secrets_file)
    return SetupController(
        secrets,
        known_projects=lambda: known_projects(runtime.core.projects),
        link=runtime.core.projects.link,
        linked_directories=lambda: {c.directory for c in runtime.core.projects.links()},
        approve_guild=lambda guild_id: runtime.core.guilds.allow(guild_id, by="setup wizard"),
        start=Step.PROJECTS if options.add_channels else Step.CREATE_APP,
        kimaki=KimakiOffer.find(session.settings.data_dir, session.settings.db_path, secrets),
    )


async def _after_setup(session: Session, result: Any) -> None:
    """The wizard saved a token: start (or keep) the bot with it."""
    from kimaki_tui.logs import register_secret
    from kimaki_tui.secrets import SecretStore

    if not getattr(result, "completed", False):
        return
    token = SecretStore(session.settings.data_dir).get_bot_token()
    if token:
        register_secret(token)
        session.start_bot(token)


async def add_project(session: Session, directory: str) -> str | None:
    """Link a directory: create its channel in the bot's first server when Discord is connected."""
    worker = session.worker
    bot = worker.bot if worker else None
    allowed = session.runtime.core.guilds.allowed
    guild = next((g for g in bot.guilds if allowed(g.id)), None) if bot is not None else None
    if bot is None or guild is None:
        session.runtime.core.projects.add(directory)
        return f"Added {directory}; its Discord channel is created once the bot is connected to a server."
    from kimaki_tui.bot.channels import create_project_channel

    channel = await create_project_channel(bot, guild, directory)
    return f"Added {directory} as #{channel.name} in {guild.name}"
