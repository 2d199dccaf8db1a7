"""Fixtures for the automation tests: `auto_rig` (bot, control API, scheduler) and `make_auto_rig`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from tests.automation.rig import AutomationRig, automation_rig


@pytest.fixture
async def auto_rig(
    opencode_server: OpenCodeSupervisor, project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AutomationRig]:
    async with automation_rig(opencode_server, project_dir, tmp_path, monkeypatch) as rig:
        yield rig


@pytest.fixture
def make_auto_rig(
    opencode_server: OpenCodeSupervisor, project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., AbstractAsyncContextManager[AutomationRig]]:
    def make(**kwargs: Any) -> AbstractAsyncContextManager[AutomationRig]:
        return automation_rig(opencode_server, project_dir, tmp_path, monkeypatch, **kwargs)

    return make
