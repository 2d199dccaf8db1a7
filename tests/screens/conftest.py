"""Fixtures for the control center's Pilot tests: an offline scene and a live core on OpenCode."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from rich.console import Console
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Static

from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.screens.app import KimakiApp
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.settings import Settings
from tests.core_rig import CoreRig
from tests.harness import wait_until
from tests.screens.scene import concrete, offline_model

T = TypeVar("T")
SIZE = (120, 36)


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[ControlCenterModel]:
    """An offline model (no OpenCode); build it with `tests.screens.scene.build_scene`."""
    model = offline_model(tmp_path)
    yield model
    await concrete(model).close()
    concrete(model).store.close()


@pytest.fixture
async def rig(opencode_client: OpenCodeClient, tmp_path: Path) -> AsyncIterator[CoreRig]:
    async with CoreRig(opencode_client, tmp_path / "db.sqlite") as rig:
        yield rig


@pytest.fixture
def live(rig: CoreRig, tmp_path: Path) -> ControlCenterModel:
    """The control center's model over a real core on the shared OpenCode server."""
    return ControlCenterModel(core=rig.core, settings=Settings(data_dir=tmp_path))


async def settle(pilot: Pilot[Any]) -> None:
    """Deliver what the bridge buffered and let the screens redraw."""
    app = pilot.app
    assert isinstance(app, KimakiApp)
    app.bridge.flush()
    await pilot.pause()


async def until(pilot: Pilot[Any], check: Callable[[], T | None], what: str, timeout: float = 30.0) -> T:
    """Poll `check` (flushing the bridge in between) until it returns something truthy."""

    async def probe() -> T | None:
        await settle(pilot)
        return check()

    return await wait_until(probe, timeout, 0.05, what)


def plain(widget: Static) -> str:
    """The text a Static shows (Rich renderables rendered without styles)."""
    if isinstance(widget.content, str):
        return Content.from_markup(widget.content).plain
    console = Console(width=200, file=io.StringIO(), color_system=None, legacy_windows=False)
    with console.capture() as capture:
        console.print(widget.content)
    return "\n".join(line.rstrip() for line in capture.get().splitlines()).strip("\n")


def notifications(app: KimakiApp) -> list[str]:
    return [str(n.message) for n in app._notifications]
