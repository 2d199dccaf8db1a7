"""Which sandbox mode a channel's new threads get: its `/sandbox` choice, kept in the store's channel
settings, else the `--sandbox` default. Light on purpose: the CLI reads it without the sandboxes."""

from __future__ import annotations

from typing import get_args

from kimaki_tui.settings.tree import SandboxMode
from kimaki_tui.store.repo import Store

SANDBOX_KEY = "sandbox"  # the channel setting
SANDBOX_MODES: tuple[SandboxMode, ...] = get_args(SandboxMode)


def channel_sandbox_mode(store: Store, channel_id: str, default: SandboxMode) -> SandboxMode:
    """Where a channel's new threads run: its /sandbox choice, else `default` (--sandbox)."""
    value = store.get_channel_setting(channel_id, SANDBOX_KEY)
    return value if value in SANDBOX_MODES else default
