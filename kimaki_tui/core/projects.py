"""Project folders: which ones may be projects at all (never `/` or a system directory), and new
projects: a safe folder name under the projects directory, created and `git init`ed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path, PurePosixPath, PureWindowsPath

from kimaki_tui.core.git import git
from kimaki_tui.errors import KimakiError

NAME_MAX = 64
_UNSAFE = re.compile(r"[^a-z0-9-]+")


# The agent gets a shell in its project: these would hand it the machine. /root is refused only
# when it is not the user's home; the pseudo-filesystems are refused with everything under them.
SYSTEM_DIRECTORIES = frozenset(
    ["/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/root", "/run",
     "/sbin", "/sys", "/usr", "/var"]
)  # fmt: skip
SYSTEM_TREES = ("/proc", "/sys", "/dev", "/boot", "/run")


def system_directory_problem(directory: str | Path, home: str | Path | None = None) -> str | None:
    """Why `directory` (absolute, resolved) cannot be a project, or None when it can."""
    path = Path(directory)
    text = str(path)
    home_path = Path(home) if home is not None else Path.home()
    if text == "/root" and home_path == path:
        return None
    inside = next((tree for tree in SYSTEM_TREES if path.is_relative_to(tree)), None)
    if text in SYSTEM_DIRECTORIES or inside is not None:
        what = "the root of the filesystem" if text == "/" else f"a system directory ({inside or text})"
        return (
            f"`{text}` is {what}: a project there would let the agent (and anyone who can talk to "
            "the bot) run commands on the whole system. Pick the folder of one project instead."
        )
    return None


class ProjectNameError(KimakiError, ValueError):
    """The name cannot be used for a new project; the message is meant for the user as is."""


def project_slug(name: str) -> str:
    """A folder name from what the user typed: lowercase letters, digits and single dashes.

    Paths are refused rather than cleaned up, so `../x` or `/tmp/x` never silently becomes a
    different folder than the user meant.
    """
    raw = name.strip()
    if not raw:
        raise ProjectNameError("Give the new project a name.")
    if PurePosixPath(raw).is_absolute() or PureWindowsPath(raw).is_absolute() or raw.startswith("~"):
        raise ProjectNameError(f"`{raw}` is a path; give a plain name (like `my-app`), not a path.")
    if "/" in raw or "\\" in raw or ".." in raw:
        raise ProjectNameError(
            f"`{raw}` is not a plain name: slashes and `..` are not allowed. "
            "The project is always created inside the projects folder."
        )
    slug = _UNSAFE.sub("-", raw.lower())
    slug = re.sub(r"-{2,}", "-", slug).strip("-")[:NAME_MAX].rstrip("-")
    if not slug:
        raise ProjectNameError(f"`{raw}` has no letters or digits to name a folder with.")
    return slug


def _make_folder(projects_dir: Path, slug: str) -> Path:
    root = projects_dir.expanduser().resolve()
    target = root / slug
    if target.exists():
        raise ProjectNameError(f"`{target}` already exists; pick another name (or use /add-project).")
    root.mkdir(parents=True, exist_ok=True)
    target.mkdir()
    return target


async def create_project(projects_dir: str | Path, name: str) -> Path:
    """Create `<projects_dir>/<slug>` and `git init` it. Refuses a folder that already exists."""
    target = _make_folder(Path(projects_dir), project_slug(name))
    try:
        result = await git(target, "init", "-q")
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    if not result.ok:
        shutil.rmtree(target, ignore_errors=True)
        raise ProjectNameError(f"`git init` failed in `{target}`: {result.detail()}")
    return target
