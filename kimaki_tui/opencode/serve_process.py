"""One spawned `opencode serve` child: its pipes read to the end (the last lines kept for error
messages), the URL it prints once listening, and ending it with every process it started.

The supervisor (supervisor.py) decides when to spawn, restart and give up; this is the process.
"""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from kimaki_tui.opencode.errors import OpenCodeNotInstalled, OpenCodeStartError, strip_ansi
from kimaki_tui.opencode.launcher import GracefulStop, LaunchCommand
from kimaki_tui.opencode.process import child_setup, descendants, end_marked, signal_group, signal_tree

log = logging.getLogger(__name__)

_LISTENING = re.compile(r"listening on (https?://\S+)")
_READ_LIMIT = 1 << 20


class ServeProcess:
    """Made by `spawn`. `output` is shared with the supervisor, which quotes it in its errors."""

    def __init__(
        self, proc: asyncio.subprocess.Process, output: deque[str], graceful_stop: GracefulStop, run_mark: str
    ) -> None:
        self._proc = proc
        self.output = output
        self._graceful_stop = graceful_stop
        self._run_mark = run_mark
        self._listening: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        assert proc.stdout is not None and proc.stderr is not None  # both are PIPEs
        self._readers = [
            asyncio.create_task(self._drain(proc.stdout, "stdout", self._on_stdout)),
            asyncio.create_task(self._drain(proc.stderr, "stderr", None)),
        ]

    @classmethod
    async def spawn(
        cls, launch: LaunchCommand, output: deque[str], graceful_stop: GracefulStop, run_mark: str
    ) -> ServeProcess:
        """Start the command in a process group of its own, which dies with this process."""
        try:
            proc = await asyncio.create_subprocess_exec(
                *launch.argv,
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=dict(launch.env), cwd=launch.cwd,
                start_new_session=True, preexec_fn=child_setup(), limit=_READ_LIMIT,
            )  # fmt: skip
        except (FileNotFoundError, PermissionError) as exc:
            raise OpenCodeNotInstalled(f"cannot run {launch.argv[0]}: {exc}.") from exc
        return cls(proc, output, graceful_stop, run_mark)

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode

    async def wait(self) -> int:
        return await self._proc.wait()

    def _on_stdout(self, line: str) -> None:
        match = _LISTENING.search(line)
        if match and not self._listening.done():
            self._listening.set_result(match.group(1))

    async def _drain(
        self, stream: asyncio.StreamReader, name: str, on_line: Callable[[str], None] | None
    ) -> None:
        """Read a pipe to its end so it never fills; keep the last lines for error messages."""
        while True:
            try:
                raw = await stream.readline()
            except ValueError:  # a line longer than the limit: drop the rest of it
                raw = await stream.read(_READ_LIMIT)
            if not raw:
                return
            line = strip_ansi(raw.decode(errors="replace")).rstrip()
            self.output.append(line)
            log.debug("opencode %s: %s", name, line)
            if on_line is not None:
                on_line(line)

    async def wait_listening(self, deadline: float, health_timeout: float) -> str:
        """The URL the server printed once listening; OpenCodeStartError if it exits or is late."""
        exited = asyncio.ensure_future(self._proc.wait())
        waiters: set[asyncio.Future[Any]] = {self._listening, exited}
        try:
            timeout = max(deadline - time.monotonic(), 0)
            done, _ = await asyncio.wait(waiters, timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            exited.cancel()
        if self._listening in done:
            return self._listening.result()
        if self._proc.returncode is not None:
            await self.join_readers()
            raise OpenCodeStartError(
                f"OpenCode exited with code {self._proc.returncode} while starting.", self.output
            )
        raise OpenCodeStartError(
            f"OpenCode did not report a listening port within {health_timeout:g} s.", self.output
        )

    async def kill(self, grace: float = 0.0) -> None:
        """SIGTERM the process group, SIGKILL after `grace`, then reap the leader and its pipes."""
        proc = self._proc
        # Snapshot first: once the server exits, its detached tools are reparented and lost.
        tree = descendants(proc.pid)
        if proc.returncode is None:
            first = signal.SIGTERM if grace else signal.SIGKILL
            # A sandbox wrapper would die at once on SIGTERM and take the server down with
            # SIGKILL; the server under it gets the SIGTERM instead, and the wrapper follows.
            if first == signal.SIGKILL or self._graceful_stop == "leader":
                signal_group(proc.pid, first)
            signal_tree(tree, first)
            try:
                await asyncio.wait_for(proc.wait(), grace or None)
            except TimeoutError:
                log.warning("opencode (pid %s) ignored SIGTERM for %g s; killing it", proc.pid, grace)
                signal_group(proc.pid, signal.SIGKILL)
                await proc.wait()
        signal_group(proc.pid, signal.SIGKILL)
        signal_tree(tree, signal.SIGKILL)
        end_marked(self._run_mark)  # any that left the tree before the snapshot
        await self.join_readers()

    async def join_readers(self) -> None:
        """Let the pipe readers take the last lines (at most 2 s), then stop them."""
        readers, self._readers = self._readers, []
        if readers:
            _, pending = await asyncio.wait(readers, timeout=2.0)
            for task in pending:
                task.cancel()
