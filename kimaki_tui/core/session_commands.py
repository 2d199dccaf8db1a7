"""OpenCode's slash commands in a session: whether a prompt's text runs one (`command_of`: `/name`
of a command of the project — its own, the project's, an MCP prompt or a skill), and running them
(`CommandRuns`).

OpenCode's command route answers only when the whole turn is over; the turn is followed through
the event stream like a prompt's, so each command request runs as a task of its own, and a
failure is handed back to the session runtime.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from kimaki_tui.core.workflows import split_command
from kimaki_tui.logs import log_context
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.errors import OpenCodeError
from kimaki_tui.opencode.schema import ModelRef

log = logging.getLogger(__name__)

CommandFailed = Callable[[str, OpenCodeError], None]  # (session id, the error)


async def command_of(client: OpenCodeClient, directory: str, text: str) -> tuple[str, str] | None:
    """(name, arguments) when the text starts with `/name` of an OpenCode command of this
    project (its own, the project's, an MCP prompt or a skill); else None: a plain prompt."""
    wanted = split_command(text)
    if wanted is None:
        return None
    try:
        known = {c.name for c in await client.commands(directory)}
    except OpenCodeError as exc:
        log.warning("cannot list OpenCode's commands in %s: %s", directory, exc)
        return None
    return wanted if wanted[0] in known else None


class CommandRuns:
    """The OpenCode commands being run in one thread's session, each a task of its own."""

    def __init__(
        self, client: OpenCodeClient, thread_id: str, directory: str, on_failed: CommandFailed
    ) -> None:
        self._client = client
        self._thread_id = thread_id
        self._directory = directory
        self._on_failed = on_failed
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def tasks(self) -> tuple[asyncio.Task[None], ...]:
        return tuple(self._tasks)

    def start(
        self,
        session_id: str,
        name: str,
        arguments: str,
        *,
        agent: str | None,
        model: ModelRef | None,
        variant: str | None,
    ) -> None:
        """Run the command without waiting for it: its request lasts the whole turn."""
        run = self._run(session_id, name, arguments, agent=agent, model=model, variant=variant)
        task = asyncio.ensure_future(run)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self,
        session_id: str,
        name: str,
        arguments: str,
        *,
        agent: str | None,
        model: ModelRef | None,
        variant: str | None,
    ) -> None:
        with log_context(thread_id=self._thread_id, session_id=session_id):
            log.info("running OpenCode command /%s", name)
            try:
                await self._client.command(
                    session_id,
                    self._directory,
                    name,
                    arguments,
                    agent=agent,
                    model=model,
                    timeout=None,
                    variant=variant,
                )
            except OpenCodeError as exc:
                log.warning("OpenCode command /%s failed: %s", name, exc)
                self._on_failed(session_id, exc)
