"""A conversation's history: its messages, undo/redo (OpenCode revert), fork, compact and share.

OpenCode keeps reverted messages in GET /message until the next prompt deletes them, so every
view of the history here hides the messages from `session.revert.messageID` on. Undo steps back
one user turn; redo steps forward one, and unreverts when it reaches the end.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from kimaki_tui.core.api import HistoryError, ReplayPart, ResumePlan, RevertResult, UnknownThread, UserTurn
from kimaki_tui.core.session import SessionRuntime
from kimaki_tui.core.sessions import SessionRegistry
from kimaki_tui.errors import one_line
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.errors import OpenCodeBusy, OpenCodeError, OpenCodeHTTPError
from kimaki_tui.opencode.models import Message
from kimaki_tui.opencode.schema import ModelRef, Revert, SessionInfo

log = logging.getLogger(__name__)

FORK_CHOICES = 25
BUSY_RETRY_WAIT = 2.0
REPLAY_PARTS = 10  # answers shown again when a session is resumed in a new thread


def visible(messages: Sequence[Message], revert: Revert | None) -> list[Message]:
    """The messages before the revert point (all of them when nothing is reverted)."""
    return list(messages[: _index(messages, revert)])


def _index(messages: Sequence[Message], revert: Revert | None) -> int:
    target = revert.message_id if revert else None
    return next((i for i, message in enumerate(messages) if message.id == target), len(messages))


def turn_text(message: Message) -> str:
    """What the user typed: the message's non-synthetic text parts."""
    texts = [part.text for part in message.text_parts() if part.typed]
    return "\n".join(t for t in texts if t.strip()).strip()


def user_turns(
    messages: Sequence[Message], revert: Revert | None, limit: int = FORK_CHOICES
) -> list[UserTurn]:
    """The last `limit` visible user messages that have typed text, oldest first."""
    turns = [
        UserTurn(m.id, turn_text(m)) for m in visible(messages, revert) if m.info.is_user and turn_text(m)
    ]
    return turns[-limit:] if limit > 0 else []


def _user_ids(messages: Sequence[Message]) -> list[str]:
    return [m.id for m in messages if m.info.is_user]


def undo_target(messages: Sequence[Message], revert: Revert | None) -> str | None:
    """The user message to revert to: the last one before the current revert point."""
    ids = _user_ids(visible(messages, revert))
    return ids[-1] if ids else None


def redo_target(messages: Sequence[Message], revert: Revert | None) -> str | None:
    """The next user message after the revert point; None means unrevert (or nothing to redo)."""
    if not revert:
        return None
    boundary = _index(messages, revert)
    later = _user_ids(messages[boundary + 1 :])
    return later[0] if later else None


def assistant_texts(messages: Sequence[Message], limit: int = REPLAY_PARTS) -> tuple[ReplayPart, ...]:
    """The last `limit` visible text parts the assistant wrote, oldest first."""
    found = [
        ReplayPart(part.id, part.text.strip())
        for message in messages
        if message.info.is_assistant
        for part in message.text_parts()
        if part.typed and part.text.strip()
    ]
    return tuple(found[-limit:]) if limit > 0 else ()


def last_model(messages: Sequence[Message]) -> ModelRef | None:
    """The model the session used last (an answer's model, or the one a user message asked for)."""
    return next((m.info.model for m in reversed(messages) if m.info.model), None)


