"""Permission and question brokers: pending requests any front end can list and answer.

The first answer wins; a later one gets "already answered". Every resolution is published on
the bus with who answered, from where and in which thread, so the other front ends update (the
Discord prompt is edited, the control center row disappears). Unanswered requests are rejected
after a timeout. Requests are persisted so a restart can expire what the new OpenCode process no
longer knows.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from kimaki_tui.core.api import AnswerResult
from kimaki_tui.core.bus import EventBus
from kimaki_tui.core.events import (
    PermissionReply,
    PermissionRequest,
    PermissionResolved,
    QuestionRequest,
    QuestionResolved,
)
from kimaki_tui.opencode.errors import OpenCodeError, OpenCodeNotFound
from kimaki_tui.store.records import PendingKind, PendingStatus
from kimaki_tui.store.repo import Store
from kimaki_tui.store.retry import WriteBehind

log = logging.getLogger(__name__)


class PermissionApi(Protocol):
    async def reply_permission(
        self,
        request_id: str,
        reply: PermissionReply,
        *,
        message: str | None = None,
        directory: str | None = None,
    ) -> bool: ...


class QuestionApi(Protocol):
    async def reply_question(
        self, request_id: str, answers: list[list[str]], directory: str | None = None
    ) -> bool: ...

    async def reject_question(self, request_id: str, directory: str | None = None) -> bool: ...


RequestT = TypeVar("RequestT", PermissionRequest, QuestionRequest)


@dataclass(slots=True)
class _Pending(Generic[RequestT]):
    request: RequestT
    directory: str | None
    thread_id: str | None
    timer: asyncio.TimerHandle | None = None


class _Broker(Generic[RequestT]):
    """Shared bookkeeping: pending map, expiry timers, first-answer-wins resolution."""

    kind: PendingKind = "permission"

    def __init__(self, bus: EventBus, store: Store | None, *, timeout: float = 600.0) -> None:
        self._bus = bus
        self._store = store
        self._timeout = timeout
        self._pending: dict[str, _Pending[RequestT]] = {}
        # session -> its pending request ids: a session's view asks on every redraw of a big list.
        self._by_session: dict[str, set[str]] = {}
        self._writes = WriteBehind(f"the {self.kind} records")  # a locked database delays them

    def _add(self, entry: _Pending[RequestT]) -> None:
        request = entry.request
        self._pending[request.request_id] = entry
        self._by_session.setdefault(request.session_id, set()).add(request.request_id)

    def register(self, request: RequestT, *, directory: str | None, thread_id: str | None) -> bool:
        """Track a new request; False if it was already known (resync after reconnect)."""
        if request.request_id in self._pending:
            return False
        entry = _Pending(request, directory, thread_id)
        if self._timeout > 0:
            entry.timer = asyncio.get_running_loop().call_later(
                self._timeout, lambda: asyncio.ensure_future(self.expire(request.request_id))
            )
        self._add(entry)
        if self._store is not None:
            save = functools.partial(
                self._store.save_pending,
                request.request_id,
                self.kind,
                request.session_id,
                _payload(request),
                thread_id=thread_id,
                asked_at=datetime.fromtimestamp(request.asked_at, UTC),
            )
            self._writes.write(save)
        return True

    def pending(self, session_id: str | None = None) -> list[RequestT]:
        """Pending requests (of one session, when given), newest first."""
        if session_id is None:
            items = [e.request for e in self._pending.values()]
        else:
            items = [self._pending[rid].request for rid in self._by_session.get(session_id, ())]
        return sorted(items, key=lambda r: r.asked_at, reverse=True)

    def get(self, request_id: str) -> RequestT | None:
        entry = self._pending.get(request_id)
        return entry.request if entry else None

    def thread_of(self, request_id: str) -> str | None:
        """The thread showing a request, pending or not (a resolved one is read from the store)."""
        entry = self._pending.get(request_id)
        if entry is not None and entry.thread_id is not None:
            return entry.thread_id
        row = self._store.get_pending(request_id) if self._store is not None else None
        return row.thread_id if row is not None else None

    def _claim(self, request_id: str) -> _Pending[RequestT] | None:
        entry = self._pending.pop(request_id, None)
        if entry is None:
            return None
        ids = self._by_session.get(entry.request.session_id)
        if ids is not None:
            ids.discard(request_id)
            if not ids:
                del self._by_session[entry.request.session_id]
        if entry.timer is not None:
            entry.timer.cancel()
        return entry

    def _restore(self, entry: _Pending[RequestT]) -> None:
        self._add(entry)

    def _record(self, request_id: str, status: PendingStatus, answer: Any, by: str) -> None:
        if self._store is not None:
            self._writes.write(functools.partial(self._store.resolve_pending, request_id, status, answer, by))

    async def _answer(
        self,
        request_id: str,
        call: Callable[[_Pending[RequestT]], Awaitable[object]],
        publish: Callable[[_Pending[RequestT]], None],
    ) -> AnswerResult:
        entry = self._claim(request_id)
        if entry is None:
            return AnswerResult("already_answered", "This request was already answered or has expired.")
        try:
            await call(entry)
        except OpenCodeNotFound:
            self._record(request_id, "answered", None, "opencode")
            return AnswerResult("already_answered", "OpenCode no longer waits for this answer.")
        except OpenCodeError as exc:
            self._restore(entry)
            log.warning("answering %s %s failed: %s", self.kind, request_id, exc)
            return AnswerResult("failed", f"Could not reach OpenCode: {exc}")
        publish(entry)
        log.info("%s %s answered", self.kind, request_id)
        return AnswerResult("answered")

    async def expire(self, request_id: str) -> None:
        """Reject a request nobody answered in time (subclasses know how)."""
        raise NotImplementedError

    def forget_all(self, reason_by: str) -> list[tuple[RequestT, str]]:
        """Drop every pending request (the OpenCode server restarted and lost them); each comes
        with the thread that showed it."""
        gone = [(e.request, self._thread(e)) for e in list(self._pending.values())]
        for request, _thread in gone:
            self._claim(request.request_id)
            self._record(request.request_id, "expired", None, reason_by)
        return gone

    def _thread(self, entry: _Pending[RequestT]) -> str:
        return entry.thread_id or self.thread_of(entry.request.request_id) or ""

    def close(self) -> None:
        self._writes.close()
        for entry in self._pending.values():
            if entry.timer is not None:
                entry.timer.cancel()


def _payload(request: PermissionRequest | QuestionRequest) -> dict[str, Any]:
    if isinstance(request, PermissionRequest):
        return {
            "permission": request.kind,
            "patterns": list(request.patterns),
            "always": list(request.always),
            "metadata": json.loads(json.dumps(request.metadata, default=str)),
        }
    return {"questions": json.loads(json.dumps(request.questions, default=str))}


class PermissionBroker(_Broker[PermissionRequest]):
    kind: PendingKind = "permission"

    def __init__(
        self, api: PermissionApi, bus: EventBus, store: Store | None, *, timeout: float = 600.0
    ) -> None:
        super().__init__(bus, store, timeout=timeout)
        self._api = api

    async def answer(
        self,
        request_id: str,
        reply: PermissionReply,
        *,
        by: str,
        origin: str,
        message: str | None = None,
        expired: bool = False,
    ) -> AnswerResult:
        async def call(entry: _Pending[PermissionRequest]) -> object:
            return await self._api.reply_permission(
                request_id, reply, message=message, directory=entry.directory
            )

        def publish(entry: _Pending[PermissionRequest]) -> None:
            self._record(request_id, "expired" if expired else "answered", reply, by)
            request = entry.request
            self._bus.publish(
                PermissionResolved(
                    request.session_id, request, reply, by, origin, expired, thread_id=self._thread(entry)
                )
            )

        return await self._answer(request_id, call, publish)

    async def expire(self, request_id: str) -> None:
        """Reject a request nobody answered in time, and say so."""
        await self.answer(request_id, "reject", by="timeout", origin="timeout", expired=True)

    def replied_elsewhere(self, request_id: str, reply: str) -> None:
        """OpenCode says the request was answered by a client other than ours (its own TUI, say)."""
        entry = self._claim(request_id)
        if entry is None:
            return
        value: PermissionReply = reply if reply in ("once", "always", "reject") else "reject"  # type: ignore[assignment]
        self._record(request_id, "answered", value, "opencode")
        request = entry.request
        self._bus.publish(
            PermissionResolved(
                request.session_id, request, value, "opencode", "opencode", thread_id=self._thread(entry)
            )
        )

    async def reject_session(self, session_id: str, *, by: str, origin: str) -> int:
        """Reject every pending request of a session (abort would otherwise leave them pending)."""
        count = 0
        for request in self.pending(session_id):
            if (await self.answer(request.request_id, "reject", by=by, origin=origin)).ok:
                count += 1
        return count


class QuestionBroker(_Broker[QuestionRequest]):
    kind: PendingKind = "question"

    def __init__(
        self, api: QuestionApi, bus: EventBus, store: Store | None, *, timeout: float = 600.0
    ) -> None:
        super().__init__(bus, store, timeout=timeout)
        self._api = api

    async def answer(
        self, request_id: str, answers: list[list[str]], *, by: str, origin: str
    ) -> AnswerResult:
        async def call(entry: _Pending[QuestionRequest]) -> object:
            return await self._api.reply_question(request_id, answers, directory=entry.directory)

        frozen = tuple(tuple(group) for group in answers)

        def publish(entry: _Pending[QuestionRequest]) -> None:
            self._record(request_id, "answered", answers, by)
            request = entry.request
            self._bus.publish(
                QuestionResolved(
                    request.session_id, request, frozen, by, origin, thread_id=self._thread(entry)
                )
            )

        return await self._answer(request_id, call, publish)

    async def reject(self, request_id: str, *, by: str, origin: str, expired: bool = False) -> AnswerResult:
        async def call(entry: _Pending[QuestionRequest]) -> object:
            return await self._api.reject_question(request_id, directory=entry.directory)

        def publish(entry: _Pending[QuestionRequest]) -> None:
            self._record(request_id, "expired" if expired else "answered", None, by)
            request = entry.request
            self._bus.publish(
                QuestionResolved(
                    request.session_id, request, None, by, origin, expired, thread_id=self._thread(entry)
                )
            )

        return await self._answer(request_id, call, publish)

    async def expire(self, request_id: str) -> None:
        await self.reject(request_id, by="timeout", origin="timeout", expired=True)

    def resolved_elsewhere(self, request_id: str, answers: tuple[tuple[str, ...], ...] | None) -> None:
        entry = self._claim(request_id)
        if entry is None:
            return
        self._record(request_id, "answered", answers, "opencode")
        request = entry.request
        self._bus.publish(
            QuestionResolved(
                request.session_id, request, answers, "opencode", "opencode", thread_id=self._thread(entry)
            )
        )

    async def reject_session(self, session_id: str, *, by: str, origin: str) -> int:
        count = 0
        for request in self.pending(session_id):
            if (await self.reject(request.request_id, by=by, origin=origin)).ok:
                count += 1
        return count
