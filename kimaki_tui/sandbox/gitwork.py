"""The git side of a sandbox's worktree: which git dir it needs, and removing it only when no
work would be lost (no uncommitted changes, no commits missing from the base branch).

The base branch is the one checked out in the repository's main worktree unless the caller
names one. Only linked worktrees (`git worktree add`) are ever removed; a project checkout
itself never is.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from kimaki_tui.sandbox.api import SandboxError

_GIT_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class WorktreeRemoval:
    removed: bool
    kept_reason: str = ""


async def git(directory: Path, *args: str) -> tuple[int, str]:
    """Run git in `directory`; (exit code, stdout or stderr)."""
    try:
        proc = await asyncio.create_subprocess_exec(
            "git", "-C", str(directory), *args,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
    except FileNotFoundError as exc:
        raise SandboxError("git is not installed.", "Install git (scripts/setup.sh does).") from exc
    try:
        out, err = await asyncio.wait_for(proc.communicate(), _GIT_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return 124, f"git {' '.join(args)} timed out"
    code = proc.returncode or 0
    return code, (out if code == 0 else err).decode(errors="replace").strip()


async def shared_git_dir(worktree: Path) -> Path | None:
    """The repository's common git dir when `worktree` is a linked worktree whose git data lives
    outside it (the sandbox must see it to commit), else None."""
    code, out = await git(
        worktree, "rev-parse", "--path-format=absolute", "--git-common-dir", "--show-toplevel"
    )
    if code != 0:
        return None
    common, top = (Path(line) for line in out.splitlines())
    return None if common.is_relative_to(top) else common


async def _main_worktree(worktree: Path) -> tuple[Path, str | None]:
    """The repository's main worktree and the branch (ref) checked out there (None: detached)."""
    code, out = await git(worktree, "worktree", "list", "--porcelain")
    if code != 0:
        raise SandboxError(f"cannot list the git worktrees of {worktree}: {out}")
    first = out.split("\n\n", 1)[0].splitlines()
    path = Path(first[0].removeprefix("worktree "))
    branch = next((line.removeprefix("branch ") for line in first if line.startswith("branch ")), None)
    return path, branch


async def remove_if_merged(worktree: Path, base: str | None = None) -> WorktreeRemoval:
    """Remove the linked worktree unless that would lose work; say why when it stays."""
    if not await asyncio.to_thread(worktree.exists):
        return WorktreeRemoval(False, "the worktree is already gone")
    if await shared_git_dir(worktree) is None:
        return WorktreeRemoval(False, "not a linked git worktree (a project checkout is never removed)")
    main, main_branch = await _main_worktree(worktree)
    base_ref = base or main_branch or "HEAD"
    code, changes = await git(worktree, "status", "--porcelain", "--untracked-files=normal")
    if code != 0:
        return WorktreeRemoval(False, f"git status failed: {changes}")
    if changes:
        count = len(changes.splitlines())
        return WorktreeRemoval(False, f"{count} uncommitted change(s) in {worktree}")
    code, ahead = await git(main, "rev-list", "--count", f"{base_ref}..{await _head_of(worktree)}")
    if code != 0:
        return WorktreeRemoval(False, f"cannot compare with {base_ref}: {ahead}")
    if int(ahead):
        name = await _branch_name(worktree)
        short = base_ref.removeprefix("refs/heads/")
        return WorktreeRemoval(False, f"{name} has {ahead} commit(s) not merged into {short}")
    code, out = await git(main, "worktree", "remove", str(worktree))
    if code != 0:
        return WorktreeRemoval(False, f"git worktree remove failed: {out}")
    return WorktreeRemoval(True)


async def _head_of(worktree: Path) -> str:
    code, out = await git(worktree, "rev-parse", "HEAD")
    if code != 0:
        raise SandboxError(f"cannot read HEAD of {worktree}: {out}")
    return out


async def _branch_name(worktree: Path) -> str:
    code, out = await git(worktree, "symbolic-ref", "--short", "-q", "HEAD")
    return f"branch {out}" if code == 0 and out else "the detached HEAD"
