"""The registry of session runtimes: one per thread, fed by the single OpenCode event stream.

Routes each event to the runtime owning its session, resyncs after the stream reconnects
(status, pending permissions and questions) so nothing is missed, and reports in-flight turns
as failed when the OpenCode server restarted under them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import cast

from kimaki_tui.core.events import BY_SERVER_RESTART, PermissionResolved, QuestionResolved
from kimaki_tui.core.session import SessionRuntime
from kimaki_tui.core.session_deps import CoreDeps
from kimaki_tui.core.session_setup import SessionSetup
from kimaki_tui.opencode.errors import OpenCodeError
from kimaki_tui.opencode.events import Event, SessionIdle, SessionStatus, parse_event
from kimaki_tui.opencode.pending import PendingPermission, PendingQuestion
from kimaki_tui.store.records import THREAD_ORIGINS, ThreadOrigin

log = logging.getLogger(__name__)


class SessionRegistry:
    def __init__(self, deps: CoreDeps) -> None:
        self._deps = deps
        self._by_thread: dict[str, SessionRuntime] = {}
        self._by_session: dict[str, SessionRuntime] = {}
        self._indexed: dict[str, str] = {}  # thread -> the session id it is indexed under

    def load(self) -> int:
        """Create runtimes for every thread mapped in the store (cheap: no I/O to OpenCode; the
        queue lengths come from one query)."""
        store = self._deps.store
        queued = store.queue_lengths()
        for row in store.list_threads():
            runtime = self._add(
                row.thread_id, row.channel_id, row.directory, row.session_id, _origin(row.origin)
            )
            runtime.know_queue_length(queued.get(row.thread_id, 0))
        return len(self._by_thread)

    def _add(
        self,
        thread_id: str,
        channel_id: str,
        directory: str,
        session_id: str | None,
        origin: ThreadOrigin,
        setup: SessionSetup | None = None,
    ) -> SessionRuntime:
        runtime = SessionRuntime(
            self._deps,
            thread_id=thread_id,
            channel_id=channel_id,
            directory=directory,
            session_id=session_id,
            origin=origin,
            on_session=self._index,
            setup=setup,
        )
        self._by_thread[thread_id] = runtime
        self._index(runtime)
        return runtime

    def _index(self, runtime: SessionRuntime) -> None:
        """Route the runtime's session to it (and no longer its previous session)."""
        previous = self._indexed.pop(runtime.thread_id, None)
        if (
            previous is not None
            and previous != runtime.session_id
            and self._by_session.get(previous) is runtime
        ):
            del self._by_session[previous]
        if runtime.session_id:
            self._by_session[runtime.session_id] = runtime
            self._indexed[runtime.thread_id] = runtime.session_id

    def open(
        self,
        thread_id: str,
        channel_id: str,
        directory: str,
        session_id: str | None = None,
        origin: ThreadOrigin = "discord",
        setup: SessionSetup | None = None,
    ) -> SessionRuntime:
        """The runtime for a thread, created (and mapped to `session_id` if given) when new; `setup`
        applies to the session it creates."""
        runtime = self._by_thread.get(thread_id)
        if runtime is not None:
            return runtime
        if session_id is not None:
            self._deps.store.map_thread(thread_id, session_id, channel_id, directory, origin)
        return self._add(thread_id, channel_id, directory, session_id, origin, setup)

    def get(self, thread_id: str) -> SessionRuntime | None:
        return self._by_thread.get(thread_id)

    def for_session(self, session_id: str) -> SessionRuntime | None:
        return self._by_session.get(session_id)

    def all(self) -> list[SessionRuntime]:
        return list(self._by_thread.values())

    def forget(self, thread_id: str) -> None:
        runtime = self._by_thread.pop(thread_id, None)
        self._indexed.pop(thread_id, None)
        sid = runtime.session_id if runtime is not None else None
        if sid and self._by_session.get(sid) is runtime:
            del self._by_session[sid]

    # ---- event stream hooks ---------------------------------------------------------------
    def handle_event(self, event: Event) -> None:
        sid = event.session_id
        if sid is None:
            return
        runtime = self._by_session.get(sid)
        if runtime is not None:
            runtime.handle_event(event)

    async def resync(self) -> None:
        """After a (re)connect: catch up on status and pending requests missed while offline."""
        by_directory: dict[str, list[SessionRuntime]] = {}
        for runtime in self._by_thread.values():
            if runtime.session_id:
                by_directory.setdefault(runtime.directory, []).append(runtime)
        queued = set(self._deps.store.queue_lengths())
        for directory in sorted(by_directory):
            try:
                await self._resync_directory(directory, by_directory[directory], queued)
            except OpenCodeError as exc:
                log.warning("resync of %s failed: %s", directory, exc)

    async def _resync_directory(
        self, directory: str, runtimes: list[SessionRuntime], queued: set[str]
    ) -> None:
        client = self._deps.client
        statuses = await client.session_status(directory)
        for runtime in runtimes:
            sid = runtime.session_id
            if not sid:
                continue
            if sid in statuses and not runtime.busy:
                # A turn is running that we did not see start (we restarted meanwhile).
                runtime.handle_event(SessionStatus("session.status", sid, statuses[sid].type))
            elif sid not in statuses and runtime.busy:
                # The turn ended while we were not listening: replay the end so the queue drains.
                runtime.assume_turn_started()
                runtime.handle_event(SessionStatus("session.status", sid, "idle"))
                runtime.handle_event(SessionIdle("session.idle", sid))
            if runtime.thread_id in queued:
                runtime.resume_queue()
        known = {r.request_id for r in self._deps.permissions.pending()}
        live_permissions = await client.list_permissions(directory)
        self._replay(live_permissions, "permission.asked", known)
        known_q = {r.request_id for r in self._deps.questions.pending()}
        live_questions = await client.list_questions(directory)
        self._replay(live_questions, "question.asked", known_q)
        sessions = {r.session_id for r in runtimes if r.session_id}
        self._drop_vanished(sessions, {p.id for p in live_permissions}, {q.id for q in live_questions})

    def _replay(
        self, requests: Sequence[PendingPermission | PendingQuestion], event_type: str, known: set[str]
    ) -> None:
        for request in requests:
            if request.id in known:
                continue
            # The listed request has the event's shape: replayed through the one event parser.
            self.handle_event(parse_event({"type": event_type, "properties": request.raw}))

    def _drop_vanished(
        self, sessions: set[str], live_permissions: set[str], live_questions: set[str]
    ) -> None:
        for request in self._deps.permissions.pending():
            if request.session_id in sessions and request.request_id not in live_permissions:
                self._deps.permissions.replied_elsewhere(request.request_id, "reject")
        for question in self._deps.questions.pending():
            if question.session_id in sessions and question.request_id not in live_questions:
                self._deps.questions.resolved_elsewhere(question.request_id, None)

    def server_restarted(self) -> None:
        """OpenCode restarted: running turns and pending requests died with the old process."""
        bus = self._deps.bus
        by = BY_SERVER_RESTART
        for request, thread_id in self._deps.permissions.forget_all(by):
            sid = request.session_id
            bus.publish(PermissionResolved(sid, request, "reject", by, "opencode", True, thread_id=thread_id))
        for question, thread_id in self._deps.questions.forget_all(by):
            sid = question.session_id
            bus.publish(QuestionResolved(sid, question, None, by, "opencode", True, thread_id=thread_id))
        for runtime in self._by_thread.values():
            runtime.fail_turn("ServerRestarted", "OpenCode stopped during this turn and was restarted.")

    async def close(self) -> None:
        for runtime in self._by_thread.values():
            await runtime.close()


def _origin(text: str) -> ThreadOrigin:
    """A stored origin (a row from an older kimaki may carry one no longer known)."""
    return cast("ThreadOrigin", text) if text in THREAD_ORIGINS else "discord"
