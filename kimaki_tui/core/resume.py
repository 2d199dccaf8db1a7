"""Reopening a project's OpenCode session in a new thread: which sessions can be resumed, and
what a resumed thread shows first (the session's last answers)."""

from __future__ import annotations

from kimaki_tui.core.api import ConversationView, ResumePlan
from kimaki_tui.core.history import assistant_texts
from kimaki_tui.core.sessions import SessionRegistry
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.errors import SessionNotFound
from kimaki_tui.opencode.schema import SessionInfo
from kimaki_tui.store.records import ThreadOrigin
from kimaki_tui.store.repo import Store

PAGE_FACTOR = 4  # sessions asked of OpenCode per free session wanted, at first


class ResumeService:
    def __init__(self, client: OpenCodeClient, store: Store, sessions: SessionRegistry) -> None:
        self._client = client
        self._store = store
        self._sessions = sessions

    async def candidates(self, directory: str, query: str = "", limit: int = 25) -> list[SessionInfo]:
        """The project's sessions no thread shows yet, newest first, whose title has `query` (or
        whose id is `query`).

        OpenCode returns its newest 100 sessions unless asked for more, and searches titles
        itself: the search goes to OpenCode, and the page grows until `limit` free sessions are
        found or the project has no more, so an old session of a long history is still found.
        """
        typed = query.strip()
        if typed.startswith("ses_"):
            return await self._by_id(typed, directory)
        page = limit * PAGE_FACTOR
        while True:
            sessions = await self._client.list_sessions(directory, limit=page, search=typed or None)
            bound = self._store.bound_sessions(info.id for info in sessions)
            newest = sorted(sessions, key=lambda s: s.updated, reverse=True)
            found = [info for info in newest if info.id not in bound]
            if len(found) >= limit or len(sessions) < page:
                return found[:limit]
            # Most are shown in threads already: ask for as many as the free share suggests.
            page = max(page * 2, limit * page * 3 // (2 * max(len(found), 1)))

    async def _by_id(self, session_id: str, directory: str) -> list[SessionInfo]:
        try:
            info = await self._client.get_session(session_id, directory)
        except SessionNotFound:
            return []
        if info.directory != directory or self._store.bound_sessions([info.id]):
            return []
        return [info]

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
