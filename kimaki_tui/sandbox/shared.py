"""`--sandbox none`: every thread on the one shared OpenCode server, behind the same interface.

Starting returns the shared server (started if needed); pausing only marks the thread (the
server keeps serving the others); destroying removes the thread's worktree under the same
rule as the sandboxes (never with unmerged or uncommitted work). Network and limits cannot
be applied to a shared server, so a spec asking for them is refused.
"""

from __future__ import annotations

import asyncio

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
from kimaki_tui.sandbox.gitwork import remove_if_merged


class SharedBackend:
    name = "none"

    def __init__(self, server: OpenCodeSupervisor, *, base_branch: str | None = None) -> None:
        self._server = server
        self._base_branch = base_branch
        self._active: set[str] = set()
        self._destroyed: set[str] = set()

    async def create(self, spec: SandboxSpec) -> SandboxHandle:
        if not spec.network or spec.limits != Limits():
            raise SandboxError(
                "the shared OpenCode server cannot cut a thread's network or limit its resources.",
                "Use --sandbox bwrap (or podman) for that.",
            )
        if not await asyncio.to_thread(spec.worktree.is_dir):
            raise SandboxError(f"the worktree {spec.worktree} does not exist.")
        self._destroyed.discard(spec.key)
        return SandboxHandle(self.name, spec)

    async def start(self, handle: SandboxHandle) -> RunningServer:
        if handle.key in self._destroyed:
            raise SandboxError(f"sandbox {handle.key} was destroyed.")
        await self._server.start()  # a no-op wait when it already runs
        self._active.add(handle.key)
        return self._server

    async def stop(self, handle: SandboxHandle) -> None:
        self._active.discard(handle.key)

    async def destroy(self, handle: SandboxHandle) -> DestroyOutcome:
        self._active.discard(handle.key)
        self._destroyed.add(handle.key)
        removal = await remove_if_merged(handle.spec.worktree, self._base_branch)
        return DestroyOutcome(handle.key, False, removal.removed, removal.kept_reason)

    async def status(self, handle: SandboxHandle) -> SandboxState:
        if handle.key in self._destroyed:
            return SandboxState.DESTROYED
        if handle.key in self._active and self._server.healthy:
            return SandboxState.RUNNING
        return SandboxState.PAUSED

    async def aclose(self) -> None:
        """Nothing to stop: the shared server belongs to whoever built it."""
        self._active.clear()
