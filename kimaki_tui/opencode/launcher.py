"""How the supervisor turns `opencode serve` into a process: directly, or wrapped in a sandbox.

A `ServeLauncher` builds the command line, environment and working directory for each spawn
(the supervisor spawns again on every restart), maps the URL the server reports to the one
kimaki connects to (they differ when a bridge sits in between), and says where a graceful
SIGTERM must go: to the spawned process itself, or to the processes under it (a wrapper such
as bubblewrap that does not pass signals on, and takes its children down when it dies).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

# "leader": SIGTERM the spawned process (the server itself, or a wrapper that forwards it);
# "descendants": SIGTERM the processes under the spawned one (a wrapper that ignores it).
GracefulStop = Literal["leader", "descendants"]


@dataclass(frozen=True, slots=True)
class LaunchCommand:
    """What to execute for one spawn of the server."""

    argv: tuple[str, ...]
    env: Mapping[str, str]
    cwd: Path | None


class ServeLauncher(Protocol):
    @property
    def graceful_stop(self) -> GracefulStop: ...

    def command(
        self, binary: str, args: Sequence[str], env: Mapping[str, str], cwd: Path | None
    ) -> LaunchCommand:
        """The command for `binary args` (`opencode serve ...`) with `env` (already without
        kimaki's secrets, with the server password) in `cwd`."""
        ...

    def public_url(self, listening_url: str) -> str:
        """The URL kimaki uses for a server that printed `listening on <listening_url>`."""
        ...


class DirectLauncher:
    """Runs `opencode serve` as it is: the shared, unsandboxed server."""

    graceful_stop: GracefulStop = "leader"

    def command(
        self, binary: str, args: Sequence[str], env: Mapping[str, str], cwd: Path | None
    ) -> LaunchCommand:
        return LaunchCommand((binary, *args), dict(env), cwd)

    def public_url(self, listening_url: str) -> str:
        return listening_url
