"""Git worktrees for sessions: create one on a new `kimaki/<name>` branch, and merge it back.

A worktree lives in `<data-dir>/worktrees/<sha1(project)[:8]>/<name>`. Merging rebases the
worktree's branch onto the branch checked out in the project (the default branch) and then
fast-forwards that branch, so every commit is kept and history stays linear. On conflicts the
rebase is left in progress for the agent to resolve (`conflict_prompt`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from kimaki_tui.core.git import git
from kimaki_tui.errors import KimakiError

BRANCH_PREFIX = "kimaki/"
NAME_MAX = 50
_UNSAFE = re.compile(r"[^a-z0-9-]+")


class WorktreeError(KimakiError):
    """A worktree operation failed; the message is meant for the user as is."""


class NotAWorktree(WorktreeError):
    pass


class DirtyWorktree(WorktreeError):
    pass


class TargetDirty(WorktreeError):
    pass


class NothingToMerge(WorktreeError):
    pass


class RebaseInProgress(WorktreeError):
    pass


class NotFastForward(WorktreeError):
    pass


class RebaseConflict(WorktreeError):
    def __init__(self, branch: str, target: str, files: list[str]) -> None:
        listed = ", ".join(f"`{f}`" for f in files[:10]) or "some files"
        super().__init__(
            f"Rebasing `{branch}` onto `{target}` stopped on conflicts in {listed}. "
            "The agent was asked to resolve them; run /merge-worktree again when it is done."
        )
        self.branch = branch
        self.target = target
        self.files = files


@dataclass(frozen=True, slots=True)
class Worktree:
    name: str
    branch: str
    path: Path
    project: Path


@dataclass(frozen=True, slots=True)
class MergeResult:
    branch: str
    target: str
    commits: int
    project: Path


def worktree_slug(name: str) -> str:
    slug = re.sub(r"-{2,}", "-", _UNSAFE.sub("-", name.strip().lower())).strip("-")
    slug = slug[:NAME_MAX].rstrip("-")
    if not slug:
        raise WorktreeError(f"`{name.strip()}` has no letters or digits to name a worktree with.")
    return slug


def worktree_path(data_dir: str | Path, project: str | Path, slug: str) -> Path:
    digest = hashlib.sha1(str(Path(project)).encode()).hexdigest()[:8]
    return Path(data_dir) / "worktrees" / digest / slug


def _resolved(path: str | Path) -> Path:
    return Path(path).resolve()


def _exists(path: str | Path) -> bool:
    return Path(path).exists()


async def _out(cwd: str | Path, *args: str) -> str | None:
    result = await git(cwd, *args)
    return result.out.strip() if result.ok else None


async def project_branches(project: str | Path) -> list[str]:
    """The project's local branches, most recently committed first (empty outside a repository)."""
    listed = await _out(
        project, "for-each-ref", "--sort=-committerdate", "--format=%(refname:short)", "refs/heads"
    )
    return listed.splitlines() if listed else []


async def create_worktree(
    project: str | Path, name: str, data_dir: str | Path, base_branch: str | None = None
) -> Worktree:
    """`git worktree add -b kimaki/<slug> <path> <base>` for the project's checkout; the base is
    `base_branch` when given, else what the project has checked out."""
    slug = worktree_slug(name)
    top = await _out(project, "rev-parse", "--show-toplevel")
    if top is None:
        raise WorktreeError(f"`{project}` is not a git repository, so it cannot have worktrees.")
    root = _resolved(top)
    if await _out(root, "rev-parse", "--verify", "--quiet", "HEAD") is None:
        raise WorktreeError("The project has no commits yet; commit something first to branch from.")
    base = "HEAD"
    if base_branch:
        if base_branch not in await project_branches(root):
            raise WorktreeError(f"The project has no branch `{base_branch}`; pick one of its branches.")
        base = f"refs/heads/{base_branch}"
    branch = BRANCH_PREFIX + slug
    path = worktree_path(data_dir, root, slug)
    branch_taken = await _out(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}") is not None
    if _exists(path) or branch_taken:
        taken = f"A worktree named `{slug}` (branch `{branch}`) exists already; pick another name."
        raise WorktreeError(taken)
    _resolved(path.parent).mkdir(parents=True, exist_ok=True)
    result = await git(root, "worktree", "add", "-q", "-b", branch, str(path), base)
    if not result.ok:
        raise WorktreeError(f"`git worktree add` failed: {result.detail()}")
    return Worktree(slug, branch, path, root)


