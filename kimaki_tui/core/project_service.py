"""Project folders and their channels, the one place a folder is registered or linked.

A channel shows one project (relinking moves it); a folder may have a channel in several
servers, or none yet. Paths are stored resolved, so one folder is one project.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from kimaki_tui.core.bus import EventBus
from kimaki_tui.core.catchup import LINK_CLOCK_ALLOWANCE, snowflake_at
from kimaki_tui.core.events import ProjectLinksChanged
from kimaki_tui.core.projects import create_project
from kimaki_tui.opencode.catalog import Project as OpenCodeProject
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.store.records import ChannelLink, Project
from kimaki_tui.store.repo import Store


def resolved(directory: str | Path) -> str:
    return str(Path(directory).expanduser().resolve())


class ProjectService:
    """`client` is None where no OpenCode runs (CLI subcommands): `opencode_projects` is empty then."""

    def __init__(self, store: Store, client: OpenCodeClient | None, bus: EventBus | None = None) -> None:
        self._store = store
        self._client = client
        self._bus = bus  # told of link changes (ProjectLinksChanged); None in one-shot CLI commands

    def link(self, channel_id: str, guild_id: str, directory: str, app_id: str | None = None) -> None:
        self._store.link_channel(channel_id, guild_id, resolved(directory), app_id)
        # Read from the link on: a message sent before kimaki next connects is answered then.
        self._store.start_watermark(channel_id, snowflake_at(datetime.now(UTC) - LINK_CLOCK_ALLOWANCE))
        self._changed(guild_id)

    def unlink(self, channel_id: str) -> bool:
        guilds = {link.guild_id for link in self._store.list_channels() if link.channel_id == channel_id}
        unlinked = self._store.unlink_channel(channel_id)
        for guild_id in guilds if unlinked else ():
            self._changed(guild_id)
        return unlinked

    def _changed(self, guild_id: str) -> None:
        if self._bus is not None:
            self._bus.publish(ProjectLinksChanged(guild_id))

    def directory_of(self, channel_id: str) -> str | None:
        return self._store.channel_directory(channel_id)

    def links(self, guild_id: str | None = None) -> list[ChannelLink]:
        return self._store.list_channels(guild_id)

    def links_for(self, directory: str) -> list[ChannelLink]:
        return self._store.channels_for(resolved(directory))

    def add(self, directory: str) -> str:
        path = resolved(directory)
        self._store.add_project(path)
        return path

    def forget(self, directory: str) -> bool:
        return self._store.remove_project(directory)

    def known(self) -> list[Project]:
        return self._store.list_projects()

    async def opencode_projects(self) -> list[OpenCodeProject]:
        return [] if self._client is None else await self._client.projects()

    async def create(self, projects_dir: str | Path, name: str) -> Path:
        return await create_project(projects_dir, name)
