"""Follow a prompt the CLI posted until the running kimaki has answered it.

The running kimaki (its control API on the lock port) says which session a thread maps to and
whether that session is idle; its OpenCode server (credentials from the same API) holds the
messages. A turn is over when the session has more user messages than before the prompt was
posted, the runtime is idle (nothing queued or running) and the last message is a finished
assistant reply.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kimaki_tui.cli.local import CliError

if TYPE_CHECKING:
    from kimaki_tui.control_api import ControlClient
    from kimaki_tui.core.offline import SessionReader
    from kimaki_tui.opencode.models import Message

POLL = 0.5
PICKUP_TIMEOUT = 60.0
ANSWER_TIMEOUT = 3600.0


@dataclass(frozen=True, slots=True)
class ThreadState:
    thread_id: str
    session_id: str | None
    directory: str
    state: str


@dataclass(frozen=True, slots=True)
class Answer:
    session_id: str
    messages: list[Message]  # from the prompt's user message on
    failed: bool


async def thread_state(control: ControlClient, thread_id: str) -> ThreadState | None:
    for row in await control.sessions():
        if str(row.get("thread_id")) == thread_id:
            sid = row.get("session_id")
            return ThreadState(
                thread_id, str(sid) if sid else None, str(row.get("directory", "")), str(row.get("state"))
            )
    return None


async def user_messages(client: SessionReader, state: ThreadState | None) -> int:
    """How many user messages the thread's session has now (0 without a session yet)."""
    if state is None or state.session_id is None:
        return 0
    messages = await client.messages(state.session_id, state.directory)
    return sum(1 for m in messages if m.info.is_user)


async def wait_for_session(
    control: ControlClient, thread_id: str, timeout: float = PICKUP_TIMEOUT
) -> ThreadState:
    """The thread's state once the running kimaki has a session for it."""
    deadline = time.monotonic() + timeout
    while True:
        state = await thread_state(control, thread_id)
        if state is not None and state.session_id:
            return state
        if time.monotonic() > deadline:
            raise CliError(
                f"the running kimaki did not start a session for thread {thread_id} within {timeout:g} s "
                "(is the channel linked to a project on this machine?)"
            )
        await asyncio.sleep(POLL)


async def wait_for_answer(
    control: ControlClient,
    client: SessionReader,
    thread_id: str,
    users_before: int,
    *,
    timeout: float = ANSWER_TIMEOUT,
) -> Answer:
    state = await wait_for_session(control, thread_id)
    deadline = time.monotonic() + timeout
    while True:
        current = await thread_state(control, thread_id) or state
        session_id = current.session_id or state.session_id
        assert session_id is not None
        messages = await client.messages(session_id, current.directory)
        users = [i for i, m in enumerate(messages) if m.info.is_user]
        finished = bool(messages) and messages[-1].info.finished
        if len(users) > users_before and current.state in ("idle", "error") and finished:
            failed = current.state == "error" or messages[-1].info.error is not None
            return Answer(session_id, messages[users[users_before] :], failed)
        if time.monotonic() > deadline:
            raise CliError(f"no answer in thread {thread_id} within {timeout:g} s")
        await asyncio.sleep(POLL)
