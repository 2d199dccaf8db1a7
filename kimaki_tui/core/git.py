"""Run git without blocking the event loop: never prompts, never opens an editor."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from kimaki_tui.errors import KimakiError

# No credential prompts, no editors (rebase --continue, merge messages): kimaki has no terminal.
_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_EDITOR": "true", "GIT_SEQUENCE_EDITOR": "true", "LC_ALL": "C"}


class GitMissing(KimakiError, RuntimeError):
    """The git executable is not installed."""


@dataclass(frozen=True, slots=True)
class GitResult:
    code: int
    out: str
    err: str

    @property
    def ok(self) -> bool:
        return self.code == 0

    def detail(self) -> str:
        """The most useful line(s) of what git said, for an error message."""
        text = (self.err or self.out).strip()
        return text[-800:] if text else f"git exited with code {self.code}"


async def git(cwd: str | Path, *args: str, timeout: float = 120.0) -> GitResult:
    try:
        proc = await asyncio.create_subprocess_exec(
            "git",
            *args,
            cwd=str(cwd),
            env={**os.environ, **_ENV},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError as exc:
        raise GitMissing("git is not installed (or not on PATH).") from exc
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return GitResult(124, "", f"git {' '.join(args)} timed out after {timeout:g} s")
    assert proc.returncode is not None
    return GitResult(proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))
