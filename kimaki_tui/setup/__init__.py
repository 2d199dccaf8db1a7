"""The first-run setup wizard's logic, shared by the Textual and questionary front ends.

Nothing here imports a UI library or discord.py: Discord is reached over REST (httpx), OpenCode
through its client, and every effect a front end may want to replace is injected.
"""

from kimaki_tui.setup.controller import (
    STEPS,
    TITLES,
    CreateChannels,
    KnownProjects,
    SetupController,
    SetupError,
    Step,
    TokenNotStored,
    needs_setup,
)
from kimaki_tui.setup.models import BotIdentity, CreatedChannel, GuildInfo, SetupResult

__all__ = [
    "STEPS",
    "TITLES",
    "BotIdentity",
    "CreateChannels",
    "CreatedChannel",
    "GuildInfo",
    "KnownProjects",
    "SetupController",
    "SetupError",
    "SetupResult",
    "Step",
    "TokenNotStored",
    "needs_setup",
]
