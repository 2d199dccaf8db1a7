"""Running with the control center: its model, the setup wizard, and starting the bot once the
dashboard is drawn. The root may import both the screens and the bot, which never import each
other. The app runs in the same loop as the bot; a SIGTERM or SIGUSR2 closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from kimaki_tui.core.events import ChatStatus
from kimaki_tui.root.build import Services

if TYPE_CHECKING:
    from kimaki_tui.root.run import Wizard
    from kimaki_tui.screens.app import KimakiApp
    from kimaki_tui.screens.chat_model import ChatWorld
    from kimaki_tui.setup.controller import SetupController

log = logging.getLogger(__name__)


async def run_control_center(
    services: Services, token: str | None, *, wizard: Wizard | None = None, chat: ChatWorld | None = None
) -> int:
    """Run the control center until it quits or the run stops; `chat` (`kimaki demo` only) adds the
    Discord view. Without a token (or when asked) it opens on the setup wizard."""
    app = control_center(services, token, wizard=wizard, chat=chat)
    closer = asyncio.create_task(_close_on_stop(services, app))
    try:
        await app.run_async()
    finally:
        closer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await closer
    return 0


def control_center(
    services: Services, token: str | None, *, wizard: Wizard | None = None, chat: ChatWorld | None = None
) -> KimakiApp:
    """The control center on the run's services, not yet running; with a token the bot starts once
    its first frame is drawn, else (or when asked) it opens on the setup wizard."""
    from kimaki_tui.logs import ring_handler
    from kimaki_tui.screens.app import KimakiApp
    from kimaki_tui.screens.model import ControlCenterModel

    needs_wizard = token is None or wizard is not None
    scheduler = services.scheduler
    waiting = ChatStatus("connecting" if token else "stopped")
    discord = services.discord_status if services.worker else waiting
    model = ControlCenterModel(
        core=services.core,
        settings=services.settings,
        secrets=services.secrets,
        log_ring=ring_handler(),
        server_status=services.server_status,
        discord_status=discord,
        add_project=lambda directory: add_project(services, directory),
        channel_name=lambda channel_id: channel_name(services, channel_id),
        needs_setup=needs_wizard,
        setup=_setup_controller(services, wizard) if needs_wizard else None,
        after_setup=lambda result: _after_setup(services, result),
        chat=chat,
        scheduler_status=scheduler.status_text(),
    )
    scheduler.on_change.append(lambda: setattr(model, "scheduler_status", scheduler.status_text()))
    app = KimakiApp(model)
    if token:
        # Importing and starting discord.py blocks the loop for a moment: draw the dashboard first.
        app.call_later(lambda: app.call_after_refresh(services.start_bot, token))
    return app


async def _close_on_stop(services: Services, app: KimakiApp) -> None:
    await services.stop.wait()
    app.exit()


def _setup_controller(services: Services, wizard: Wizard | None) -> SetupController:
    from kimaki_tui.migrate_kimaki import KimakiOffer
    from kimaki_tui.setup.controller import SetupController, Step
    from kimaki_tui.setup.projects import known_projects

    core, settings = services.core, services.settings
    api_url = settings.discord.api_url
    return SetupController(
        services.secrets,
        api_url=api_url,
        known_projects=lambda: known_projects(core.projects),
        link=core.projects.link,
        linked_directories=lambda: {c.directory for c in core.projects.links()},
        approve_guild=lambda guild_id: core.guilds.allow(guild_id, by="setup wizard"),
        start=Step.PROJECTS if wizard == "add_channels" else Step.CREATE_APP,
        kimaki=KimakiOffer.find(settings.data_dir, settings.db_path, services.secrets, api_url),
    )


async def _after_setup(services: Services, result: Any) -> None:
    """The wizard saved a token: start (or keep) the bot with it. The token is read from the run's
    one SecretStore, the wizard's too, so a secrets file chosen in the wizard is read here."""
    from kimaki_tui.logs import register_secret

    if not getattr(result, "completed", False):
        return
    token = services.secrets.get_bot_token()
    if token:
        register_secret(token)
        services.start_bot(token)


def channel_name(services: Services, channel_id: str) -> str | None:
    """A Discord channel's name from the running bot's cache; None before it is connected."""
    bot = services.worker.bot if services.worker else None
    channel = bot.get_channel(int(channel_id)) if bot is not None and channel_id.isdigit() else None
    name = getattr(channel, "name", None)
    return name if isinstance(name, str) else None


async def add_project(services: Services, directory: str) -> str | None:
    """Link a directory: create its channel in the bot's first server when Discord is connected."""
    worker = services.worker
    bot = worker.bot if worker else None
    allowed = services.core.guilds.allowed
    guild = next((g for g in bot.guilds if allowed(g.id)), None) if bot is not None else None
    if bot is None or guild is None:
        services.core.projects.add(directory)
        return f"Added {directory}; its Discord channel is created once the bot is connected to a server."
    from kimaki_tui.bot.channels import create_project_channel

    channel = await create_project_channel(bot, guild, directory)
    return f"Added {directory} as #{channel.name} in {guild.name}"
