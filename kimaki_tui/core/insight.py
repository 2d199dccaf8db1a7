"""What a conversation has cost and where the recent ones are: `/context-usage`, `/last-sessions`
and the control center read it here, from OpenCode's own record of the session (so the figures
survive a restart of kimaki)."""

from __future__ import annotations

from kimaki_tui.core.api import ConversationView, SessionUsage, UnknownThread
from kimaki_tui.core.server_info import ServerFacts
from kimaki_tui.core.sessions import SessionRegistry
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.models import MessageInfo


class InsightService:
    def __init__(self, client: OpenCodeClient, sessions: SessionRegistry, facts: ServerFacts) -> None:
        self._client = client
        self._sessions = sessions
        self._facts = facts

    async def usage(self, thread_id: str) -> SessionUsage | None:
        """None while the conversation has no answer yet."""
        runtime = self._sessions.get(thread_id)
        if runtime is None:
            raise UnknownThread(f"thread {thread_id} has no session in this kimaki instance")
        if runtime.session_id is None:
            return None
        messages = await self._client.messages(runtime.session_id, runtime.directory)
        answers = [m.info for m in messages if m.info.is_assistant]
        counted = [a for a in answers if a.tokens.total]
        if not counted:
            return None
        last = counted[-1]
        await self._facts.refresh(runtime.directory)
        return SessionUsage(
            session_id=runtime.session_id,
            context_tokens=_context_tokens(last),
            context_limit=self._facts.context_limit(last.provider_id, last.model_id),
            tokens_total=sum(a.tokens.total for a in answers),
            cost=sum(a.cost for a in answers),
            answers=len(answers),
            model=f"{last.provider_id}/{last.model_id}",
        )

    def recent(self, limit: int = 10) -> list[ConversationView]:
        """The conversations with a session, most recently active first, across every project."""
        views = [r.view() for r in self._sessions.all() if r.session_id is not None]
        return sorted(views, key=lambda v: v.last_activity, reverse=True)[:limit]


def _context_tokens(answer: MessageInfo) -> int:
    tokens = answer.tokens
    return tokens.input + tokens.cache_read + tokens.cache_write + tokens.output
