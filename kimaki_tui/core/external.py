"""External session sync: a session started outside kimaki (`opencode` in a terminal, another
client of the same OpenCode server) in a linked project's folder gets a Discord thread that
follows its output.

The rules:
- a session is a candidate when it becomes busy (`session.status` busy) and no thread shows it:
  kimaki maps its own sessions to their thread before it sends their first prompt, and a fork
  kimaki makes is bound before it is ever prompted, so neither can be busy unmapped;
- its folder is a linked project's folder or below one (the nearest linked folder's channel);
- it has no parent (a subagent's session shows inside its parent's thread);
- each session is offered once per run (`ExternalSessionFound` on the bus; the bot makes the
  thread and calls `attach`), and never when a thread already shows it, so nothing is duplicated;
  the mapping is stored (origin "external"), so a restart does not offer it again;
- `sessions.disable_sync` (`--disable-sync`) turns it off.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from kimaki_tui.core.api import ConversationView
from kimaki_tui.core.bus import EventBus
from kimaki_tui.core.events import ExternalSessionFound
from kimaki_tui.core.sessions import SessionRegistry
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.errors import OpenCodeError
from kimaki_tui.opencode.events import Event, SessionStatus
from kimaki_tui.store.repo import Store

log = logging.getLogger(__name__)


class ExternalSessions:
    def __init__(
        self, client: OpenCodeClient, store: Store, sessions: SessionRegistry, bus: EventBus, *, enabled: bool
    ) -> None:
        self._client = client
        self._store = store
        self._sessions = sessions
        self._bus = bus
        self.enabled = enabled
        self._offered: set[str] = set()
        self._checks: set[asyncio.Task[None]] = set()

    def handle_event(self, event: Event) -> None:
        if not self.enabled or not isinstance(event, SessionStatus) or event.status != "busy":
            return
        sid, directory = event.session_id, event.directory
        if sid is None or directory is None or sid in self._offered or self._shown(sid):
            return
        channel_id = self._channel_for(directory)
        if channel_id is None:
            return
        self._offered.add(sid)
        task = asyncio.get_running_loop().create_task(self._check(sid, directory, channel_id))
        self._checks.add(task)
        task.add_done_callback(self._checks.discard)

    def _shown(self, session_id: str) -> bool:
        return self._sessions.for_session(session_id) is not None or bool(
            self._store.thread_for_session(session_id)
        )

    def _channel_for(self, directory: str) -> str | None:
        """The channel of the nearest linked folder at or above `directory`."""
        links = {link.directory: link.channel_id for link in self._store.list_channels()}
        path = Path(directory)
        for folder in (path, *path.parents):
            if str(folder) in links:
                return links[str(folder)]
        return None

    async def _check(self, session_id: str, directory: str, channel_id: str) -> None:
        try:
            info = await self._client.get_session(session_id, directory)
            if info.parent_id or self._shown(session_id):
                return
            messages = await self._client.messages(session_id, directory)
        except OpenCodeError as exc:
            log.warning("external session %s: cannot read it (%s)", session_id, exc)
            return
        users = [m for m in messages if m.info.is_user]
        prompt = "\n".join(p.text for p in users[-1].text_parts() if p.typed) if users else ""
        log.info("external session %s in %s: offering it a thread", session_id, directory)
        self._bus.publish(ExternalSessionFound(session_id, directory, channel_id, info.title, prompt))

    async def attach(self, thread_id: str, found: ExternalSessionFound) -> ConversationView | None:
        """The thread made for `found` shows its session from now on (None: another thread already
        does). A turn running now is replayed as running, so its output follows."""
        if self._store.thread_for_session(found.session_id):
            return None
        runtime = self._sessions.open(
            thread_id, found.channel_id, found.directory, found.session_id, origin="external"
        )
        statuses = await self._client.session_status(found.directory)
        status = statuses.get(found.session_id)
        if status is not None:
            runtime.handle_event(SessionStatus("session.status", found.session_id, status.type))
        return runtime.view()

    async def close(self) -> None:
        for task in list(self._checks):
            task.cancel()
        await asyncio.gather(*self._checks, return_exceptions=True)
