"""The kimaki process: one asyncio loop owning the lock port, the services, the Discord bot and (on a
terminal) the control center, until Ctrl+C, SIGTERM, quitting the control center, the control
API's shutdown, or SIGUSR2 (restart in place: the same arguments, re-executed; queued messages
are in the database, so nothing is lost).

Start-up order keeps the first screen fast: OpenCode (~2 s to start) is spawned before anything
heavy is imported, the lock port is taken before the database is touched, and discord.py is
imported only once the control center is drawn. Shutdown runs in reverse. Failures the user can
fix (another instance, a damaged database, OpenCode missing) are raised as KimakiErrors for the
command line to show on one line; no token without a terminal is exit code 2.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from kimaki_tui.settings import Settings

if TYPE_CHECKING:
    from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
    from kimaki_tui.root.agent_tools import AgentEndpoint
    from kimaki_tui.root.build import Services
    from kimaki_tui.secrets import SecretStore

log = logging.getLogger(__name__)

NO_TOKEN = (
    "kimaki: no Discord bot token. Set KIMAKI_BOT_TOKEN to your bot's token "
    "(Developer Portal → your application → Bot → Reset Token), or run `kimaki setup` in a terminal."
)
RESTART = 75  # internal: the loop ended for a SIGUSR2 restart
Wizard = Literal["restart", "add_channels"]
Front = Callable[["Services"], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Launch:
    """What this start does besides running with its settings: one-off actions given as flags
    (never settings: they make no sense in config.toml), and `kimaki demo`'s overrides."""

    tui: bool = False
    replace: bool = False  # --replace: stop the kimaki running for this data dir and take over
    reset_database: bool = False  # --reset-database: move the database aside (once the lock is held)
    wizard: Wizard | None = None  # --restart-onboarding / --add-channels, in the control center
    # `kimaki demo`: OpenCode's isolated environment, and the front end that runs instead of the
    # control center or the headless wait (it returns the exit code).
    opencode_env: Mapping[str, str] | None = None
    front: Front | None = None


def run_kimaki(settings: Settings, launch: Launch) -> int:
    """Run until stopped; the exit code. Re-executes itself for a SIGUSR2 restart."""
    from kimaki_tui.logs import register_secret
    from kimaki_tui.root.offline import open_secrets

    if not launch.reset_database:
        from kimaki_tui.store.db import check_database_file

        check_database_file(settings.db_path)  # a damaged database fails before OpenCode starts
    secrets = open_secrets(settings)
    if secrets.warning:
        log.warning("%s", secrets.warning)
        if not launch.tui:
            tell(f"kimaki: {secrets.warning}")
    token = secrets.get_bot_token()
    if not token and not launch.tui:
        tell(NO_TOKEN)
        return 2
    register_secret(token)
    try:
        code = asyncio.run(serve(settings, secrets, token, launch))
    except KeyboardInterrupt:
        return 130
    if code == RESTART:
        log.info("restarting in place (SIGUSR2)")
        os.execv(sys.executable, [sys.executable, "-m", "kimaki_tui", *sys.argv[1:]])
    return code


async def serve(settings: Settings, secrets: SecretStore, token: str | None, launch: Launch) -> int:
    """Spawn OpenCode, hold the lock port, build the services, run the front end; RESTART when a
    SIGUSR2 ended it."""
    from kimaki_tui.control_api import ControlActions
    from kimaki_tui.instance import InstanceLock
    from kimaki_tui.opencode.directory_rules import with_directory_rule
    from kimaki_tui.opencode.injection_guard import with_injection_guard
    from kimaki_tui.root.agent_tools import AgentEndpoint, tool_limits

    endpoint = AgentEndpoint.reserve()  # OpenCode's config names it: before the spawn
    opencode_env = with_injection_guard(
        endpoint.opencode_env(launch.opencode_env, tool_limits(settings.agent_tools)),
        settings.injection_guard_dir,
    )
    opencode_env = with_directory_rule(opencode_env, directory_rule(settings))
    supervisor = await _spawn_opencode(settings, opencode_env)
    stop, restart = _install_signals()
    lock = InstanceLock(settings.data_dir, port=settings.lock_port, actions=ControlActions(shutdown=stop.set))
    try:
        await lock.acquire(replace=launch.replace)
        services = _build_services(
            settings, secrets, supervisor, stop, endpoint,
            reset_database=launch.reset_database, chat_expected=bool(token),
        )  # fmt: skip
    except BaseException:
        endpoint.listener.close()
        await supervisor.aclose()
        await lock.release()
        raise
    try:
        async with services:
            lock.attach(services.instance_status, services.control_actions())
            code = await _run_front(services, token, launch)
    finally:
        await lock.release()
    return RESTART if restart.is_set() else code


