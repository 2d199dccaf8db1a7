"""Threads in sandboxes: which channels sandbox their new threads, giving a new sandboxed thread its
worktree and sandbox, one event stream per running sandbox, resuming a paused one as soon as someone
writes in its thread, and pausing idle ones / destroying old paused ones.

`place` turns a new thread's project directory into its own git worktree (branch
`kimaki/sandbox-<thread>`) with a sandbox over it; the routed client then sends every call about
that worktree to the sandbox's server. Each (re)started sandbox server gets its own event stream,
connected before the call that started it goes on, feeding the same handler as the shared one.
A resume takes seconds (OpenCode's start, then its first prompt loads the provider catalog):
`activity` (someone is typing in the thread) begins it, and loads the catalog, before the message
arrives.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from kimaki_tui.core.api import SandboxRow
from kimaki_tui.core.sandbox_mode import SANDBOX_KEY, channel_sandbox_mode
from kimaki_tui.core.worktrees import create_worktree
from kimaki_tui.opencode.errors import OpenCodeError
from kimaki_tui.opencode.events import Event
from kimaki_tui.opencode.stream import EventStream
from kimaki_tui.sandbox.api import DestroyOutcome, RunningServer, SandboxError, SandboxSpec, SandboxState
from kimaki_tui.sandbox.registry import ServerRegistry
from kimaki_tui.sandbox.routing import RoutedClient
from kimaki_tui.settings.tree import SandboxMode, SandboxSettings
from kimaki_tui.store.repo import Store

log = logging.getLogger(__name__)

WIRED_MODES = frozenset({"none", "bwrap"})


class SandboxService:
    def __init__(
        self,
        store: Store,
        settings: SandboxSettings,
        data_dir: Path,
        *,
        registry: ServerRegistry | None = None,
        client: RoutedClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._settings = settings
        self._data_dir = data_dir
        self._registry = registry
        self._client = client
        self._clock = clock
        self._streams: dict[str, tuple[EventStream, asyncio.Task[None]]] = {}
        self._paused_at: dict[str, float] = {}
        self._paused: set[str] = set()  # paused by the sweep: starting them again is a resume
        self._directories: dict[str, str] = {}
        self._waking: dict[str, asyncio.Task[None]] = {}  # resumes begun by activity in the thread
        self.destroyed: list[DestroyOutcome] = []
        self._on_event: Callable[[Event], None] = lambda event: None
        self._on_connect: Callable[[], Awaitable[None]] | None = None
        self._announce: Callable[[str], None] = lambda thread_id: None
        self._in_use: Callable[[str], bool] = lambda thread_id: False
        if client is not None:
            client.on_resuming.append(self._resuming)
        if registry is not None:
            registry.on_started.append(self._connect)
            registry.on_stopping.append(self._disconnect)

    def follow(
        self,
        on_event: Callable[[Event], None],
        on_connect: Callable[[], Awaitable[None]],
        announce: Callable[[str], None],
        in_use: Callable[[str], bool] = lambda thread_id: False,
    ) -> None:
        """Where the sandboxes' events go (the core's handler, as for the shared server), who
        tells a thread (by id) that its paused sandbox is resuming, and whether a thread has work
        running or waiting (its sandbox is not idle then, however long since its last call)."""
        self._on_event, self._on_connect, self._announce = on_event, on_connect, announce
        self._in_use = in_use

    @property
    def available(self) -> bool:
        return self._registry is not None

    @property
    def backend(self) -> str | None:
        """What sandboxes threads here ("bwrap", "podman"); None when nothing can."""
        return self._registry.backend.name if self._registry is not None else None

    # -- per channel ------------------------------------------------------------------------------
    def mode(self, channel_id: str) -> SandboxMode:
        return channel_sandbox_mode(self._store, channel_id, self._settings.mode)

    def set_mode(self, channel_id: str, mode: SandboxMode | None) -> None:
        """Set the channel's sandbox mode for its new threads, persisted; None: the global default."""
        self._store.set_channel_setting(channel_id, SANDBOX_KEY, mode)

    # -- new threads ------------------------------------------------------------------------------
    async def place(self, thread_id: str, channel_id: str, directory: str) -> str:
        """The directory a new thread runs in: `directory` itself, or (sandboxed) its own worktree."""
        mode = self.mode(channel_id)
        if mode == "none" or self._registry is None or self._client is None:
            return directory
        worktree = await create_worktree(directory, f"sandbox-{thread_id}", self._data_dir)
        await self._open(thread_id, worktree.path)
        return str(worktree.path)

    async def adopt(self, threads: Iterable[tuple[str, str]]) -> int:
        """After a restart: reopen (paused) the sandboxes of the given (thread id, directory) pairs
        that ran in one, so their next call resumes them with their sessions. Returns how many."""
        if self._registry is None:
            return 0
        adopted = 0
        for thread_id, directory in threads:
            path = Path(directory)
            data_dir = self._data_dir / "sandboxes" / f"t{thread_id}"
            if path.name == f"sandbox-{thread_id}" and await asyncio.to_thread(_dirs, data_dir, path):
                await self._open(thread_id, path)
                self._paused.add(f"t{thread_id}")  # its first call is a resume
                adopted += 1
        return adopted

    async def _open(self, thread_id: str, worktree: Path) -> None:
        assert self._registry is not None and self._client is not None
        key = f"t{thread_id}"
        spec = SandboxSpec(
            key=key,
            worktree=worktree,
            data_dir=self._data_dir / "sandboxes" / key,
            network=self._settings.network == "on",
        )
        await self._registry.open(spec)
        self._client.route(worktree, key)
        self._directories[key] = str(worktree)

    # -- activity in a thread ---------------------------------------------------------------------
    def activity(self, thread_id: str) -> None:
        """Someone is writing in the thread: if its sandbox is paused, resume it now (in the
        background) so the message finds it running; if it runs, it is not idle. Nothing for
        other threads."""
        key = f"t{thread_id}"
        registry, directory = self._registry, self._directories.get(key)
        if registry is None or directory is None or key in self._waking or registry.handle(key) is None:
            return  # not sandboxed, already resuming, or destroyed
        if registry.running(key) is not None:
            registry.touch(key)
            return
        task = asyncio.create_task(self._wake(key, directory), name=f"sandbox-wake-{key}")
        self._waking[key] = task
        task.add_done_callback(lambda _: self._waking.pop(key, None))

    async def _wake(self, key: str, directory: str) -> None:
        assert self._client is not None  # a registry comes with its routed client
        try:
            # Through the routed client, as a message's first call would go: the same resume (one
            # notice, one start, its event stream). The provider catalog is the slowest part of
            # OpenCode's first prompt after a start (~1.5 s here); loading it now takes it off the
            # message's path.
            await self._client.providers(directory)
        except (OpenCodeError, SandboxError) as exc:
            log.info("sandbox %s did not resume ahead of its message: %s", key, exc)
        except Exception:  # a background task: its message will resume the sandbox itself
            log.exception("resuming sandbox %s ahead of its message failed", key)

    # -- idle pause, TTL destroy ------------------------------------------------------------------
    async def sweep(self) -> None:
        """Pause sandboxes idle longer than idle_minutes; destroy those paused longer than ttl_minutes."""
        if self._registry is None:
            return
        now = self._clock()
        idle, ttl = self._settings.idle_minutes * 60, self._settings.ttl_minutes * 60
        for key in [k for k in self._directories if self._registry.handle(k) is not None]:
            if self._registry.running(key) is not None:
                if self._in_use(key.removeprefix("t")):
                    continue  # a turn, a session being made or a queue: not idle
                self._paused.add(key)  # before pausing: a call may resume it at once
                if await self._registry.pause_if_idle(key, idle):
                    self._paused_at[key] = now
                    log.info("sandbox %s paused after %.0f s idle", key, idle)
                else:
                    self._paused.discard(key)
            elif now - self._paused_at.setdefault(key, now) >= ttl:
                await self._destroy(key)

    async def run(self, every: float | None = None) -> None:
        interval = every or max(0.05, min(self._settings.idle_minutes * 60, 60.0) / 4)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep()
            except Exception:  # a boundary: one failed sweep must not end the loop
                log.exception("sandbox sweep failed")

    async def rows(self) -> list[SandboxRow]:
        rows = []
        for key, directory in self._directories.items():
            state = await self._registry.state(key) if self._registry else SandboxState.DESTROYED
            rows.append(SandboxRow(key, key.removeprefix("t"), directory, state))
        return rows

    async def close(self) -> None:
        for task in list(self._waking.values()):
            task.cancel()
        await asyncio.gather(*self._waking.values(), return_exceptions=True)
        if self._registry is not None:
            await self._registry.aclose()
        for key in list(self._streams):
            await self._disconnect(key)

    # -- internals --------------------------------------------------------------------------------
    async def _resuming(self, key: str) -> None:
        if key in self._paused:
            self._paused.discard(key)
            self._announce(key.removeprefix("t"))

    async def _destroy(self, key: str) -> None:
        assert self._registry is not None and self._client is not None
        minutes = f"{self._settings.ttl_minutes:g}"
        reason = f"This thread's sandbox was removed after {minutes} minutes paused, with its session."
        self._client.retire(key, reason)  # first: no call may reach a sandbox being destroyed
        outcome = await self._registry.destroy(key)
        self._paused_at.pop(key, None)
        self.destroyed.append(outcome)
        if outcome.worktree_removed:
            log.info("sandbox %s destroyed with its worktree", key)
        else:
            log.warning("sandbox %s destroyed; its worktree is kept: %s", key, outcome.kept_reason)
            kept = f" Its worktree is kept at {self._directories[key]} ({outcome.kept_reason})."
            self._client.retire_directory(self._directories[key], reason + kept)

    async def _connect(self, key: str, server: RunningServer) -> None:
        await self._disconnect(key)
        registry = self._registry
        assert registry is not None

        def on_event(event: Event) -> None:
            registry.last_used[key] = self._clock()  # a running turn keeps its sandbox awake
            self._on_event(event)

        stream = EventStream(server.client, on_event, on_connect=self._on_connect)
        task = asyncio.create_task(stream.run(), name=f"opencode-events-{key}")
        self._streams[key] = (stream, task)
        self._paused_at.pop(key, None)
        if not await stream.wait_connected(30):
            log.warning("the event stream of sandbox %s did not connect in 30 s", key)

    async def _disconnect(self, key: str) -> None:
        entry = self._streams.pop(key, None)
        if entry is not None:
            entry[1].cancel()
            await asyncio.gather(entry[1], return_exceptions=True)


def _dirs(*paths: Path) -> bool:
    return all(path.is_dir() for path in paths)