async def main_checkout(directory: str | Path) -> Path | None:
    """The project's main checkout when `directory` is a linked worktree, else None."""
    paths = await _out(directory, "rev-parse", "--path-format=absolute", "--git-dir", "--git-common-dir")
    if paths is None or len(paths.splitlines()) != 2:
        return None
    git_dir, common = (_resolved(p) for p in paths.splitlines())
    if git_dir == common or common.name != ".git":
        return None
    return common.parent


async def _rebasing(directory: str | Path) -> bool:
    for name in ("rebase-merge", "rebase-apply"):
        found = await _out(directory, "rev-parse", "--path-format=absolute", "--git-path", name)
        if found and _exists(found):
            return True
    return False


async def _changes(directory: str | Path, *extra: str) -> list[str]:
    status = await git(directory, "status", "--porcelain", *extra)
    if not status.ok:
        raise WorktreeError(f"`git status` failed in `{directory}`: {status.detail()}")
    return [line[3:] for line in status.out.splitlines() if line.strip()]


def _listed(files: list[str]) -> str:
    shown = ", ".join(f"`{f}`" for f in files[:8])
    return shown + (f" and {len(files) - 8} more" if len(files) > 8 else "")


async def merge_worktree(directory: str | Path, target: str | None = None) -> MergeResult:
    """Rebase the worktree's branch onto `target` (default: the project's checked-out branch),
    then fast-forward `target` to it in the project's checkout."""
    project = await main_checkout(directory)
    if project is None:
        raise NotAWorktree("This thread does not run in a worktree (start one with /new-worktree).")
    if await _rebasing(directory):
        raise RebaseInProgress(
            "A rebase is still in progress in this worktree; finish it (`git rebase --continue`) first."
        )
    dirty = await _changes(directory)
    if dirty:
        raise DirtyWorktree(
            f"The worktree has uncommitted changes ({_listed(dirty)}). Commit them (you can ask the agent) "
            "or discard them, then run /merge-worktree again."
        )
    branch = await _out(directory, "symbolic-ref", "--short", "HEAD")
    target = target or await _out(project, "symbolic-ref", "--short", "HEAD")
    if branch is None or target is None:
        raise WorktreeError("The worktree or the project checkout is not on a branch (detached HEAD).")
    if await _changes(project, "--untracked-files=no"):
        raise TargetDirty(
            f"The project checkout `{project}` has uncommitted changes on `{target}`; commit or stash "
            "them first, then run /merge-worktree again."
        )
    count = await _out(directory, "rev-list", "--count", f"{target}..{branch}")
    if count is None:
        raise WorktreeError(f"Cannot compare `{branch}` with `{target}`.")
    if int(count) == 0:
        raise NothingToMerge(f"`{branch}` has no commits that `{target}` lacks; nothing to merge.")
    await _rebase(directory, branch, target)
    merged = await git(project, "merge", "--ff-only", "-q", branch)
    if not merged.ok:
        raise NotFastForward(f"`{target}` could not be fast-forwarded to `{branch}`: {merged.detail()}")
    return MergeResult(branch, target, int(count), project)


async def _rebase(directory: str | Path, branch: str, target: str) -> None:
    rebased = await git(directory, "rebase", target)
    if rebased.ok:
        return
    if await _rebasing(directory):
        conflicted = await _out(directory, "diff", "--name-only", "--diff-filter=U")
        raise RebaseConflict(branch, target, (conflicted or "").splitlines())
    raise WorktreeError(f"Rebasing `{branch}` onto `{target}` failed: {rebased.detail()}")


def conflict_prompt(conflict: RebaseConflict) -> str:
    """What the agent is asked when a merge stopped on conflicts."""
    files = "\n".join(f"- {f}" for f in conflict.files) or "- (see `git status`)"
    return (
        f"I tried to merge this worktree's branch `{conflict.branch}` into `{conflict.target}`, but "
        f"rebasing it onto `{conflict.target}` stopped on conflicts in:\n{files}\n\n"
        "Please resolve them:\n"
        "1. Run `git status` to see the rebase in progress.\n"
        "2. In each conflicted file, resolve the conflict markers, keeping the intent of both sides.\n"
        "3. `git add` each resolved file.\n"
        "4. Run `GIT_EDITOR=true git rebase --continue`; repeat for every commit that conflicts.\n"
        "5. Do not run `git rebase --abort` and do not commit unrelated changes.\n"
        "6. When the rebase is finished and `git status` is clean, tell me, so I can run "
        "/merge-worktree again."
    )
