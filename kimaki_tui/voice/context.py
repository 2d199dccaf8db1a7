"""The project's file tree as transcription context, so spoken file and function names come out
spelled as in the project: `git ls-files` (tracked plus untracked, not ignored) rendered as an
indented tree and trimmed to a character budget — deep folders collapse to a file count first, then
the listing is cut. Not a git repository: a bounded walk that skips hidden and vendored folders.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_BUDGET = 8000  # characters; ~2k tokens next to the audio's ~32 tokens per second
MAX_FILES = 20_000
PER_FOLDER = 40  # entries shown per folder before "… N more"
_SKIPPED = frozenset({"node_modules", "__pycache__", "venv", "dist", "build", "target"})


@dataclass
class _Folder:
    folders: dict[str, _Folder] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def count(self) -> int:
        return len(self.files) + sum(f.count() for f in self.folders.values())

    def depth(self) -> int:
        return 1 + max((f.depth() for f in self.folders.values()), default=0)


async def project_tree(directory: str | Path, *, budget: int = DEFAULT_BUDGET, timeout: float = 5.0) -> str:
    """The tree of `directory`'s files within `budget` characters ("" when there are none)."""
    paths = await _git_files(Path(directory), timeout)
    if paths is None:
        paths = await asyncio.to_thread(_walk_files, Path(directory))
    return render_tree(paths, budget)


async def _git_files(directory: Path, timeout: float) -> list[str] | None:
    try:
        process = await asyncio.create_subprocess_exec(
            "git", "-C", str(directory), "ls-files", "-z", "--cached", "--others", "--exclude-standard",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
    except OSError as exc:  # git not installed
        log.debug("git ls-files unavailable: %s", exc)
        return None
    try:
        async with asyncio.timeout(timeout):
            out, _ = await process.communicate()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        log.warning("git ls-files in %s took over %.0f s; using a folder walk", directory, timeout)
        return None
    if process.returncode != 0:
        return None
    names = out.decode("utf-8", errors="replace").split("\0")
    return sorted(dict.fromkeys(n for n in names if n))[:MAX_FILES]


def _walk_files(directory: Path) -> list[str]:
    found: list[str] = []
    for root, folders, files in os.walk(directory):
        folders[:] = sorted(d for d in folders if not d.startswith(".") and d not in _SKIPPED)
        base = Path(root).relative_to(directory)
        found += [str(base / name) if base.parts else name for name in sorted(files)]
        if len(found) >= MAX_FILES:
            break
    return found[:MAX_FILES]


def build(paths: Iterable[str]) -> _Folder:
    root = _Folder()
    for path in paths:
        *parts, name = path.strip("/").split("/")
        folder = root
        for part in parts:
            folder = folder.folders.setdefault(part, _Folder())
        folder.files.append(name)
    return root


def render_tree(paths: Iterable[str], budget: int = DEFAULT_BUDGET) -> str:
    """An indented listing (folders end with "/"): the deepest levels that fit the budget are shown,
    deeper folders as "name/ (N files)"; if even one level is too long, it is cut with a count."""
    root = build(paths)
    if not root.files and not root.folders:
        return ""
    for depth in range(root.depth(), 0, -1):
        lines = _lines(root, depth, 0)
        text = "\n".join(lines)
        if len(text) <= budget:
            return text
    kept: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > budget - 40:
            break
        kept.append(line)
        used += len(line) + 1
    kept.append(f"… ({len(lines) - len(kept)} more entries)")
    return "\n".join(kept)


def _lines(folder: _Folder, depth: int, level: int) -> list[str]:
    indent = "  " * level
    entries: list[str] = []
    for name, child in sorted(folder.folders.items()):
        if depth <= 1:
            entries.append(f"{indent}{name}/ ({child.count()} files)")
        else:
            entries.append(f"{indent}{name}/")
            entries += _lines(child, depth - 1, level + 1)
    shown = sorted(folder.files)
    extra = len(shown) - PER_FOLDER
    entries += [f"{indent}{name}" for name in shown[:PER_FOLDER]]
    if extra > 0:
        entries.append(f"{indent}… {extra} more files")
    return entries
