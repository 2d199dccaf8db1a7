"""The part bubblewrap and podman share: one supervised `opencode serve` per sandbox, wrapped by
the backend's launcher, with its own HOME under the data dir.

Each sandbox's server is an `OpenCodeSupervisor` (health wait, restart on crash, no orphans,
version check) given the backend's launcher. A sandbox without network also gets a
`SocketBridge` and a private runtime directory holding the socket the bridge reaches.
Status comes from the world: running while its supervisor is up, destroyed once its data dir
is gone, paused otherwise (so a restarted kimaki sees its earlier sandboxes as paused).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kimaki_tui.opencode.launcher import ServeLauncher
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.sandbox.api import (
    DestroyOutcome,
    Limits,
    RunningServer,
    SandboxError,
    SandboxHandle,
    SandboxSpec,
    SandboxState,
)
from kimaki_tui.sandbox.bridge import SocketBridge
from kimaki_tui.sandbox.gitwork import remove_if_merged, shared_git_dir

log = logging.getLogger(__name__)

# Inside a sandbox without network, OpenCode listens here (its network namespace is its own).
SANDBOX_PORT = 4096
SOCKET_NAME = "opencode.sock"
_XDG = {
    "XDG_CONFIG_HOME": ".config",
    "XDG_DATA_HOME": ".local/share",
    "XDG_CACHE_HOME": ".cache",
    "XDG_STATE_HOME": ".local/state",
}


def sandbox_home(data_dir: Path) -> Path:
    return data_dir / "home"


def home_environment(data_dir: Path) -> dict[str, str]:
    """HOME and the XDG dirs of a sandbox: all under its data dir, so they outlive a pause."""
    home = sandbox_home(data_dir)
    return {"HOME": str(home), **{key: str(home / sub) for key, sub in _XDG.items()}, "TMPDIR": "/tmp"}


@dataclass(frozen=True, slots=True)
class LaunchContext:
    """What a launcher needs beyond the spec, known only when the sandbox starts."""

    spec: SandboxSpec
    git_dir: Path | None  # the repository's shared git dir (a linked worktree commits there)
    runtime_dir: Path | None  # network off: holds the socket the bridge reaches
    bridge_port: int | None


@dataclass(slots=True)
class _Running:
    handle: SandboxHandle
    supervisor: OpenCodeSupervisor
    bridge: SocketBridge | None
    runtime_dir: Path | None


class LocalBackend:
    """Base of the local process backends; subclasses build the launcher and vet limits."""

    name = "local"

    def __init__(
        self,
        *,
        binary: str | None = None,
        env: Mapping[str, str] | None = None,
        home_template: Path | None = None,
        base_branch: str | None = None,
        health_timeout: float = 60.0,
        log_level: str = "WARN",
    ) -> None:
        """`env`: extra variables for every server (provider keys, OPENCODE_CONFIG...);
        `home_template`: copied into a new sandbox's HOME (e.g. a prepared OpenCode config);
        `base_branch`: what "merged" means on destroy (default: the main worktree's branch)."""
        self._binary = binary
        self._env = dict(env or {})
        self._home_template = home_template
        self._base_branch = base_branch
        self._health_timeout = health_timeout
        self._log_level = log_level
        self._running: dict[str, _Running] = {}
        self._starting: dict[str, asyncio.Lock] = {}

    # -- for subclasses -------------------------------------------------------------------

    def check_limits(self, limits: Limits) -> None:
        """Raise SandboxError for a limit this backend cannot enforce."""

    def launcher(self, context: LaunchContext) -> ServeLauncher:
        raise NotImplementedError

    async def after_stop(self, handle: SandboxHandle) -> None:
        """Clean up what outlives the wrapper process (a container, for podman)."""

    # -- the SandboxBackend interface -----------------------------------------------------

    async def create(self, spec: SandboxSpec) -> SandboxHandle:
        if not await asyncio.to_thread(spec.worktree.is_dir):
            raise SandboxError(f"the worktree {spec.worktree} does not exist.")
        self.check_limits(spec.limits)
        await asyncio.to_thread(self._prepare_home, spec.data_dir)
        return SandboxHandle(self.name, spec)

    def _prepare_home(self, data_dir: Path) -> None:
        home = sandbox_home(data_dir)
        if not home.exists() and self._home_template is not None:
            shutil.copytree(self._home_template, home, symlinks=True)
        for name, path in home_environment(data_dir).items():
            if name != "TMPDIR":
                Path(path).mkdir(parents=True, exist_ok=True)

    async def start(self, handle: SandboxHandle) -> RunningServer:
        async with self._starting.setdefault(handle.key, asyncio.Lock()):  # one start per sandbox
            return await self._start(handle)

    async def _start(self, handle: SandboxHandle) -> RunningServer:
        running = self._running.get(handle.key)
        if running is not None and running.supervisor.status.state != "failed":
            await running.supervisor.wait_healthy()
            return running.supervisor
        await self.stop(handle)  # a server that gave up restarting is started anew
        if not await asyncio.to_thread(handle.spec.data_dir.is_dir):
            raise SandboxError(f"sandbox {handle.key} was destroyed (its data dir is gone).")
        running = await self._prepare(handle)
        self._running[handle.key] = running
        try:
            await running.supervisor.start()
        except BaseException:
            await self.stop(handle)
            raise
        return running.supervisor

    async def _prepare(self, handle: SandboxHandle) -> _Running:
        spec = handle.spec
        bridge: SocketBridge | None = None
        runtime_dir: Path | None = None
        if not spec.network:
            # Short, private and fresh: a unix socket path must fit in 108 bytes.
            runtime_dir = Path(tempfile.mkdtemp(prefix="kimaki-sbx-"))
            bridge = SocketBridge(runtime_dir / SOCKET_NAME)
            await bridge.start()
        git_dir = await shared_git_dir(spec.worktree)
        context = LaunchContext(spec, git_dir, runtime_dir, bridge.port if bridge else None)
        supervisor = OpenCodeSupervisor(
            binary=self._binary,
            env={**self._env, **home_environment(spec.data_dir)},
            cwd=spec.worktree,
            launcher=self.launcher(context),
            health_timeout=self._health_timeout,
            log_level=self._log_level,
        )
        return _Running(handle, supervisor, bridge, runtime_dir)

    async def stop(self, handle: SandboxHandle) -> None:
        running = self._running.pop(handle.key, None)
        if running is None:
            return
        try:
            await running.supervisor.aclose()
            await self.after_stop(handle)
        finally:
            if running.bridge is not None:
                await running.bridge.aclose()
            if running.runtime_dir is not None:
                shutil.rmtree(running.runtime_dir, ignore_errors=True)

    async def destroy(self, handle: SandboxHandle) -> DestroyOutcome:
        await self.stop(handle)
        data_removed = await asyncio.to_thread(_remove_tree, handle.spec.data_dir)
        removal = await remove_if_merged(handle.spec.worktree, self._base_branch)
        if removal.kept_reason:
            log.info("sandbox %s keeps its worktree: %s", handle.key, removal.kept_reason)
        return DestroyOutcome(handle.key, data_removed, removal.removed, removal.kept_reason)

    async def status(self, handle: SandboxHandle) -> SandboxState:
        running = self._running.get(handle.key)
        if running is not None and running.supervisor.status.state != "failed":
            return SandboxState.RUNNING
        if not await asyncio.to_thread(handle.spec.data_dir.exists):
            return SandboxState.DESTROYED
        return SandboxState.PAUSED

    def server(self, handle: SandboxHandle) -> OpenCodeSupervisor | None:
        """The supervisor of a running sandbox (for status lines and measurements)."""
        running = self._running.get(handle.key)
        return running.supervisor if running is not None else None

    async def aclose(self) -> None:
        for running in list(self._running.values()):
            try:
                await self.stop(running.handle)
            except Exception:
                log.exception("sandbox %s did not stop cleanly", running.handle.key)


def _remove_tree(path: Path) -> bool:
    """Remove a directory tree; False if there was none."""
    if not path.exists():
        return False
    shutil.rmtree(path)
    return True
