"""Reopening a project's OpenCode session in a new thread: which sessions can be resumed, and
what a resumed thread shows first (the session's last answers)."""

from __future__ import annotations

from kimaki_tui.core.api import ConversationView, ResumePlan
from kimaki_tui.core.history import assistant_texts
from kimaki_tui.core.sessions import SessionRegistry
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.schema import SessionInfo
from kimaki_tui.store.records import ThreadOrigin
from kimaki_tui.store.repo import Store


class ResumeService:
    def __init__(self, client: OpenCodeClient, store: Store, sessions: SessionRegistry) -> None:
        self._client = client
        self._store = store
        self._sessions = sessions

    async def candidates(self, directory: str, query: str = "", limit: int = 25) -> list[SessionInfo]:
        """The project's sessions no thread shows yet, newest first, whose title or id has `query`."""
        sessions = await self._client.list_sessions(directory)
        bound = {row.session_id for row in self._store.list_threads()}
        typed = query.strip().lower()
        found: list[SessionInfo] = []
        for info in sorted(sessions, key=lambda s: s.updated, reverse=True):
            if info.id in bound or (
                typed and typed not in info.title.lower() and typed not in info.id.lower()
            ):
                continue
            found.append(info)
            if len(found) == limit:
                break
        return found

    def bound_thread(self, session_id: str) -> str | None:
        """The thread already showing the session, if any."""
        row = self._store.thread_for_session(session_id)
        return None if row is None else row.thread_id

    async def load(self, session_id: str, directory: str) -> ResumePlan:
        info = await self._client.get_session(session_id, directory)
        messages = await self._client.messages(info.id, directory)
        return ResumePlan(info, directory, assistant_texts(messages))

    def bind(
        self, thread_id: str, channel_id: str, plan: ResumePlan, *, origin: ThreadOrigin
    ) -> ConversationView:
        """The new thread shows the plan's session from now on."""
        runtime = self._sessions.open(thread_id, channel_id, plan.directory, plan.session_id, origin)
        return runtime.view()
