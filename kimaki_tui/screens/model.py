"""What the control center is given: the core's API, settings, the log ring, statuses and actions.

The composition root builds one `ControlCenterModel` and hands it to `KimakiApp`; screens read
it (attributes down) and never reach for globals. Statuses are replaced by the bridge as the
runtime and the bot publish new ones.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kimaki_tui.core.api import CoreApi
from kimaki_tui.core.events import ChatStatus
from kimaki_tui.core.projects import system_directory_problem
from kimaki_tui.logs import RingHandler
from kimaki_tui.opencode.status import ServerStatus
from kimaki_tui.screens.chat_model import ChatWorld
from kimaki_tui.secrets import SecretStore
from kimaki_tui.settings import Settings
from kimaki_tui.setup.projects import ProjectPathError

AddProject = Callable[[str], Awaitable[str | None]]
"""Registers a project directory (and creates its Discord channel); returns a message to show."""


@dataclass
class ControlCenterModel:
    core: CoreApi
    settings: Settings
    # The run's one SecretStore (the Gemini key dialog writes there); None: that dialog is unavailable.
    secrets: SecretStore | None = None
    log_ring: RingHandler | None = None
    server_status: ServerStatus = field(default_factory=lambda: ServerStatus("stopped"))
    discord_status: ChatStatus = field(default_factory=lambda: ChatStatus("connecting"))
    add_project: AddProject | None = None
    # A Discord channel's name from its id (the bot's cache, given by the root); None: ids are shown.
    channel_name: Callable[[str], str | None] | None = None
    # The first-run wizard (helper D's `kimaki_tui.screens.wizard.WizardScreen(setup)`).
    needs_setup: bool = False
    setup: Any = None
    # Called with the wizard's result when it is dismissed (e.g. to start the bot with the new token).
    after_setup: Callable[[Any], Awaitable[None]] | None = None
    # The task scheduler's status line for the dashboard; None shows as "—" (no scheduler running).
    scheduler_status: str | None = None
    # Where the add-project folder picker starts (the home directory when None).
    picker_root: Path | None = None
    clock: Callable[[], float] = time.time
    log_capacity: int = 10_000
    # How answers and prompts from the terminal are signed (Discord shows "Accepted once by …").
    user_name: str = "control center"
    origin: str = "control-center"
    # `kimaki demo`: the twin Discord as the demo user sees it; adds the Discord view (key 6).
    chat: ChatWorld | None = None

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    async def add_project_directory(self, directory: str) -> str:
        """Add a project from the terminal; raises ProjectPathError for a path that is not a directory."""
        resolved = project_directory(directory)
        if self.add_project is not None:
            return await self.add_project(resolved) or f"Added {resolved}"
        self.core.projects.add(resolved)
        return f"Added {resolved} — no Discord channel is linked to it yet"


def project_directory(directory: str) -> str:
    """The absolute path of an existing folder that may be a project; ProjectPathError otherwise."""
    path = Path(directory).expanduser()
    if not path.is_dir():
        raise ProjectPathError(f"{directory} is not a directory")
    problem = system_directory_problem(path.resolve())
    if problem is not None:
        raise ProjectPathError(problem.replace("`", ""))
    return str(path.resolve())


def rss_bytes(pid: int | None) -> int | None:
    """Resident memory of a process (psutil when installed, else /proc), None if unknown."""
    if pid is None:
        return None
    try:
        import psutil
    except ImportError:
        return _proc_rss(pid)
    try:
        return int(psutil.Process(pid).memory_info().rss)
    except (psutil.Error, OSError):
        return None


def _proc_rss(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return None
    import os

    return int(fields[1]) * os.sysconf("SC_PAGE_SIZE")
