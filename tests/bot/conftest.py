"""Fixtures for the bot's end-to-end tests: `bot_rig` (defaults), `versioned_bot_rig` (once per
supported OpenCode version) and `make_bot_rig` (custom options)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from kimaki_tui.opencode.client import OpenCodeClient
from tests.bot.rig import BotRig, bot_rig_context


@pytest.fixture
async def bot_rig(
    opencode_client: OpenCodeClient, project_dir: Path, tmp_path: Path
) -> AsyncIterator[BotRig]:
    async with bot_rig_context(opencode_client, project_dir, tmp_path) as rig:
        yield rig


@pytest.fixture
async def versioned_bot_rig(
    versioned_client: OpenCodeClient, project_dir: Path, tmp_path: Path
) -> AsyncIterator[BotRig]:
    """`bot_rig` on the pinned OpenCode, then on the oldest supported one."""
    async with bot_rig_context(versioned_client, project_dir, tmp_path) as rig:
        yield rig


@pytest.fixture
def make_bot_rig(
    opencode_client: OpenCodeClient, project_dir: Path, tmp_path: Path
) -> Callable[..., AbstractAsyncContextManager[BotRig]]:
    """`async with make_bot_rig(sessions=SessionSettings(...), allow_all_users=True) as rig:`"""

    def make(**kwargs: Any) -> AbstractAsyncContextManager[BotRig]:
        return bot_rig_context(opencode_client, project_dir, tmp_path, **kwargs)

    return make
