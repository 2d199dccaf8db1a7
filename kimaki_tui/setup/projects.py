"""Project directories for the wizard: OpenCode's known projects, and checking a typed path."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from kimaki_tui.core.projects import system_directory_problem
from kimaki_tui.errors import KimakiError

if TYPE_CHECKING:
    from kimaki_tui.core.api import OpenCodeProject, Projects

# OpenCode's "global" project (directories outside any git repository) and kimaki's test folders.
_SKIP_WORKTREES = ("/",)
_SKIP_PREFIX = "opencode-test-"


class ProjectPathError(KimakiError, ValueError):
    """A typed directory cannot be a project; the message is meant for the user."""


def check_directory(text: str, *, base: Path | None = None) -> str:
    """The absolute, resolved directory for `text` (~ and relative paths allowed)."""
    raw = text.strip()
    if not raw:
        raise ProjectPathError("Type the path of a project directory.")
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    resolved = path.resolve()
    if not resolved.exists():
        raise ProjectPathError(f"{raw} does not exist.")
    if not resolved.is_dir():
        raise ProjectPathError(f"{raw} is not a directory.")
    problem = system_directory_problem(resolved)
    if problem is not None:
        raise ProjectPathError(problem)
    return str(resolved)


def project_directories(projects: Iterable[OpenCodeProject]) -> list[str]:
    """Existing project worktrees from OpenCode's `GET /project`, most recently used first."""
    seen: set[str] = set()
    found: list[str] = []
    for project in sorted(projects, key=lambda p: p.updated or p.created, reverse=True):
        worktree = project.worktree
        if not worktree or worktree in _SKIP_WORKTREES or worktree in seen:
            continue
        if Path(worktree).name.startswith(_SKIP_PREFIX) or not Path(worktree).is_dir():
            continue
        seen.add(worktree)
        found.append(worktree)
    return found


async def known_projects(projects: Projects) -> list[str]:
    """The project directories the running OpenCode server knows."""
    return project_directories(await projects.opencode_projects())