class HistoryService:
    """The history commands, by thread id, on one OpenCode client."""

    def __init__(self, client: OpenCodeClient, sessions: SessionRegistry) -> None:
        self._client = client
        self._sessions = sessions

    def _runtime(self, thread_id: str) -> SessionRuntime:
        runtime = self._sessions.get(thread_id)
        if runtime is None:
            raise UnknownThread(f"thread {thread_id} has no session in this kimaki instance")
        return runtime

    async def messages(self, thread_id: str, *, limit: int | None = None) -> list[Message]:
        """The session's messages (none while the thread has no session yet)."""
        runtime = self._runtime(thread_id)
        if runtime.session_id is None:
            return []
        return await self._client.messages(runtime.session_id, runtime.directory, limit=limit)

    async def _state(self, runtime: SessionRuntime) -> tuple[str, SessionInfo, list[Message]]:
        sid = _session(runtime)
        info = await self._client.get_session(sid, runtime.directory)
        return sid, info, await self._client.messages(sid, runtime.directory)

    async def undo(self, thread_id: str, *, by: str, origin: str) -> RevertResult:
        """Revert to before the last user turn, stopping a running answer first."""
        runtime = self._runtime(thread_id)
        if runtime.busy:
            await runtime.abort(by=by, origin=origin)
        sid, info, messages = await self._state(runtime)
        target = undo_target(messages, info.revert)
        if target is None:
            return RevertResult(False)
        reverted = await self._revert(runtime, sid, target)
        return RevertResult(True, _diff(reverted))

    async def redo(self, thread_id: str) -> RevertResult:
        runtime = self._runtime(thread_id)
        sid, info, messages = await self._state(runtime)
        if not info.revert:
            return RevertResult(False)
        target = redo_target(messages, info.revert)
        if target is None:
            await self._client.unrevert(sid, runtime.directory)
            return RevertResult(True, finished=True)
        reverted = await self._revert(runtime, sid, target)
        return RevertResult(True, _diff(reverted))

    async def _revert(self, runtime: SessionRuntime, sid: str, message_id: str) -> SessionInfo:
        try:
            return await self._client.revert(sid, runtime.directory, message_id)
        except OpenCodeBusy:
            # The abort has not settled on the server yet: one more try after a short wait.
            await asyncio.sleep(BUSY_RETRY_WAIT)
            return await self._client.revert(sid, runtime.directory, message_id)

    async def fork_choices(self, thread_id: str) -> list[UserTurn]:
        _sid, info, messages = await self._state(self._runtime(thread_id))
        return user_turns(messages, info.revert)

    async def fork(self, thread_id: str, message_id: str | None) -> ResumePlan:
        """A new session with the messages strictly before `message_id` (all when None)."""
        runtime = self._runtime(thread_id)
        info = await self._client.fork(_session(runtime), runtime.directory, message_id)
        messages = await self._client.messages(info.id, runtime.directory)
        return ResumePlan(info, runtime.directory, assistant_texts(messages, limit=1))

    async def fork_aside(self, thread_id: str) -> ResumePlan:
        """A copy of the whole session for a side question: its thread shows no history, and the
        original session (its running turn and queue) is left alone."""
        runtime = self._runtime(thread_id)
        info = await self._client.fork(_session(runtime), runtime.directory, None)
        return ResumePlan(info, runtime.directory, ())

    async def fork_into(self, thread_id: str, directory: str) -> ResumePlan:
        """A copy of the whole session, moved to `directory` (a git worktree: same OpenCode
        project). A fork keeps its parent's directory and a prompt's `?directory=` does not change
        where tools run, so the copy is moved with OpenCode's move-session route."""
        runtime = self._runtime(thread_id)
        info = await self._client.fork(_session(runtime), runtime.directory, None)
        try:
            await self._client.move_session(info.id, directory)
        except OpenCodeHTTPError as exc:  # 1.2 has no such route (it answers 500, not 404)
            await self._client.delete_session(info.id, runtime.directory)
            raise HistoryError(
                "This OpenCode cannot move a session into a worktree (it needs OpenCode 1.18 or "
                f"newer: {one_line(exc)}). Run /new-worktree in the channel to start fresh there."
            ) from None
        moved = await self._client.get_session(info.id, directory)
        return ResumePlan(moved, directory, ())

    async def compact(self, thread_id: str) -> ModelRef:
        """Summarize the session with its current model; returns the model used."""
        runtime = self._runtime(thread_id)
        if runtime.busy:
            raise HistoryError("The session is busy; wait for the answer to finish (or /abort) first.")
        sid, _info, messages = await self._state(runtime)
        model = runtime.preferences()[0] or last_model(messages) or await self._default_model(runtime)
        if model is None:
            raise HistoryError("No model is configured for this session, so it cannot be compacted.")
        await self._client.summarize(sid, runtime.directory, model.provider_id, model.model_id)
        return model

    async def _default_model(self, runtime: SessionRuntime) -> ModelRef | None:
        return (await self._client.config(runtime.directory)).model

    async def share(self, thread_id: str) -> str:
        """The session's public URL (sharing it if needed), or HistoryError saying why not."""
        runtime = self._runtime(thread_id)
        sid = _session(runtime)
        info = await self._client.get_session(sid, runtime.directory)
        if info.share_url:
            return info.share_url
        try:
            shared = await self._client.share(sid, runtime.directory)
        except OpenCodeHTTPError as exc:
            raise HistoryError(await self._share_refusal(runtime, exc)) from exc
        if not shared.share_url:
            raise HistoryError("OpenCode did not return a share link for this session.")
        return shared.share_url

    async def _share_refusal(self, runtime: SessionRuntime, exc: OpenCodeHTTPError) -> str:
        try:
            mode = (await self._client.config(runtime.directory)).share
        except OpenCodeError:
            mode = ""
        if mode == "disabled":
            return (
                'Sharing is turned off in OpenCode\'s configuration (`"share": "disabled"`). '
                'Set `"share": "manual"` in opencode.json to allow /share.'
            )
        log.warning("sharing a session failed: %s", exc)
        return (
            "OpenCode could not share this session: its share service is unreachable or refused "
            f"({exc.message or exc.name})."
        )


def _session(runtime: SessionRuntime) -> str:
    if runtime.session_id is None:
        raise HistoryError("No session in this thread yet — send a message first.")
    return runtime.session_id


def _diff(info: SessionInfo) -> str:
    return info.revert.diff if info.revert else ""