def directory_rule(settings: Settings) -> dict[str, str]:
    """The external_directory permission for kimaki's OpenCode server (--restrict-directories)."""
    import tempfile

    from kimaki_tui.opencode.directory_rules import external_directory_rule, safe_directories

    safe = safe_directories(
        data_dir=settings.data_dir, home=Path.home(), temp_dir=Path(tempfile.gettempdir())
    )
    return external_directory_rule(settings.opencode.restrict_directories, safe)


async def _spawn_opencode(settings: Settings, env: Mapping[str, str] | None) -> OpenCodeSupervisor:
    """OpenCode takes ~2 s to start: spawn it first so the imports and set-up below overlap with it."""
    from kimaki_tui.opencode.supervisor import OpenCodeSupervisor

    supervisor = OpenCodeSupervisor(
        binary=settings.opencode.path, env=env, log_level=settings.opencode.log_level
    )
    starting = supervisor.start_background()
    # Let the spawn actually happen before the (synchronous) imports that follow.
    for _ in range(200):
        if supervisor.pid is not None or starting.done():
            break
        await asyncio.sleep(0.001)
    return supervisor


def _install_signals() -> tuple[asyncio.Event, asyncio.Event]:
    """SIGINT/SIGTERM set `stop`; SIGUSR2 sets `restart` too."""
    stop, restart = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def restart_in_place() -> None:
        restart.set()
        stop.set()

    loop.add_signal_handler(signal.SIGUSR2, restart_in_place)
    return stop, restart


def _build_services(
    settings: Settings,
    secrets: SecretStore,
    supervisor: OpenCodeSupervisor,
    stop: asyncio.Event,
    endpoint: AgentEndpoint,
    *,
    reset_database: bool,
    chat_expected: bool,
) -> Services:
    """The services (they open the database). Only now that this process holds the lock port may
    `--reset-database` move the database aside: no other kimaki is using it."""
    from kimaki_tui.root.build import Services
    from kimaki_tui.root.heap import set_start_up_objects_aside
    from kimaki_tui.store.db import set_database_aside

    if reset_database:
        aside = set_database_aside(settings.db_path)
        if aside is not None:
            tell(f"kimaki: moved the database aside to {aside}; starting with an empty one.")
    return Services(
        settings, secrets, supervisor, stop=stop, agent_endpoint=endpoint, chat_expected=chat_expected,
        settle_heap=set_start_up_objects_aside,
    )  # fmt: skip


async def _run_front(services: Services, token: str | None, launch: Launch) -> int:
    if launch.front is not None:
        if token:
            services.start_bot(token)
        return await launch.front(services)
    if launch.tui:
        from kimaki_tui.root.tui import run_control_center

        # The bot starts once the dashboard is drawn (discord.py takes a moment to import).
        return await run_control_center(services, token, wizard=launch.wizard)
    from kimaki_tui.root.headless import run_headless

    assert token is not None  # run_kimaki returned 2 without one
    services.start_bot(token)
    return await run_headless(services)


def tell(message: str) -> None:
    """Headless status for the person at the terminal (only before or without the TUI)."""
    print(message, file=sys.stderr, flush=True)
