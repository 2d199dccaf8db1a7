"""What the wizard tests share: a realistic bot token, a Discord twin that accepts it (with no
server yet), and a SetupController wired to the twin, an in-memory keyring and a link recorder."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kimaki_tui.discord_rest import DiscordRest
from kimaki_tui.secrets import SecretStore
from kimaki_tui.setup import SetupController, Step
from kimaki_tui.testing.discord_twin import Channel, ChannelType, DiscordTwin
from tests.harness import git_init

APP_ID = 1234567890123456789
PERMISSIONS = 326686067792  # the eleven permissions the wizard asks for, summed by hand


def make_token(app_id: int, secret: str = "s3cr3tPart0fTheT0kenThatIsLongEnough12") -> str:
    head = base64.b64encode(str(app_id).encode()).decode().rstrip("=")
    return f"{head}.GaBcDe.{secret}"


TOKEN = make_token(APP_ID)
WRONG_TOKEN = make_token(APP_ID, "aDifferentSecretThatDiscordWillRefuse99")


@dataclass
class Links:
    """Stands in for Store.link_channel: records (channel, guild, directory, app) tuples."""

    calls: list[tuple[str, str, str, str | None]] = field(default_factory=list)

    def __call__(self, channel_id: str, guild_id: str, directory: str, app_id: str | None) -> None:
        self.calls.append((channel_id, guild_id, directory, app_id))


@asynccontextmanager
async def running_twin() -> AsyncIterator[DiscordTwin]:
    """A twin that accepts TOKEN, with no server yet; fails the test if it saw anything wrong."""
    async with DiscordTwin(bot_token=TOKEN, app_id=APP_ID, bot_name="Kimaki") as twin:
        yield twin
        twin.assert_clean()


def make_projects(tmp_path: Path) -> list[str]:
    """Two project directories OpenCode would list."""
    return [str(git_init(tmp_path / name)) for name in ("alpha", "beta-app")]


def controller(
    tmp_path: Path,
    twin: DiscordTwin,
    known: list[str],
    links: Links,
    start: Step = Step.CREATE_APP,
) -> SetupController:
    async def known_projects() -> list[str]:
        return known

    return SetupController(
        SecretStore(tmp_path / "data", env={}),
        api=DiscordRest(base_url=twin.api_url),
        known_projects=known_projects,
        link=links,
        start=start,
    )


def project_channels(twin: DiscordTwin) -> list[Channel]:
    """The text channels under the "Kimaki" category, in every guild."""
    channels = [c for g in twin.world.guilds.values() for c in g.channels]
    categories = {c.id for c in channels if c.type == ChannelType.CATEGORY and c.name == "Kimaki"}
    return [c for c in channels if c.parent_id in categories]
