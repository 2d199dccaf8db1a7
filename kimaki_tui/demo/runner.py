"""Runs `kimaki demo`: a scripted model and an isolated OpenCode config (unless `real_model`), the
Discord twin with the demo's world, then kimaki's own composition root (`root.run.serve`) with its
overrides — the twin's token and URLs, OpenCode's environment, and as front end either the control
center plus its Discord view, or a script replay that writes the transcript.

Nothing touches the user's ~/.kimaki, keyring or Discord: the data dir is a temporary one (or
the one given), the bot's token is the twin's and its Discord URLs point at the twin.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from kimaki_tui.settings import Settings, load_settings

if TYPE_CHECKING:
    from kimaki_tui.demo.script import Step
    from kimaki_tui.demo.world import DemoWorld
    from kimaki_tui.root.build import Services
    from kimaki_tui.testing.discord_twin import DiscordTwin

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DemoOptions:
    project: Path | None = None
    data_dir: Path | None = None
    real_model: bool = False
    script: Path | None = None
    tui: bool = True


def run_demo(options: DemoOptions, out: TextIO, err: TextIO) -> int:
    """Run the demo; a script's transcript goes to `out`, problems to `err`. Returns the exit code."""
    from kimaki_tui.demo.script import ScriptError, parse_script
    from kimaki_tui.logs import setup_logging

    steps: list[Step] | None = None
    if options.script is not None:
        try:
            steps = parse_script(options.script.read_text())
        except (OSError, ScriptError) as exc:
            err.write(f"kimaki demo: {exc}\n")
            return 2
    if options.project is not None and not options.project.is_dir():
        err.write(f"kimaki demo: {options.project} is not a directory\n")
        return 2
    with tempfile.TemporaryDirectory(prefix="kimaki-demo-") as tmp:
        root = Path(tmp)
        settings = load_settings({"data_dir": str(options.data_dir or root / "data")})
        setup_logging(
            settings.log_path, settings.log_level, ring_capacity=10_000, file_format=settings.log_format
        )
        project = _project(options.project, root)
        try:
            return asyncio.run(_demo(settings, project, root, options, steps, out, err))
        except KeyboardInterrupt:
            return 130


def _project(given: Path | None, root: Path) -> Path:
    if given is not None:
        return given.resolve()
    from kimaki_tui.demo.sample import create_sample_project

    return create_sample_project(root / "sample-project")


@contextlib.asynccontextmanager
async def opencode_env(root: Path, real_model: bool) -> AsyncIterator[Mapping[str, str] | None]:
    """The scripted model and an isolated OpenCode HOME/config under `root`; None (the user's own
    configuration) with `real_model`."""
    if real_model:
        yield None
        return
    from kimaki_tui.testing.opencode_env import make_opencode_env
    from kimaki_tui.testing.scripted_model import ScriptedModel

    model = ScriptedModel()
    await model.start()
    try:
        yield make_opencode_env(root / "opencode", model.base_url)
    finally:
        await model.stop()


async def _demo(
    settings: Settings,
    project: Path,
    root: Path,
    options: DemoOptions,
    steps: list[Step] | None,
    out: TextIO,
    err: TextIO,
) -> int:
    from kimaki_tui.core.offline import check_opencode
    from kimaki_tui.demo.world import DEMO_TOKEN, INTRO, SCRIPTED_INTRO, build_world, link_world
    from kimaki_tui.opencode.errors import OpenCodeNotInstalled
    from kimaki_tui.root.offline import open_secrets
    from kimaki_tui.root.run import Launch, serve
    from kimaki_tui.testing.discord_twin import DiscordTwin

    async with opencode_env(root, options.real_model) as env:
        try:
            check_opencode(settings.opencode.path, {**os.environ, **(env or {})})
        except OpenCodeNotInstalled as exc:
            err.write(f"kimaki demo: {exc}\n")
            return 1
        async with DiscordTwin(bot_token=DEMO_TOKEN, bot_name="Kimaki") as twin:
            intro = INTRO if options.real_model else SCRIPTED_INTRO
            world = build_world(twin, project, intro=intro)
            log.info(
                "demo: project %s in #%s on the Discord twin %s", project, world.channel.name, twin.api_url
            )

            async def front(services: Services) -> int:
                link_world(services.core, world)
                if steps is not None:
                    return await _replay(services, world, steps, out, err)
                from kimaki_tui.root.tui import run_control_center

                return await run_control_center(services, twin.bot_token, chat=world.chat)

            demo = pointed_at(settings, twin)
            launch = Launch(tui=options.tui, opencode_env=env, front=front)
            # No secret variables of this process: the bot speaks with the twin's token.
            return await serve(demo, open_secrets(demo, env={}), twin.bot_token, launch)


def pointed_at(settings: Settings, twin: DiscordTwin) -> Settings:
    """The settings with the bot's Discord (REST and gateway) at the twin."""
    discord = dataclasses.replace(settings.discord, api_url=twin.api_url, gateway_url=twin.gateway_url)
    return dataclasses.replace(settings, discord=discord)


async def wait_connected(services: Services, world: DemoWorld, timeout: float = 120.0) -> None:
    """OpenCode healthy and the bot connected to the twin with its commands synced."""
    await services.wait_ready(timeout=timeout)

    def connected() -> bool:
        worker = services.worker
        if worker is not None and worker.status.state == "failed":
            raise RuntimeError(f"the bot could not connect: {worker.status.detail}")
        return worker is not None and worker.status.state == "connected"

    await world.twin.wait_until(connected, timeout, "the bot to connect to the twin", 0.1)
    await world.twin.wait_for_commands(world.guild, timeout)


async def _replay(services: Services, world: DemoWorld, steps: list[Step], out: TextIO, err: TextIO) -> int:
    from kimaki_tui.demo.script import Player, ScriptError, transcript
    from kimaki_tui.opencode.errors import OpenCodeError

    try:
        await wait_connected(services, world)
    except (OpenCodeError, RuntimeError, TimeoutError) as exc:
        err.write(f"kimaki demo: {exc}\n")
        return 1
    conversations = services.core.conversations

    def idle(thread: object) -> bool:
        view = conversations.get(str(getattr(thread, "id", "")))
        return view is not None and not view.busy and not view.queued

    async def settle() -> None:
        bot = services.worker.bot if services.worker else None
        if bot is not None and bot.output is not None:
            await bot.output.drain()

    code = 0
    try:
        await Player(world, idle, settle).play(steps)
    except ScriptError as exc:
        err.write(f"kimaki demo: {exc}\n")
        code = 1
    await settle()
    out.write(transcript(world))
    out.flush()
    return code
