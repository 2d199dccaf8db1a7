"""Listing a project's kimaki worktrees with their state, and deleting one that holds no work.

A kimaki worktree is one on a `kimaki/<name>` branch (made by /new-worktree). Deleting refuses a
worktree with uncommitted changes or with commits its project's checked-out branch does not have,
so no work is lost; the message says which and what to do instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kimaki_tui.core.git import git
from kimaki_tui.core.worktrees import BRANCH_PREFIX, WorktreeError


@dataclass(frozen=True, slots=True)
class WorktreeState:
    name: str
    branch: str
    path: Path
    changed: tuple[str, ...]  # uncommitted files
    unmerged: int  # commits the project's checked-out branch does not have

    @property
    def dirty(self) -> bool:
        return bool(self.changed)


async def _lines(cwd: str | Path, *args: str) -> list[str]:
    result = await git(cwd, *args)
    if not result.ok:
        raise WorktreeError(f"`git {args[0]}` failed in `{cwd}`: {result.detail()}")
    return [line for line in result.out.splitlines() if line.strip()]


async def _state(project: Path, path: Path, branch: str) -> WorktreeState:
    changed = tuple(line[3:] for line in await _lines(path, "status", "--porcelain"))
    [count] = await _lines(project, "rev-list", "--count", f"HEAD..{branch}")
    return WorktreeState(branch[len(BRANCH_PREFIX) :], branch, path, changed, int(count))


async def list_worktrees(project: str | Path) -> list[WorktreeState]:
    """The project's worktrees on `kimaki/…` branches, by name."""
    root = Path(project)
    found: list[WorktreeState] = []
    path: Path | None = None
    for line in await _lines(root, "worktree", "list", "--porcelain"):
        if line.startswith("worktree "):
            path = Path(line[len("worktree ") :])
        elif line.startswith("branch refs/heads/" + BRANCH_PREFIX) and path is not None and path.exists():
            found.append(await _state(root, path, line[len("branch refs/heads/") :]))
    return sorted(found, key=lambda state: state.name)


async def delete_worktree(project: str | Path, name: str) -> WorktreeState:
    """Remove the worktree `kimaki/<name>` and its branch; refuses when that would lose work."""
    states = {s.name: s for s in await list_worktrees(project)}
    state = states.get(name)
    if state is None:
        raise WorktreeError(f"This project has no worktree `{name}` (any more).")
    if state.dirty:
        shown = ", ".join(f"`{f}`" for f in state.changed[:8])
        raise WorktreeError(
            f"Not deleted: worktree `{name}` has uncommitted changes ({shown}). Commit and merge "
            "them (/merge-worktree in its thread) or discard them first."
        )
    if state.unmerged:
        commits = f"{state.unmerged} commit{'s' if state.unmerged != 1 else ''}"
        raise WorktreeError(
            f"Not deleted: branch `{state.branch}` has {commits} the project does not have. "
            "Merge it first (/merge-worktree in its thread)."
        )
    await _lines(project, "worktree", "remove", str(state.path))
    await _lines(project, "branch", "-d", state.branch)
    return state
