"""The core's door for projects and what runs in them: project folders and their linked channels
(`Projects`), where a channel's threads run (`Sandboxes`), the user's OpenCode workflows offered as
slash commands (`Workflows`), and a project's MCP servers and the providers' credentials
(`Integrations`).

Re-exported by `core.api`, the one door.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kimaki_tui.opencode.catalog import AuthMethod, Command, McpServer, OAuthStart, ProviderEntry
from kimaki_tui.opencode.catalog import Project as OpenCodeProject
from kimaki_tui.settings.tree import SandboxMode
from kimaki_tui.store.records import ChannelLink, Project

if TYPE_CHECKING:
    from kimaki_tui.core.workflows import CommandPlan


class Projects(Protocol):
    """Project folders and the channels linked to them (one link per channel)."""

    def link(self, channel_id: str, guild_id: str, directory: str, app_id: str | None = None) -> None: ...

    def unlink(self, channel_id: str) -> bool: ...

    def directory_of(self, channel_id: str) -> str | None: ...

    def links(self, guild_id: str | None = None) -> list[ChannelLink]: ...

    def links_for(self, directory: str) -> list[ChannelLink]: ...

    def add(self, directory: str) -> str:
        """Register a folder as a project without a channel; returns its resolved path."""
        ...

    def forget(self, directory: str) -> bool: ...

    def known(self) -> list[Project]: ...

    async def opencode_projects(self) -> list[OpenCodeProject]:
        """The projects OpenCode knows (its recent worktrees)."""
        ...

    async def create(self, projects_dir: str | Path, name: str) -> Path:
        """A new folder under `projects_dir` (git init'ed); raises core.projects.ProjectNameError."""
        ...


@dataclass(frozen=True, slots=True)
class SandboxRow:
    """One sandboxed thread as the control center lists it: `state` is running, paused or
    destroyed."""

    key: str
    thread_id: str
    directory: str
    state: str


class Sandboxes(Protocol):
    """Where a channel's new threads run: the shared OpenCode server, or a sandbox each."""

    @property
    def available(self) -> bool:
        """Whether this run can sandbox threads at all (started with --sandbox other than none)."""
        ...

    @property
    def backend(self) -> str | None:
        """The one backend this run sandboxes threads with ("bwrap", "podman"), or None."""
        ...

    def mode(self, channel_id: str) -> SandboxMode:
        """The channel's own sandbox mode, else the global `--sandbox`."""
        ...

    def set_mode(self, channel_id: str, mode: SandboxMode | None) -> None:
        """Set the channel's sandbox mode for new threads, persisted; None forgets it."""
        ...

    async def place(self, thread_id: str, channel_id: str, directory: str) -> str:
        """The directory a new thread runs in: the project's, or its sandbox's new worktree."""
        ...

    async def rows(self) -> list[SandboxRow]:
        """Every sandboxed thread of this run and the state of its sandbox."""
        ...

    def activity(self, thread_id: str) -> None:
        """Someone is writing in the thread (Discord's typing signal): a paused sandbox begins
        resuming at once, so the message finds it running; nothing for other threads."""
        ...


class Workflows(Protocol):
    """The user's OpenCode agents, commands, MCP prompts and skills, offered as slash commands.
    A prompt whose text starts with `/name` of an OpenCode command runs that command."""

    async def commands(self, directory: str) -> list[Command]:
        """OpenCode's commands in a project (its own, the project's, MCP prompts, skills)."""
        ...

    async def plan(self, directories: Iterable[str], *, taken: Collection[str]) -> CommandPlan:
        """The slash commands for the workflows of these projects, next to the built-ins `taken`."""
        ...

    async def known_command(self, directory: str, name: str) -> Command | None: ...


class Integrations(Protocol):
    """A project's MCP servers and the AI providers' credentials, which OpenCode keeps."""

    async def mcp_servers(self, directory: str) -> list[McpServer]: ...

    async def set_mcp_connected(self, directory: str, name: str, connected: bool) -> list[McpServer]:
        """Connect or disconnect one MCP server; the project's servers afterwards."""
        ...

    async def providers(self, directory: str) -> list[ProviderEntry]: ...

    async def login_methods(self, directory: str, provider_id: str) -> list[AuthMethod]:
        """The provider's OAuth methods (their index names them) and an API key."""
        ...

    async def set_api_key(self, provider_id: str, key: str) -> None:
        """Save a key in OpenCode's credentials (never logged); LoginError when empty."""
        ...

    async def start_oauth(self, directory: str, provider_id: str, method: int) -> OAuthStart: ...

    async def finish_oauth(self, directory: str, provider_id: str, method: int, code: str | None) -> bool:
        """Complete an OAuth login (with the pasted code for a "code" method)."""
        ...
